package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The LISTEN connection goes silent (a proxy stops forwarding, both sockets stay open). The heartbeat
 * must notice and replace it within the configured interval, and changes must flow again.
 */
class HalfOpenIT {

  @Test
  void aSilentListenerConnectionIsDetectedByTheHeartbeatAndReplaced() throws Exception {
    String direct = TestServices.newDatabase();
    try (TcpProxy proxy = new TcpProxy(TestServices.get().postgresPort())) {
      String proxied = direct.replace(":" + TestServices.get().postgresPort() + "/", ":" + proxy.port + "/");
      JsonObject cfg = new JsonObject().put("capture", new JsonObject()
          .put("heartbeatMs", 500).put("heartbeatTimeoutMs", 1000).put("reconnectMinDelayMs", 100)
          .put("pollIntervalMs", 3_600_000));
      try (TestGateway gw = TestGateway.start(cfg, Map.of(), proxied); TestSocket s = gw.socket()) {
        s.subscribe(new JsonObject().put("keys", new JsonArray().add("product:5").add("product:6")));
        gw.sql("UPDATE products SET price = price + 1 WHERE id = 5");
        assertThat(s.next("invalidate").getJsonArray("keys")).containsExactly("product:5");

        List<Integer> before = listenerPorts(direct);
        assertThat(before).hasSize(1);
        assertThat(proxy.silence(p -> p == before.get(0))).isEqualTo(1);
        long silencedAt = System.nanoTime();
        Await.until("a new listener connection", 10_000, () -> {
          List<Integer> now = listenerPorts(direct);
          return now.size() == 1 && !now.get(0).equals(before.get(0));
        });
        long replacedMs = (System.nanoTime() - silencedAt) / 1_000_000;
        System.out.println("half-open: listener replaced " + replacedMs + " ms after it went silent");
        // heartbeat every 500 ms, timeout 1000 ms, then a reconnect: well inside 3 s
        assertThat(replacedMs).isLessThan(3000);

        gw.sql("UPDATE products SET price = price + 1 WHERE id = 6");
        assertThat(s.next("invalidate").getJsonArray("keys")).containsExactly("product:6");
      }
    }
  }

  /** client_port of each listener session, as PostgreSQL sees it (so the stale one counts until ended). */
  private static List<Integer> listenerPorts(String db) {
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", "");
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT client_port FROM pg_stat_activity WHERE application_name LIKE 'cachegate-listener %' "
             + "AND datname = current_database()")) {
      List<Integer> out = new ArrayList<>();
      while (rs.next()) out.add(rs.getInt(1));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
