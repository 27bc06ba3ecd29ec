package io.cachegate.capture.wal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes the messages of PostgreSQL's {@code pgoutput} logical decoding plugin, protocol version 1
 * (PostgreSQL 10 and later; "Logical Replication Message Formats" in the PostgreSQL manual). Plain
 * logic, no I/O: one {@link ByteBuffer} (the payload of one XLogData message) in, one {@link Message}
 * out. Messages this gateway has no use for (Origin, Type, logical decoding messages) decode to
 * {@link Skipped}; an unknown or truncated message throws {@link IllegalArgumentException}, naming it.
 */
public final class PgOutput {

  private PgOutput() {}

  /** One decoded message. */
  public sealed interface Message permits Begin, Commit, Relation, Insert, Update, Delete, Truncate, Skipped {}

  /** A transaction starts; {@code finalLsn} is its commit record's position. */
  public record Begin(long finalLsn, long commitMicros, int xid) implements Message {}

  /** The transaction ended; {@code endLsn} is the position to confirm once it is applied. */
  public record Commit(long commitLsn, long endLsn, long commitMicros) implements Message {}

  /** A column of a relation; {@code key} when it is part of the replica identity. */
  public record Column(String name, int typeOid, boolean key) {}

  /** A table's description, sent before its first change in a session and after a schema change. */
  public record Relation(int id, String namespace, String name, char replicaIdentity, List<Column> columns) implements Message {
    /** {@code schema.table}, as {@code regclass::text} would spell a table outside the search path. */
    public String qualifiedName() {
      return namespace + "." + name;
    }
  }

  /**
   * One row as pgoutput sends it: per column, its text, or null for SQL NULL, or {@link #UNCHANGED}
   * for a TOASTed value the update did not change (its value is not sent).
   */
  public record Tuple(String[] values) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Tuple t && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return Arrays.toString(values);
    }
  }

  /**
   * The marker of an unchanged TOASTed value. Compared by identity, never by content: no column's
   * text can be mistaken for it.
   */
  @SuppressWarnings("StringOperationCanBeSimplified")
  public static final String UNCHANGED = new String("<unchanged toast>");

  public record Insert(int relationId, Tuple row) implements Message {}

  /**
   * {@code old} is null unless the replica identity is FULL ({@code 'O'}) or the key changed
   * ({@code 'K'}: the key columns only, the others null).
   */
  public record Update(int relationId, Tuple old, boolean oldIsKeyOnly, Tuple row) implements Message {}

  /** {@code old} holds the key columns ({@code oldIsKeyOnly}) or, with REPLICA IDENTITY FULL, the whole row. */
  public record Delete(int relationId, Tuple old, boolean oldIsKeyOnly) implements Message {}

  public record Truncate(int[] relationIds, boolean cascade, boolean restartIdentity) implements Message {
    @Override
    public boolean equals(Object o) {
      return o instanceof Truncate t && Arrays.equals(relationIds, t.relationIds) && cascade == t.cascade && restartIdentity == t.restartIdentity;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(relationIds);
    }

    @Override
    public String toString() {
      return "Truncate" + Arrays.toString(relationIds);
    }
  }

  /** Origin, Type and logical decoding messages: nothing to invalidate. */
  public record Skipped(char type) implements Message {}

  public static Message decode(ByteBuffer b) {
    if (!b.hasRemaining()) throw new IllegalArgumentException("empty pgoutput message");
    char type = (char) b.get();
    try {
      return switch (type) {
        case 'B' -> new Begin(b.getLong(), b.getLong(), b.getInt());
        case 'C' -> {
          b.get(); // flags, unused
          yield new Commit(b.getLong(), b.getLong(), b.getLong());
        }
        case 'R' -> relation(b);
        case 'I' -> {
          int rel = b.getInt();
          expect(b, 'N', "Insert");
          yield new Insert(rel, tuple(b));
        }
        case 'U' -> update(b);
        case 'D' -> {
          int rel = b.getInt();
          char kind = (char) b.get();
          if (kind != 'K' && kind != 'O') throw new IllegalArgumentException("Delete: expected K or O, got '" + kind + "'");
          yield new Delete(rel, tuple(b), kind == 'K');
        }
        case 'T' -> {
          int n = b.getInt();
          int options = b.get();
          int[] ids = new int[n];
          for (int i = 0; i < n; i++) ids[i] = b.getInt();
          yield new Truncate(ids, (options & 1) != 0, (options & 2) != 0);
        }
        case 'O', 'Y', 'M' -> new Skipped(type);
        default -> throw new IllegalArgumentException("unknown pgoutput message type '" + type + "'");
      };
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated pgoutput message '" + type + "'");
    }
  }

  private static Relation relation(ByteBuffer b) {
    int id = b.getInt();
    String ns = string(b);
    String name = string(b);
    char identity = (char) b.get();
    int n = b.getShort();
    List<Column> cols = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int flags = b.get();
      String col = string(b);
      int oid = b.getInt();
      b.getInt(); // type modifier, unused
      cols.add(new Column(col, oid, (flags & 1) != 0));
    }
    // pg_catalog's empty namespace means "pg_catalog" (the manual); never a watched table
    return new Relation(id, ns.isEmpty() ? "pg_catalog" : ns, name, identity, List.copyOf(cols));
  }

  private static Update update(ByteBuffer b) {
    int rel = b.getInt();
    char kind = (char) b.get();
    Tuple old = null;
    boolean keyOnly = false;
    if (kind == 'K' || kind == 'O') {
      keyOnly = kind == 'K';
      old = tuple(b);
      kind = (char) b.get();
    }
    if (kind != 'N') throw new IllegalArgumentException("Update: expected N, got '" + kind + "'");
    return new Update(rel, old, keyOnly, tuple(b));
  }

  private static Tuple tuple(ByteBuffer b) {
    int n = b.getShort();
    String[] values = new String[n];
    for (int i = 0; i < n; i++) {
      char kind = (char) b.get();
      values[i] = switch (kind) {
        case 'n' -> null;
        case 'u' -> UNCHANGED;
        case 't' -> {
          int len = b.getInt();
          if (len < 0 || len > b.remaining()) throw new java.nio.BufferUnderflowException();
          String s = new String(b.array(), b.arrayOffset() + b.position(), len, StandardCharsets.UTF_8);
          b.position(b.position() + len);
          yield s;
        }
        default -> throw new IllegalArgumentException("unknown tuple column kind '" + kind + "' (binary mode is not requested)");
      };
    }
    return new Tuple(values);
  }

  private static String string(ByteBuffer b) {
    int start = b.position();
    int end = start;
    while (b.get(end) != 0) end++;
    String s = new String(b.array(), b.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
    b.position(end + 1);
    return s;
  }

  private static void expect(ByteBuffer b, char wanted, String what) {
    char got = (char) b.get();
    if (got != wanted) throw new IllegalArgumentException(what + ": expected '" + wanted + "', got '" + got + "'");
  }
}
