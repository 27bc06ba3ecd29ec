package io.cachegate.check;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The consistency checker's short run: about 15 s of writes with three faults, zero violations. */
class ConsistencyCheckIT {

  @Test
  void noStaleEntryAndNoMissedNoticeUnderFaults() throws Exception {
    ConsistencyChecker.Result r = new ConsistencyChecker(42, 15, true).run();
    System.out.println(r);
    assertThat(r.changes()).as("changes made").isGreaterThan(1000);
    assertThat(r.audits()).as("cached entries audited during the run").isGreaterThan(20);
    assertThat(r.fills()).as("cache fills").isGreaterThan(10);
    assertThat(r.faults()).as("faults injected").hasSize(4);
    assertThat(r.violations()).isEmpty();
  }
}
