package io.cachegate.stream;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A session's life as the hub reports it, seen the same in the snapshot and in the gauges. */
class StreamStatsTest {

  @Test
  void aClosedSessionStopsCountingButItsConnectionLingersUntilGone() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StreamStats stats = new StreamStats().register(registry);
    stats.opened();
    stats.opened();
    stats.subscriptions(3);
    stats.subscriptions(2);
    assertThat(stats.snapshot()).isEqualTo(new StreamStats.Snapshot(2, 2, 5));

    stats.closed(3); // dropped: the session is forgotten, its TCP connection not closed yet
    assertThat(stats.snapshot()).isEqualTo(new StreamStats.Snapshot(1, 2, 2));
    assertThat(registry.get("cachegate.stream.connections").gauge().value()).isEqualTo(2);

    stats.disconnected();
    assertThat(stats.snapshot()).isEqualTo(new StreamStats.Snapshot(1, 1, 2));
    assertThat(registry.get("cachegate.stream.clients").gauge().value()).isEqualTo(1);
    assertThat(registry.get("cachegate.stream.subscriptions").gauge().value()).isEqualTo(2);
  }
}
