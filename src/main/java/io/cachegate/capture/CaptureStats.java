package io.cachegate.capture;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The capture's figures, owned by the capture: {@link Leadership} writes whether this instance leads,
 * {@link CaptureStatus} the outbox depth, oldest pending age, NOTIFY queue use and trigger drift. Every
 * other part reads them as one {@link Snapshot} ({@code /health}, {@code /v1/stats}); the gauges in
 * {@code /metrics} are registered from the same fields by {@link #register}, so a meter's name is never
 * how a stats field is found. Written by the capture's event loop, read from any thread.
 */
public final class CaptureStats {

  private final AtomicLong leader = new AtomicLong();
  private final AtomicLong outboxDepth = new AtomicLong(-1);
  private final AtomicLong outboxOldestMs = new AtomicLong(-1);
  /** pg_notification_queue_usage() in millionths. */
  private final AtomicLong notifyQueuePpm = new AtomicLong(-1);
  /** Capture triggers of watched tables found missing or not firing always (-1: not measured yet). */
  private final AtomicLong inactiveTriggers = new AtomicLong(-1);
  /** WAL the replication slot keeps (from its restart_lsn), and its lag (from its confirmed position); -1 outside wal mode. */
  private final AtomicLong walRetainedBytes = new AtomicLong(-1);
  private final AtomicLong walLagBytes = new AtomicLong(-1);

  /**
   * What the capture reports: {@code -1} for a figure not measured (the outbox figures on a follower,
   * anything before the first measurement).
   */
  public record Snapshot(boolean leader, long outboxDepth, long outboxOldestMs, double notifyQueueUsage, long inactiveTriggers,
                         long walRetainedBytes, long walLagBytes) {}

  public Snapshot snapshot() {
    long ppm = notifyQueuePpm.get();
    return new Snapshot(leader.get() == 1, outboxDepth.get(), outboxOldestMs.get(), ppm < 0 ? -1 : ppm / 1e6, inactiveTriggers.get(),
        walRetainedBytes.get(), walLagBytes.get());
  }

  /** Registers the capture gauges (their names are part of the metrics contract) on these fields. */
  public CaptureStats register(MeterRegistry registry) {
    Gauge.builder("cachegate_capture_outbox_depth", outboxDepth, AtomicLong::get)
        .description("rows waiting in cachegate.outbox (measured by the leader; -1 on followers)").register(registry);
    Gauge.builder("cachegate_capture_oldest_pending_seconds", outboxOldestMs, v -> v.get() < 0 ? -1 : v.get() / 1000.0)
        .description("age of the oldest change still in the outbox (measured by the leader; -1 on followers)").register(registry);
    Gauge.builder("cachegate_capture_notify_queue_usage", notifyQueuePpm, v -> v.get() < 0 ? -1 : v.get() / 1e6)
        .description("pg_notification_queue_usage(), 0 to 1").register(registry);
    Gauge.builder("cachegate_capture_triggers_inactive", inactiveTriggers, AtomicLong::get)
        .description("capture triggers of watched tables missing or disabled (writes there are not captured); -1 not measured").register(registry);
    Gauge.builder("cachegate_capture_wal_retained_bytes", walRetainedBytes, AtomicLong::get)
        .description("WAL the replication slot keeps on the database server's disk (wal mode; -1 otherwise)").register(registry);
    Gauge.builder("cachegate_capture_wal_lag_bytes", walLagBytes, AtomicLong::get)
        .description("WAL written since the slot's confirmed position: changes not yet applied (wal mode; -1 otherwise)").register(registry);
    Gauge.builder("cachegate_capture_leader", leader, AtomicLong::get)
        .description("1 when this instance leads the capture").register(registry);
    return this;
  }

  void leader(boolean leads) {
    leader.set(leads ? 1 : 0);
  }

  /** The leader's outbox measurement; a follower passes {@code -1, -1, -1}. */
  void outbox(long depth, long oldestMs, double queueUsage) {
    outboxDepth.set(depth);
    outboxOldestMs.set(oldestMs);
    notifyQueuePpm.set(queueUsage < 0 ? -1 : Math.round(queueUsage * 1e6));
  }

  /** The slot's figures; {@code -1, -1} when not measured. */
  void wal(long retainedBytes, long lagBytes) {
    walRetainedBytes.set(retainedBytes);
    walLagBytes.set(lagBytes);
  }

  void inactiveTriggers(int n) {
    inactiveTriggers.set(n);
  }
}
