package io.cachegate.model;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The rules for a key, tag or prefix (README, "Names" in openapi.json): 1 to 512 characters, no whitespace or
 * control characters, and not under the reserved bookkeeping prefix {@code cg:}.
 */
public final class Names {

  public static final int MAX_LENGTH = 512;
  public static final String RESERVED_PREFIX = "cg:";

  private Names() {}

  /** Null when {@code name} is valid, else a sentence saying why not. */
  public static String problem(String kind, String name) {
    if (name == null || name.isEmpty()) return kind + " must not be empty";
    if (name.length() > MAX_LENGTH) return kind + " is longer than " + MAX_LENGTH + " characters";
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      if (Character.isWhitespace(cp) || Character.isISOControl(cp) || Character.isSpaceChar(cp)) {
        return kind + " '" + printable(name) + "' contains whitespace or a control character";
      }
      if (Character.isSurrogate(name.charAt(i)) && !Character.isSupplementaryCodePoint(cp)) {
        return kind + " contains an unpaired surrogate";
      }
      i += Character.charCount(cp);
    }
    if (name.startsWith(RESERVED_PREFIX)) return kind + " '" + name + "' is under the reserved prefix " + RESERVED_PREFIX;
    return null;
  }

  /**
   * Hierarchical tags: {@code user:1001:profile} files a key under {@code user:1001:profile},
   * {@code user:1001} and {@code user}. Order: as given, then the parents; duplicates removed.
   */
  public static List<String> expandTags(List<String> tags) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String t : tags) {
      out.add(t);
      int i = t.lastIndexOf(':');
      while (i > 0) {
        out.add(t.substring(0, i));
        i = t.lastIndexOf(':', i - 1);
      }
    }
    return new ArrayList<>(out);
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) sb.append(Character.isISOControl(c) || Character.isWhitespace(c) ? '?' : c);
    return sb.length() > 80 ? sb.substring(0, 80) + "..." : sb.toString();
  }
}
