package io.cachegate.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Open WebSockets per remote address, across the HTTP verticles of one instance. */
public final class SocketLimiter {

  private final int max;
  private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();

  public SocketLimiter(int maxPerAddress) {
    this.max = maxPerAddress;
  }

  /** Takes a slot for the address; false (and nothing taken) when it already has the maximum. */
  public boolean acquire(String address) {
    AtomicInteger n = open.computeIfAbsent(address, a -> new AtomicInteger());
    if (n.incrementAndGet() > max) {
      release(address);
      return false;
    }
    return true;
  }

  public void release(String address) {
    open.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
  }
}
