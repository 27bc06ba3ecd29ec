package io.cachegate.cache;

import io.cachegate.config.GatewayConfig.Adaptive;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class AdaptiveTtlTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final AdaptiveTtl ttl = new AdaptiveTtl(new Adaptive(true, 60_000, 600, 2.0, 1, 0.5, 0.5, 60, 5), 86_400, now::get);

  @Test
  void aNewTypeKeepsItsBaseTtlUntilItWasWatchedForAWindow() {
    assertThat(ttl.decide("t", 1800)).isEqualTo(new AdaptiveTtl.Decision(1800, "base"));
    now.addAndGet(61_000);
    assertThat(ttl.decide("t", 1800)).isEqualTo(new AdaptiveTtl.Decision(900, "cold"));
  }

  @Test
  void hotTypesLiveLongerUpToTheMaximum() {
    for (int i = 0; i < 700; i++) ttl.read("hot");
    assertThat(ttl.decide("hot", 1800)).isEqualTo(new AdaptiveTtl.Decision(3600, "hot"));
    assertThat(ttl.decide("hot", 80_000)).isEqualTo(new AdaptiveTtl.Decision(86_400, "hot"));
  }

  @Test
  void writeHeavyTypesAreCapped() {
    for (int i = 0; i < 10; i++) ttl.read("busy");
    for (int i = 0; i < 10; i++) ttl.write("busy");
    assertThat(ttl.decide("busy", 1800)).isEqualTo(new AdaptiveTtl.Decision(60, "write-heavy"));
  }

  @Test
  void countsRollOverWindowsAndAreForgottenAfterTwo() {
    for (int i = 0; i < 700; i++) ttl.read("x");
    now.addAndGet(60_000);
    assertThat(ttl.decide("x", 100).rule()).as("the last window still counts").isEqualTo("hot");
    now.addAndGet(120_000);
    assertThat(ttl.decide("x", 100).rule()).isEqualTo("cold");
    assertThat(ttl.snapshot().getJsonObject("types").getJsonObject("x").getString("rule")).isEqualTo("cold");
  }

  @Test
  void disabledRulesLeaveTheTtlAlone() {
    AdaptiveTtl off = new AdaptiveTtl(new Adaptive(false, 60_000, 600, 2.0, 1, 0.5, 0.5, 60, 5), 86_400, now::get);
    for (int i = 0; i < 700; i++) off.read("x");
    assertThat(off.decide("x", 100)).isEqualTo(new AdaptiveTtl.Decision(100, "disabled"));
  }
}
