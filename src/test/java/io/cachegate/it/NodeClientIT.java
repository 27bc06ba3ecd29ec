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
      ProcessBuilder pb = new ProcessBuilder("node", "--experimental-websocket", "--test", "webroot/test/");
      pb.environment().put("CACHEGATE_HTTP", "http://127.0.0.1:" + gw.port());
      String out = run(pb);
      System.out.println(out);
      assertThat(out).contains("# fail 0").contains("# skipped 0");
      assertThat(lastExit).as(out).isZero();
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
    ProcessBuilder pb = new ProcessBuilder(tsc, "--noEmit", "-p", "webroot/test/tsconfig.json");
    String out = run(pb);
    assertThat(lastExit).as(out).isZero();
  }

  private int lastExit;

  /**
   * Runs a process with its output in a file, bounded at two minutes (a hung process is killed by its
   * handle and the test fails); its output, and its exit code in {@code lastExit}.
   */
  private String run(ProcessBuilder pb) throws Exception {
    java.nio.file.Path log = java.nio.file.Files.createTempFile("cachegate-node", ".log");
    try {
      Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean done = p.waitFor(120, TimeUnit.SECONDS);
      if (!done) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
      assertThat(done).as("the process finished within 120 s:\n" + out).isTrue();
      lastExit = p.exitValue();
      return out;
    } finally {
      java.nio.file.Files.deleteIfExists(log);
    }
  }
}
