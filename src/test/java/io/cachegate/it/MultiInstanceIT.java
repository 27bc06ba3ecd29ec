package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three gateway processes on one PostgreSQL and one Redis. The leader is killed with SIGKILL while
 * rows keep changing; a follower must lead within 5 s, no change may be missed, and the clients of
 * the surviving instances must hear every change, in one order.
 */
class MultiInstanceIT {

  static final int ROWS = 600;

  @Test
  void aFollowerTakesOverWithinFiveSecondsAndNoChangeIsMissed() throws Exception {
    String db = TestServices.newDatabase();
    String jdbc = TestServices.jdbcUrlOf(db);
    try (Connection c = DriverManager.getConnection(jdbc, "postgres", ""); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE marks (id bigint PRIMARY KEY, v int)");
    }
    Map<String, String> env = new HashMap<>(Map.of(
        "CACHEGATE_REDIS_URL", TestServices.get().redisUrl(),
        "CACHEGATE_POSTGRES_URL", db,
        "CACHEGATE_REDIS_NAMESPACE", TestServices.uniqueNamespace(),
        "CACHEGATE_HTTP_PORT", "0",
        "CACHEGATE_HTTP_INSTANCES", "1",
        "CACHEGATE_AUTH_ENABLED", "false",
        "CACHEGATE_CAPTURE_TABLES", "{\"marks\": {\"keys\": [\"mark:{id}\"]}}",
        "CACHEGATE_CAPTURE_LEADER_POLL_MS", "500"));
    List<GatewayProcess> gws = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    // held in a variable: Vert.x closes a client that becomes unreachable, even during a handshake
    io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient();
    try {
      for (int i = 1; i <= 3; i++) {
        Map<String, String> e = new HashMap<>(env);
        e.put("CACHEGATE_INSTANCE_ID", "gw" + i);
        gws.add(GatewayProcess.start(List.of(), e));
      }
      for (GatewayProcess g : gws) g.awaitListening();
      List<GatewayProcess> leaders = gws.stream().filter(g -> g.health().getBoolean("leader", false)).toList();
      assertThat(leaders).as("exactly one instance leads").hasSize(1);
      GatewayProcess leader = leaders.get(0);
      List<GatewayProcess> followers = gws.stream().filter(g -> g != leader).toList();
      assertThat(followers.get(0).health().getJsonObject("postgres").getString("leaderInstance"))
          .isEqualTo(leader.health().getString("instance"));

      // a client on each surviving instance, recording every mark it hears, in arrival order
      List<List<String>> heard = new ArrayList<>();
      for (GatewayProcess f : followers) {
        List<String> ids = new CopyOnWriteArrayList<>();
        Set<String> marks = ConcurrentHashMap.newKeySet();
        heard.add(ids);
        WebSocket ws = Await.get(wsClient.connect(
            new WebSocketConnectOptions().setHost("127.0.0.1").setPort(f.port()).setURI("/v1/stream")));
        CountDownLatch subscribed = new CountDownLatch(1);
        ws.textMessageHandler(t -> {
          JsonObject fr = new JsonObject(t);
          if ("subscribed".equals(fr.getString("type"))) subscribed.countDown();
          if ("invalidate".equals(fr.getString("type"))) {
            ids.add(fr.getString("id"));
            fr.getJsonArray("keys").forEach(k -> ids.add("key " + k));
          }
        });
        ws.writeTextMessage(new JsonObject().put("type", "subscribe").put("prefixes", new JsonArray().add("mark:")).encode());
        assertThat(subscribed.await(10, TimeUnit.SECONDS)).isTrue();
      }

      CountDownLatch quarter = new CountDownLatch(1);
      AtomicReference<Throwable> writerError = new AtomicReference<>();
      Thread writer = new Thread(() -> {
        try (Connection c = DriverManager.getConnection(jdbc, "postgres", "");
             PreparedStatement ins = c.prepareStatement("INSERT INTO marks (id, v) VALUES (?, 0)")) {
          long start = System.nanoTime();
          for (int i = 1; i <= ROWS; i++) {
            ins.setLong(1, i);
            ins.executeUpdate();
            if (i == ROWS / 4) quarter.countDown();
            // pace the load at about 150 commits/s so writes continue across the failover
            long due = start + i * 6_666_666L;
            while (System.nanoTime() < due) Thread.onSpinWait();
          }
        } catch (Throwable t) {
          writerError.set(t);
          quarter.countDown();
        }
      }, "writer");
      writer.start();
      assertThat(quarter.await(30, TimeUnit.SECONDS)).isTrue();

      long killedAt = System.nanoTime();
      leader.kill9();
      long tookOverMs = -1;
      while (tookOverMs < 0 && System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(20)) {
        for (GatewayProcess f : followers) {
          if (f.health().getBoolean("leader", false)) tookOverMs = (System.nanoTime() - killedAt) / 1_000_000;
        }
      }
      System.out.println("failover: a follower led " + tookOverMs + " ms after the leader was killed");
      assertThat(tookOverMs).as("ms until a follower leads").isBetween(0L, 5000L);

      writer.join(60_000);
      assertThat(writerError.get()).isNull();
      for (List<String> ids : heard) {
        Await.until("every change heard by a surviving instance's client", 30_000, () -> keysHeard(ids).size() == ROWS);
        List<String> noticeIds = ids.stream().filter(s -> !s.startsWith("key ")).toList();
        assertThat(noticeIds).as("notice ids arrive in increasing order").isSorted();
      }
      try (Connection c = DriverManager.getConnection(jdbc, "postgres", ""); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT count(*) FROM cachegate.outbox")) {
        rs.next();
        assertThat(rs.getLong(1)).as("outbox rows left").isZero();
      }
    } finally {
      gws.forEach(GatewayProcess::close);
      Await.get(wsClient.close()); // also keeps the client reachable until here
      Await.get(vertx.close());
    }
  }

  private static Set<String> keysHeard(List<String> ids) {
    Set<String> keys = new java.util.HashSet<>();
    for (String s : ids) if (s.startsWith("key ")) keys.add(s);
    return keys;
  }
}
