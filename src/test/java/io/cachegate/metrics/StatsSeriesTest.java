package io.cachegate.metrics;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StatsSeriesTest {

  @Test
  void keepsTheLastSamplesOldestFirstAsDeltasOfTheRunningTotal() {
    StatsSeries s = new StatsSeries(5_000, 3);
    assertThat(s.snapshot().notices()).isEmpty();
    s.sample(5_000, 100, 7, "outboxDepth");   // the first total has no step before it: 0
    s.sample(10_000, 130, 2, "outboxDepth");
    s.sample(15_000, 130, 0, "outboxDepth");
    s.sample(20_000, 175, -1, "walLagBytes");
    StatsSeries.Snapshot snap = s.snapshot();
    assertThat(snap.notices()).containsExactly(30L, 0L, 45L);
    assertThat(snap.capture()).containsExactly(2L, 0L, -1L);
    assertThat(snap.endMs()).isEqualTo(20_000);
    assertThat(snap.captureFigure()).isEqualTo("walLagBytes");
    assertThat(snap.stepMs()).isEqualTo(5_000);
  }
}
