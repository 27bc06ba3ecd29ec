package io.cachegate.it;

import io.cachegate.testing.*;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the Node tests of webroot/cachegate.js (node --test) against a real gateway. */
class NodeClientIT {

  @Test
  void theBrowserClientPassesItsNodeTests() throws Exception {
    try (TestGateway gw = TestGateway.start()) {
      ProcessBuilder pb = new ProcessBuilder("node", "--experimental-websocket", "--test", "webroot/test/")
          .redirectErrorStream(true);
      pb.environment().put("CACHEGATE_HTTP", "http://127.0.0.1:" + gw.port());
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      System.out.println(out);
      assertThat(out).contains("# fail 0").contains("# skipped 0");
      assertThat(p.exitValue()).as(out).isZero();
    }
  }

  /**
   * cachegate.d.ts compiles, and the documented uses type-check against it (webroot/test/usage.ts,
   * with misuses that must not). TypeScript comes from the npm registry: .ci/run installs it and
   * names it in CG_TEST_TSC; elsewhere the test is skipped when it is missing, never in CI.
   */
  @Test
  void theTypeDeclarationsCompileWithTheDocumentedUses() throws Exception {
    String tsc = System.getenv("CG_TEST_TSC");
    if (tsc == null || !java.nio.file.Files.isExecutable(java.nio.file.Path.of(tsc))) {
      assertThat(System.getenv("CI")).as("TypeScript must be installed in CI (.ci/run does it)").isNull();
      org.junit.jupiter.api.Assumptions.abort("no TypeScript compiler (CG_TEST_TSC)");
    }
    Process p = new ProcessBuilder(tsc, "--noEmit", "-p", "webroot/test/tsconfig.json").redirectErrorStream(true).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
  }
}
