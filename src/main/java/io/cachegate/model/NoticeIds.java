package io.cachegate.model;

/**
 * Notice ids are Redis stream entry ids ({@code <ms>-<seq>}) written with fixed-width decimal fields,
 * {@code 0001732900000000-0000000000}, so that comparing them as plain strings gives the stream's
 * order (raw stream ids do not: {@code 5-10} sorts before {@code 5-9}). One stream in one Redis
 * serves every instance, so the order is global.
 */
public final class NoticeIds {

  /** The position before any notice. */
  public static final String ZERO = "0000000000000000-0000000000";

  private NoticeIds() {}

  public static String fromStreamId(String streamId) {
    int dash = streamId.indexOf('-');
    long ms = Long.parseLong(streamId.substring(0, dash));
    long seq = Long.parseLong(streamId.substring(dash + 1));
    StringBuilder id = new StringBuilder(ZERO.length());
    padded(id, ms, 16).append('-');
    return padded(id, seq, 10).toString(); // not String.format: this runs for every notice, on the tail's loop
  }

  private static StringBuilder padded(StringBuilder sb, long value, int width) {
    String digits = Long.toString(value);
    for (int i = digits.length(); i < width; i++) sb.append('0');
    return sb.append(digits);
  }

  /** The stream id for a notice id (also accepts a raw stream id), or null when it is neither. */
  public static String toStreamId(String noticeId) {
    if (noticeId == null || noticeId.length() > 40) return null;
    int dash = noticeId.indexOf('-');
    if (dash <= 0 || dash == noticeId.length() - 1) return null;
    try {
      long ms = Long.parseLong(noticeId.substring(0, dash));
      long seq = Long.parseLong(noticeId.substring(dash + 1));
      if (ms < 0 || seq < 0) return null;
      return ms + "-" + seq;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Orders two stream ids numerically. */
  public static int compareStreamIds(String a, String b) {
    int da = a.indexOf('-'), db = b.indexOf('-');
    int c = Long.compare(Long.parseLong(a.substring(0, da)), Long.parseLong(b.substring(0, db)));
    return c != 0 ? c : Long.compare(Long.parseLong(a.substring(da + 1)), Long.parseLong(b.substring(db + 1)));
  }
}
