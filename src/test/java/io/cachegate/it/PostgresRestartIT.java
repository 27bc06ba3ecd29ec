package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** PostgreSQL restarts under a running gateway; changes committed right before and after are invalidated. */
class PostgresRestartIT {

  @Test
  void changesAroundARestartAreInvalidated() throws Exception {
    try (EmbeddedPostgres pg = TestServices.postgresBuilder().start()) { // this leg's version
      String url = "postgresql://127.0.0.1:" + pg.getPort() + "/postgres?user=postgres";
      JsonObject cfg = new JsonObject().put("capture", new JsonObject()
          .put("reconnectMinDelayMs", 100).put("reconnectMaxDelayMs", 1000).put("leaderPollMs", 200));
      try (TestGateway gw = TestGateway.start(cfg, Map.of(), url); TestSocket s = gw.socket()) {
        s.subscribe(new JsonObject().put("prefixes", new JsonArray().add("product:")));
        gw.sql("UPDATE products SET price = price + 1 WHERE id = 1");
        assertThat(s.next("invalidate").getJsonArray("keys")).contains("product:1");

        gw.sql("UPDATE products SET price = price + 1 WHERE id = 2"); // committed right before the restart
        restart(pg);
        gw.sql("UPDATE products SET price = price + 1 WHERE id = 3"); // committed right after it

        Set<String> heard = new HashSet<>();
        while (!heard.containsAll(Set.of("product:2", "product:3"))) {
          JsonObject f = s.next();
          if ("invalidate".equals(f.getString("type"))) f.getJsonArray("keys").forEach(k -> heard.add((String) k));
        }
        Await.until("the gateway to report healthy again", 10_000, () -> gw.call("GET", "/health", null).status() == 200);
      }
    }
  }

  /** pg_ctl restart, run the way the embedded server runs (in a user namespace, since we are root). */
  private static void restart(EmbeddedPostgres pg) throws Exception {
    String dir;
    try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SHOW data_directory")) {
      rs.next();
      dir = rs.getString(1);
    }
    String postgres = null;
    for (ProcessHandle h : ProcessHandle.allProcesses().toList()) {
      try {
        String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8)
            .replace('\0', ' ');
        if (cmd.contains(" -D " + dir + " ")) postgres = cmd.split(" ")[0];
      } catch (Exception ignored) {
        // a process that ended meanwhile
      }
    }
    assertThat(postgres).as("the postmaster of " + dir).isNotNull();
    String pgCtl = Path.of(postgres).resolveSibling("pg_ctl").toString();
    Process p = new ProcessBuilder("unshare", "-U", pgCtl, "-D", dir, "-w", "-m", "fast", "restart")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(p.waitFor()).as("pg_ctl restart exit code").isZero();
  }
}
