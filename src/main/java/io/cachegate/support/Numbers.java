package io.cachegate.support;

/** Reading JSON numbers safely. */
public final class Numbers {

  private Numbers() {}

  /**
   * A whole number as a long, clamped to {@link Long#MIN_VALUE} / {@link Long#MAX_VALUE} when it is
   * beyond a long, never wrapped: Jackson gives such a number as a BigInteger, whose longValue() keeps
   * only the low 64 bits (2^64 + 5 would read as 5). The caller's range check then refuses it.
   */
  public static long clampedLong(Number n) {
    double d = n.doubleValue();
    if (Math.abs(d) >= 0x1p62) return d > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    return n.longValue();
  }
}
