package io.cachegate.stream;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The stream's figures for this instance, summed over its {@link StreamHub}s (one per HTTP event loop),
 * which alone write them. Read as one {@link Snapshot} by {@code /v1/stats}; the gauges in
 * {@code /metrics} are registered from the same fields by {@link #register}. Thread-safe.
 */
public final class StreamStats {

  private final AtomicLong clients = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong subscriptions = new AtomicLong();

  /**
   * {@code clients}: sessions open; {@code connections}: TCP connections still open, including clients
   * dropped or closed but not yet gone; {@code subscriptions}: names subscribed by the clients.
   */
  public record Snapshot(long clients, long connections, long subscriptions) {}

  public Snapshot snapshot() {
    return new Snapshot(clients.get(), connections.get(), subscriptions.get());
  }

  public StreamStats register(MeterRegistry registry) {
    Gauge.builder("cachegate.stream.clients", clients, AtomicLong::get)
        .description("WebSocket clients connected to this instance").register(registry);
    Gauge.builder("cachegate.stream.connections", connections, AtomicLong::get)
        .description("stream TCP connections still open, including clients dropped or closed but not yet gone").register(registry);
    Gauge.builder("cachegate.stream.subscriptions", subscriptions, AtomicLong::get)
        .description("names subscribed by this instance's clients").register(registry);
    return this;
  }

  void opened() {
    clients.incrementAndGet();
    connections.incrementAndGet();
  }

  /** The session ended, with the names it held; its TCP connection may linger. */
  void closed(int names) {
    clients.decrementAndGet();
    subscriptions.addAndGet(-names);
  }

  void disconnected() {
    connections.decrementAndGet();
  }

  void subscriptions(long delta) {
    subscriptions.addAndGet(delta);
  }
}
