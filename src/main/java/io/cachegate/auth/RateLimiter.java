package io.cachegate.auth;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets per caller (an API key's name, or a remote address when auth is off): {@code rate}
 * requests a second with bursts up to {@code burst}. Shared by the HTTP verticles of one instance,
 * so each bucket is updated under its own lock. Buckets of idle callers are dropped on access.
 */
public final class RateLimiter {

  private static final class Bucket {
    double tokens;
    long last;
  }

  private final double rate;
  private final double burst;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  public RateLimiter(int ratePerSecond, int burst) {
    this.rate = ratePerSecond;
    this.burst = burst;
  }

  /** True when the caller may go ahead now. */
  public boolean tryAcquire(String caller, long nowNanos) {
    if (buckets.size() > 100_000) buckets.clear(); // bounded memory under an address-spraying client
    Bucket b = buckets.computeIfAbsent(caller, c -> {
      Bucket n = new Bucket();
      n.tokens = burst;
      n.last = nowNanos;
      return n;
    });
    synchronized (b) {
      b.tokens = Math.min(burst, b.tokens + (nowNanos - b.last) / 1e9 * rate);
      b.last = nowNanos;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    }
  }
}
