package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The listener's connection is killed with pg_terminate_backend; rows changed while it is away are
 * invalidated once it is back. The poll timer is set to an hour, so only the resynchronisation on
 * reconnect can find them, and the reconnect waits 2 s, so the writes happen while it is down.
 */
class ListenerReconnectIT {

  @Test
  void changesCommittedWhileTheListenerIsDownAreInvalidatedAfterItReconnects() throws Exception {
    JsonObject cfg = new JsonObject().put("capture", new JsonObject()
        .put("pollIntervalMs", 3_600_000).put("reconnectMinDelayMs", 2000).put("reconnectMaxDelayMs", 4000));
    try (TestGateway gw = TestGateway.start(cfg, java.util.Map.of()); TestSocket s = gw.socket()) {
      for (int i = 1; i <= 100; i++) gw.put("product:" + i, new JsonObject().put("value", i));
      s.subscribe(new JsonObject().put("prefixes", new JsonArray().add("product:")));

      try (Connection c = gw.jdbc(); Statement st = c.createStatement()) {
        try (ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            + "WHERE application_name LIKE 'cachegate-listener %' AND datname = current_database()")) {
          rs.next();
          assertThat(rs.getInt(1)).as("listener connections terminated").isEqualTo(1);
        }
        Await.until("the listener to be gone", 5000, () -> listeners(gw) == 0);
        for (int i = 1; i <= 100; i++) st.executeUpdate("UPDATE products SET price = price + 1 WHERE id = " + i);
      }
      Set<String> seen = new HashSet<>();
      while (seen.size() < 100) {
        JsonObject f = s.next("invalidate");
        f.getJsonArray("keys").forEach(k -> seen.add((String) k));
      }
      for (int i = 1; i <= 100; i++) assertThat(gw.exists("product:" + i)).as("product:%d", i).isFalse();
      assertThat(gw.gateway.metrics().count("cachegate.capture.reconnects")).isGreaterThanOrEqualTo(1);
      assertThat(listeners(gw)).isEqualTo(1);
    }
  }

  private static int listeners(TestGateway gw) {
    try (Connection c = gw.jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'cachegate-listener %' "
             + "AND datname = current_database()")) {
      rs.next();
      return rs.getInt(1);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
