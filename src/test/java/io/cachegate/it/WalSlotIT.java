package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The replication slot as a liability of the database server: refused settings, and a slot PostgreSQL gave up on. */
class WalSlotIT {

  private static JsonObject wal(JsonObject capture) {
    return new JsonObject().put("capture", capture.put("mode", "wal"));
  }

  @Test
  void aServerWithoutLogicalWalIsRefusedWithTheSettingToChange() throws Exception {
    try (EmbeddedPostgres pg = TestServices.postgresBuilder().setServerConfig("wal_level", "replica").start()) {
      String url = "postgresql://127.0.0.1:" + pg.getPort() + "/postgres?user=postgres";
      assertThatThrownBy(() -> TestGateway.start(wal(new JsonObject()), Map.of(), url))
          .hasStackTraceContaining("capture.mode: wal needs wal_level = logical, and this server has replica: "
              + "run ALTER SYSTEM SET wal_level = logical and restart PostgreSQL");
    }
  }

  /**
   * Redis is down, so nothing is applied and the slot falls behind; past max_slot_wal_keep_size PostgreSQL
   * invalidates it. The gateway re-creates it, invalidates every watched table and tells every client to
   * reset, once Redis is back.
   */
  @Test
  void aSlotThatPostgresInvalidatedIsRecreatedAndEveryClientIsToldToReset() throws Exception {
    try (EmbeddedPostgres pg = TestServices.postgresBuilder().setServerConfig("max_slot_wal_keep_size", "1MB").start();
         TestRedis redis = new TestRedis(true)) {
      String url = "postgresql://127.0.0.1:" + pg.getPort() + "/postgres?user=postgres";
      JsonObject cfg = wal(new JsonObject().put("reconnectMinDelayMs", 100).put("reconnectMaxDelayMs", 500)
          .put("wal", new JsonObject().put("slot", "lost_slot")))
          .put("redis", new JsonObject().put("url", redis.url()).put("commandTimeoutMs", 500).put("reconnectMaxDelayMs", 500));
      try (TestGateway g = TestGateway.start(cfg, Map.of(), url); TestSocket s = g.socket()) {
        g.put("product:1", new JsonObject().put("value", 1));
        g.put("user:2:profile", new JsonObject().put("value", 2));
        s.subscribe(new JsonObject().put("keys", new JsonArray().add("product:1")));

        redis.stop();
        g.sql("UPDATE products SET price = price + 1 WHERE id = 9"); // never applied before the slot is lost
        // about 3 MB of WAL, then a checkpoint: the slot's WAL is removed and the slot invalidated
        for (int i = 0; i < 3; i++) {
          g.sql("CREATE TABLE IF NOT EXISTS filler (pad text)", "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 1000)",
              "SELECT pg_switch_wal()");
        }
        g.sql("CHECKPOINT");
        Await.until("the slot re-created after PostgreSQL invalidated it", 20_000, () -> {
          String status = g.query("SELECT coalesce((SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'lost_slot'), 'none')");
          return !"lost".equals(status) && !"none".equals(status) && "1".equals(g.query("SELECT count(*) FROM cachegate.wal_resync"));
        });
        redis.start();

        JsonObject frame;
        do {
          frame = s.next();
        } while (!"reset".equals(frame.getString("type")) || !frame.getString("reason").contains("missed changes"));
        assertThat(frame.getString("reason")).contains("replication slot lost_slot was invalidated by PostgreSQL");
        JsonObject resync = s.next("invalidate"); // the resync notice itself, for the subscribed key
        assertThat(resync.getJsonObject("cause").getString("op")).isEqualTo("RESYNC");
        assertThat(resync.getJsonArray("keys")).containsExactly("product:1");
        // every entry a watched table's rule could have named is gone: both tables, as a TRUNCATE would do
        Await.until("the resync applied", 10_000, () -> !g.exists("product:1") && !g.exists("user:2:profile")
            && "0".equals(g.query("SELECT count(*) FROM cachegate.wal_resync")));

        // and the new slot streams
        g.put("product:3", new JsonObject().put("value", 3));
        s.subscribe(new JsonObject().put("keys", new JsonArray().add("product:3")));
        g.sql("UPDATE products SET price = price + 1 WHERE id = 3");
        do {
          frame = s.next("invalidate");
        } while (!frame.getJsonArray("keys").contains("product:3"));
        Await.until("healthy again", 10_000, () -> g.call("GET", "/health", null).status() == 200);
      }
    }
  }

  @Test
  void aSlotFallingBehindMakesHealthDegradeAndRecoverWhenItCatchesUp() throws Exception {
    try (TestRedis redis = new TestRedis(true)) {
      JsonObject cfg = wal(new JsonObject().put("statusIntervalMs", 200).put("wal", new JsonObject().put("maxLagBytes", 65536)))
          .put("redis", new JsonObject().put("url", redis.url()).put("commandTimeoutMs", 500).put("reconnectMaxDelayMs", 500));
      try (TestGateway g = TestGateway.start(cfg, Map.of())) {
        redis.stop(); // nothing is applied, so nothing is confirmed
        for (int i = 0; i < 10; i++) g.sql("UPDATE products SET price = price + 1"); // 1,000 row versions: well past 64 kB
        Await.until("the postgres entry to say the slot is behind", 10_000, () -> {
          JsonObject pg = g.call("GET", "/health", null).json().getJsonObject("postgres");
          return !pg.getBoolean("up") && pg.getString("problem", "").contains("bytes behind (capture.wal.maxLagBytes 65536)");
        });
        redis.start();
        Await.until("healthy once the slot caught up", 15_000, () -> g.call("GET", "/health", null).status() == 200);
        assertThat(g.call("GET", "/health", null).json().getJsonObject("postgres").getJsonObject("slot").getLong("lagBytes")).isLessThanOrEqualTo(65536);
      }
    }
  }

  @Test
  void dropSlotRefusesASlotInUseAndDropsItOnceNoGatewayStreamsIt() throws Exception {
    String db = TestServices.newDatabase();
    String slot = TestGateway.slotFor(db);
    io.cachegate.config.PostgresUrl url = io.cachegate.config.PostgresUrl.parse(db);
    try (TestGateway g = TestGateway.start(wal(new JsonObject()), Map.of(), db)) {
      io.cachegate.capture.wal.SlotTool.Outcome busy = io.cachegate.capture.wal.SlotTool.drop(url, slot);
      assertThat(busy.dropped()).isFalse();
      assertThat(busy.message()).contains("is streamed by server process").contains("stop it or switch it to capture.mode outbox first");
    }
    io.cachegate.capture.wal.SlotTool.Outcome done = io.cachegate.capture.wal.SlotTool.drop(url, slot);
    assertThat(done.dropped()).as(done.message()).isTrue();
    assertThat(done.message()).startsWith("dropped replication slot " + slot);
    assertThat(io.cachegate.capture.wal.SlotTool.drop(url, slot).message()).contains("there is no replication slot " + slot);
  }
}
