package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * capture.mode wal: the changes come from a logical replication slot, the watched tables carry no
 * trigger, and what a rule renders is the same as with the outbox.
 */
class WalCaptureIT {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start(new JsonObject().put("capture", new JsonObject().put("mode", "wal")), Map.of());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @Test
  void rowChangesReachRedisAndTheSocketsWithoutATriggerOnTheTable() {
    assertThat(scalar("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cachegate%'")).isEqualTo("0");
    assertThat(scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + TestGateway.slotFor(gw.postgresUrl) + "'")).isEqualTo("1");
    gw.put("product:10", new JsonObject().put("value", "p10").put("tags", new JsonArray().add("category:1")));
    gw.put("listing:c2", new JsonObject().put("value", 2).put("tags", new JsonArray().add("category:2")));
    try (TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("tags", new JsonArray().add("category:2")).put("keys", new JsonArray().add("user:900:profile")));
      gw.sql("UPDATE products SET category_id = 2 WHERE id = 10");
      JsonObject f = s.next("invalidate");
      assertThat(f.getJsonArray("tags")).containsExactly("category:2");
      assertThat(f.getJsonObject("cause").getString("op")).isEqualTo("UPDATE");
      assertThat(f.getJsonObject("cause").getString("table")).isEqualTo("products");
      assertThat(gw.exists("product:10")).isFalse();
      assertThat(gw.exists("listing:c2")).isFalse();

      gw.sql("INSERT INTO users (id, name) VALUES (900, 'new')");
      JsonObject ins = s.next("invalidate");
      assertThat(ins.getJsonArray("keys")).containsExactly("user:900:profile");
      assertThat(ins.getJsonObject("cause").getString("op")).isEqualTo("INSERT");
      gw.sql("DELETE FROM users WHERE id = 900");
      JsonObject del = s.next("invalidate");
      assertThat(del.getJsonArray("keys")).containsExactly("user:900:profile");
      assertThat(del.getJsonObject("cause").getString("op")).isEqualTo("DELETE");
    }
  }

  String scalar(String sql) {
    try (Connection c = gw.jdbc(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
