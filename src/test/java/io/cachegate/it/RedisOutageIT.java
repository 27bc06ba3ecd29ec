package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Redis goes away while rows change and REST calls keep coming; nothing is lost, nothing answers 500. */
class RedisOutageIT {

  static final int ROWS = 1000;

  private static JsonObject config(TestRedis redis) {
    return new JsonObject()
        .put("redis", new JsonObject().put("url", redis.url()).put("commandTimeoutMs", 500).put("reconnectMaxDelayMs", 500))
        .put("capture", new JsonObject().put("tables", new JsonObject()
            .put("items", new JsonObject().put("keys", new JsonArray().add("item:{id}")))));
  }

  private static String databaseWithItems() throws Exception {
    String db = TestServices.newDatabase();
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL)");
      st.execute("INSERT INTO items SELECT i, 0 FROM generate_series(1, " + ROWS + ") i");
    }
    return db;
  }

  @Test
  void restAnswers503WhileRedisIsDownAndEveryChangeIsInvalidatedWhenItReturns() throws Exception {
    try (TestRedis redis = new TestRedis(true);
         TestGateway gw = TestGateway.start(config(redis), Map.of(), databaseWithItems());
         TestSocket client = gw.socket()) {
      for (int i = 1; i <= ROWS; i++) assertThat(gw.put("item:" + i, new JsonObject().put("value", i)).status()).isEqualTo(200);
      gw.put("untouched", new JsonObject().put("value", "kept across the restart"));
      client.subscribe(new JsonObject().put("prefixes", new JsonArray().add("item:")));

      redis.stop();
      long stoppedAt = System.nanoTime();
      AtomicReference<Throwable> writerError = new AtomicReference<>();
      AtomicReference<String> firstCommitDone = new AtomicReference<>(); // the WAL position just after the first change
      Thread writer = new Thread(() -> {
        try (Connection c = gw.jdbc(); Statement st = c.createStatement()) {
          for (int from = 1; from <= ROWS; from += 100) {
            st.executeUpdate("UPDATE items SET v = v + 1 WHERE id BETWEEN " + from + " AND " + (from + 99));
            if (from == 1) firstCommitDone.set(walPosition(c, "pg_current_wal_lsn()"));
          }
        } catch (Throwable t) {
          writerError.set(t);
        }
      });
      writer.start();
      // REST keeps being tried for the whole 10 s outage: every call must say 503 with Retry-After
      int calls = 0;
      while (System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(10)) {
        TestGateway.Reply inv = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("item:1")));
        assertThat(inv.status()).as(inv.body()).isEqualTo(503);
        assertThat(inv.raw().headers().firstValue("Retry-After")).isPresent();
        assertThat(inv.json().getString("error")).isEqualTo("unavailable");
        assertThat(gw.call("GET", "/v1/entries/item:2", null).status()).isEqualTo(503);
        assertThat(gw.put("item:3", new JsonObject().put("value", 0)).status()).isEqualTo(503);
        calls += 3;
      }
      writer.join(30_000);
      assertThat(writerError.get()).isNull();
      TestGateway.Reply health = gw.call("GET", "/health", null);
      assertThat(health.status()).isEqualTo(503);
      assertThat(health.json().getJsonObject("redis").getBoolean("up")).isFalse();
      if (TestGateway.walMode()) {
        // the slot's confirmed position has not passed the first change Redis did not apply
        String confirmed = slotConfirmed(gw);
        assertThat(lsnDiff(gw, confirmed, firstCommitDone.get())).as("slot confirmed at %s, first change committed before %s",
            confirmed, firstCommitDone.get()).isLessThan(0);
      } else {
        assertThat(outbox(gw)).as("changes wait in the outbox while Redis is down").isEqualTo(ROWS);
      }
      System.out.println("outage: " + calls + " REST calls answered 503 during 10 s, " + ROWS + " rows changed");

      redis.start();
      Set<String> heard = new HashSet<>();
      while (heard.size() < ROWS) {
        JsonObject f = client.next();
        if ("invalidate".equals(f.getString("type"))) f.getJsonArray("keys").forEach(k -> heard.add((String) k));
      }
      Await.until("the outbox to drain", 10_000, () -> outbox(gw) == 0);
      for (int i = 1; i <= ROWS; i++) assertThat(gw.exists("item:" + i)).as("item:%d", i).isFalse();
      assertThat(gw.exists("untouched")).as("Redis kept its data: the deletions above were real work").isTrue();
      assertThat(gw.call("GET", "/health", null).status()).isEqualTo(200);
    }
  }

  @Test
  void aRedisThatComesBackEmptyMakesEveryClientReset() throws Exception {
    try (TestRedis redis = new TestRedis(false);
         TestGateway gw = TestGateway.start(config(redis), Map.of(), databaseWithItems());
         TestSocket client = gw.socket()) {
      client.subscribe(new JsonObject().put("keys", new JsonArray().add("item:1")));
      gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("item:1")));
      String before = client.next("invalidate").getString("id");
      redis.stop();
      redis.start();
      JsonObject reset = client.next("reset");
      assertThat(reset.getString("reason")).contains("lost");
      // and the stream goes on in the new history
      Await.until("Redis to be usable again", 10_000, () -> gw.call("GET", "/health", null).status() == 200);
      TestGateway.Reply again = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("item:1")));
      assertThat(again.status()).isEqualTo(200);
      assertThat(client.next("invalidate").getString("id")).isEqualTo(again.json().getString("notice")).isNotEqualTo(before);
    }
  }

  private static String walPosition(Connection c, String expression) throws java.sql.SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + expression)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String slotConfirmed(TestGateway gw) {
    return gw.query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + TestGateway.slotFor(gw.postgresUrl) + "'");
  }

  private static long lsnDiff(TestGateway gw, String a, String b) {
    return Long.parseLong(gw.query("SELECT pg_wal_lsn_diff('" + a + "', '" + b + "')::bigint"));
  }

  private static long outbox(TestGateway gw) {
    try (Connection c = gw.jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM cachegate.outbox")) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
