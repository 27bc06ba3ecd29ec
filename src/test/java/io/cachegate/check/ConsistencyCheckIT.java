package io.cachegate.check;

import io.cachegate.testing.TestServices;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The consistency checker's short run: about 15 s of writes with three faults, each observed to have
 * happened (a fault that did not happen proves nothing), and zero violations.
 */
class ConsistencyCheckIT {

  @Test
  void noStaleEntryAndNoMissedNoticeUnderFaults() throws Exception {
    ConsistencyChecker.Result r = new ConsistencyChecker(42, 15, true).run();
    System.out.println(r);
    assertThat(r.changes()).as("changes made").isGreaterThan(1000);
    assertThat(r.audits()).as("cached entries audited during the run").isGreaterThan(20);
    assertThat(r.fills()).as("cache fills").isGreaterThan(10);
    assertThat(r.faults()).as("faults injected, in order").extracting(ConsistencyChecker.Fault::name)
        .containsExactlyElementsOf(TestServices.get().redisCluster()
            ? java.util.List.of("listener-killed", "redis-failover", "leader-killed")
            : java.util.List.of("listener-killed", "redis-stopped", "redis-restarted", "leader-killed"));
    // each entry says what was observed: the listener session(s) pg_terminate_backend ended and the
    // re-LISTEN; Redis down, then up, on every instance's /health (on a cluster: the notice log's master
    // failed over to its replica, every instance healthy after); the leader's process dead by SIGKILL
    // and the lock held by the other instance
    assertThat(r.missedFaults()).as("faults whose effect was not observed (" + r.faults() + ")").isEmpty();
    assertThat(r.violations()).isEmpty();
  }
}
