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
}
