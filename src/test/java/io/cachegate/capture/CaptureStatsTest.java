package io.cachegate.capture;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The capture's snapshot and its gauges are one source: what /v1/stats says, /metrics says. */
class CaptureStatsTest {

  @Test
  void snapshotAndGaugesReadTheSameFields() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CaptureStats stats = new CaptureStats().register(registry);
    assertThat(stats.snapshot()).isEqualTo(new CaptureStats.Snapshot(false, -1, -1, -1, -1, -1, -1));

    stats.leader(true);
    stats.outbox(42, 1500, 0.25);
    stats.inactiveTriggers(2);
    stats.wal(4096, 512);

    assertThat(stats.snapshot()).isEqualTo(new CaptureStats.Snapshot(true, 42, 1500, 0.25, 2, 4096, 512));
    assertThat(registry.get("cachegate_capture_wal_retained_bytes").gauge().value()).isEqualTo(4096);
    assertThat(registry.get("cachegate_capture_wal_lag_bytes").gauge().value()).isEqualTo(512);
    assertThat(registry.get("cachegate_capture_leader").gauge().value()).isEqualTo(1);
    assertThat(registry.get("cachegate_capture_outbox_depth").gauge().value()).isEqualTo(42);
    assertThat(registry.get("cachegate_capture_oldest_pending_seconds").gauge().value()).isEqualTo(1.5);
    assertThat(registry.get("cachegate_capture_notify_queue_usage").gauge().value()).isEqualTo(0.25);
    assertThat(registry.get("cachegate_capture_triggers_inactive").gauge().value()).isEqualTo(2);
  }

  @Test
  void aFollowerReportsTheOutboxAsNotMeasured() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CaptureStats stats = new CaptureStats().register(registry);
    stats.outbox(42, 1500, 0.25);
    stats.leader(false);
    stats.outbox(-1, -1, -1);
    assertThat(stats.snapshot()).isEqualTo(new CaptureStats.Snapshot(false, -1, -1, -1, -1, -1, -1));
    assertThat(registry.get("cachegate_capture_oldest_pending_seconds").gauge().value()).isEqualTo(-1);
    assertThat(registry.get("cachegate_capture_notify_queue_usage").gauge().value()).isEqualTo(-1);
  }
}
