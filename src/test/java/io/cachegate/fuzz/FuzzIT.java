package io.cachegate.fuzz;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The fuzz suite's short run: 3,000 REST requests and 1,000 frames, seeded. */
class FuzzIT {

  @Test
  void malformedInputNeverGivesA5xxACrashALeakOrAWrite() throws Exception {
    Fuzzer.Report r = new Fuzzer(20261129, 3000, 1000).run();
    System.out.println(r);
    assertThat(r.failures()).isEmpty();
    assertThat(r.statuses().keySet()).as("a spread of refusals was exercised").contains(400, 401, 404);
  }
}
