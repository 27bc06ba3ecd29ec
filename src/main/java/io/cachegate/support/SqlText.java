package io.cachegate.support;

/** Quoting for the SQL the installers build (names and literals that cannot be bound parameters). */
public final class SqlText {

  private SqlText() {}

  /** A quoted identifier: {@code "name"}, embedded quotes doubled. */
  public static String ident(String s) {
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }

  /** A string literal: {@code 'text'}, embedded quotes doubled. */
  public static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
