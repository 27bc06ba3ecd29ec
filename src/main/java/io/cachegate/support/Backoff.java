package io.cachegate.support;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: the n-th delay is uniform in [base, min(max, base * 2^n)].
 * Not thread-safe: each owner (one verticle) keeps its own.
 */
public final class Backoff {

  private final long baseMs;
  private final long maxMs;
  private int attempt;

  public Backoff(long baseMs, long maxMs) {
    if (baseMs <= 0 || maxMs < baseMs) throw new IllegalArgumentException("need 0 < base <= max");
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The next delay in milliseconds; grows until {@link #reset()}. */
  public long next() {
    long cap = attempt >= 30 ? maxMs : Math.min(maxMs, baseMs << attempt);
    attempt++;
    return cap == baseMs ? baseMs : ThreadLocalRandom.current().nextLong(baseMs, cap + 1);
  }

  public int attempts() {
    return attempt;
  }

  public void reset() {
    attempt = 0;
  }
}
