package io.cachegate.cache;

import java.nio.charset.StandardCharsets;

/**
 * Redis Cluster key slots, and for every slot one short hash tag that maps to it: the building block
 * for keeping a key's bookkeeping in its own slot ({@code cg:m:{<tag of slot(key)>}:<key>}), whatever
 * braces the key itself holds. Plain logic, no I/O; the table is built once (about 50 ms).
 *
 * <p>{@link #slot} is Redis's own rule (cluster specification, "Keys distribution model"): CRC16
 * (XMODEM) of the key, or of its hash tag (the text between the first '{' and the next '}', when not
 * empty), modulo 16384.
 */
public final class SlotTags {

  public static final int SLOTS = 16384;
  private static final String ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
  /** CRC16 (XMODEM, polynomial 0x1021) of every byte value, so a key's CRC costs a lookup per byte. */
  private static final int[] CRC_TABLE = crcTable();
  private static final String[] TAGS = build();
  /** {@code "{" + tag + "}"} of every slot, built once: every bookkeeping key of an entry carries it. */
  private static final String[] BRACED = braced();

  private SlotTags() {}

  /** The cluster slot of a key, as Redis computes it. */
  public static int slot(String key) {
    byte[] b = key.getBytes(StandardCharsets.UTF_8);
    int start = 0;
    int end = b.length;
    for (int i = 0; i < b.length; i++) {
      if (b[i] == '{') {
        for (int j = i + 1; j < b.length; j++) {
          if (b[j] == '}') {
            if (j > i + 1) {
              start = i + 1;
              end = j;
            }
            break;
          }
        }
        break;
      }
    }
    return crc16(b, start, end) & (SLOTS - 1);
  }

  /** A short string (1 to 4 characters of [0-9a-z]) whose slot is {@code slot}: {@code {tag}} pins a key there. */
  public static String tag(int slot) {
    return TAGS[slot];
  }

  /** {@code prefix + "{" + tag + "}" + suffix}, in the slot of {@code key}. */
  public static String inSlotOf(String key, String prefix, String suffix) {
    return prefix + BRACED[slot(key)] + suffix;
  }

  /** {@code "{" + tag(slot) + "}"}. */
  public static String braced(int slot) {
    return BRACED[slot];
  }

  static int crc16(byte[] b, int from, int to) {
    int crc = 0;
    for (int i = from; i < to; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 8) ^ b[i]) & 0xff]) & 0xffff;
    return crc;
  }

  private static int[] crcTable() {
    int[] table = new int[256];
    for (int v = 0; v < 256; v++) {
      int crc = v << 8;
      for (int k = 0; k < 8; k++) crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
      table[v] = crc & 0xffff;
    }
    return table;
  }

  private static String[] braced() {
    String[] out = new String[SLOTS];
    for (int s = 0; s < SLOTS; s++) out[s] = "{" + TAGS[s] + "}";
    return out;
  }

  private static String[] build() {
    String[] tags = new String[SLOTS];
    int filled = 0;
    char[] buf = new char[4];
    for (int len = 1; len <= 4 && filled < SLOTS; len++) {
      int n = (int) Math.pow(ALPHABET.length(), len);
      for (int i = 0; i < n && filled < SLOTS; i++) {
        int x = i;
        for (int p = len - 1; p >= 0; p--) {
          buf[p] = ALPHABET.charAt(x % ALPHABET.length());
          x /= ALPHABET.length();
        }
        String t = new String(buf, 0, len);
        int s = slot(t);
        if (tags[s] == null) {
          tags[s] = t;
          filled++;
        }
      }
    }
    if (filled < SLOTS) throw new IllegalStateException("no tag found for " + (SLOTS - filled) + " slots");
    return tags;
  }
}
