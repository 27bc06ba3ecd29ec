package io.cachegate.it;

import io.cachegate.cache.RedisKeys;
import io.cachegate.cache.SlotTags;
import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A Redis Cluster of its own (3 masters, 1 replica each, Debian's redis-server): redis.mode must match
 * the server, and a master killed with SIGKILL is survived. The cache, capture and stream tests run on
 * a cluster too (pom.xml's redis-cluster execution); this class kills nodes, so it has its own.
 */
class RedisClusterIT {

  private static RedisCluster cluster;

  @BeforeAll
  static void up() {
    cluster = new RedisCluster(3, 1);
  }

  @AfterAll
  static void down() {
    if (cluster != null) cluster.close();
  }

  private static JsonObject onCluster() {
    return new JsonObject().put("redis", new JsonObject().put("url", cluster.url()).put("mode", "cluster"));
  }

  @Test
  void redisModeMustSayWhatTheServerIs() {
    JsonObject standalone = new JsonObject().put("redis", new JsonObject().put("url", cluster.url()).put("mode", "standalone"));
    assertThatThrownBy(() -> TestGateway.start(standalone, Map.of()))
        .hasStackTraceContaining("redis.mode: Redis at " + cluster.url().substring("redis://".length()) + " is a Redis Cluster node (cluster_enabled:1)")
        .hasStackTraceContaining("set redis.mode: cluster");
    if (!TestServices.get().redisCluster()) {
      JsonObject wrong = new JsonObject().put("redis", new JsonObject().put("mode", "cluster"));
      assertThatThrownBy(() -> TestGateway.start(wrong, Map.of()))
          .hasStackTraceContaining("redis.mode: is cluster but Redis at " + TestServices.get().redisUrl().substring("redis://".length()))
          .hasStackTraceContaining("is not a Redis Cluster node");
    }
  }

  /**
   * SIGKILL of the master that holds the notice log, after its replica was cut off (SIGSTOP, and the
   * master dropped its link) so that the master acknowledged a notice the replica never got: the
   * replica is promoted, /health is 200 again within 15 s, invalidations work, and a client resuming
   * from the lost notice gets reset, as do the clients connected through the failover.
   */
  @Test
  void aMasterKilledWithSigkillIsSurvived() {
    try (TestGateway gw = TestGateway.start(onCluster(), Map.of())) {
      assertThat(gw.call("GET", "/health", null).status()).isEqualTo(200);
      for (int i = 0; i < 20; i++) assertThat(gw.put("fo:" + i, new JsonObject().put("value", i).put("tags", new JsonArray().add("fo"))).status()).isEqualTo(200);
      RedisServerProcess master = cluster.masterOf(SlotTags.slot(RedisKeys.NOTICES.in(gw.namespace)));
      RedisServerProcess replica = cluster.replicasOf(master).get(0);
      Await.until("the replica to be in sync", 10_000, () -> RedisCluster.info(replica.port, "INFO replication").contains("master_link_status:up"));
      try (TestSocket connected = gw.socket()) {
        connected.subscribe(new JsonObject().put("tags", new JsonArray().add("fo")));
        String kept = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("fo:0"))).json().getString("notice");
        connected.next("invalidate");
        Await.until("the replica to have the notice", 10_000, () -> RedisCluster.info(replica.port, "INFO replication").contains("master_link_status:up")
            && offset(replica, "slave_repl_offset") >= offset(master, "master_repl_offset"));

        replica.signal("STOP");
        String lost;
        try {
          RedisCluster.info(master.port, "CLIENT KILL TYPE replica");
          lost = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("fo:1"))).json().getString("notice");
          connected.next("invalidate");
          master.killHard();
        } finally {
          replica.signal("CONT");
        }
        long killedAt = System.currentTimeMillis();

        Await.until("the replica to be promoted", 30_000, () -> RedisCluster.info(replica.port, "INFO replication").contains("role:master"));
        Await.until("/health to be 200 again", 15_000 - (System.currentTimeMillis() - killedAt),
            () -> gw.call("GET", "/health", null).status() == 200);
        System.out.println("failover: /health 200 again " + (System.currentTimeMillis() - killedAt) + " ms after the SIGKILL");

        // the gateway's tail finds its last notice gone: the clients it serves are told to reset
        assertThat(connected.next("reset").getString("reason")).contains("failover");
        // invalidations work again, on every slot
        Await.until("an invalidation to answer 200", 10_000,
            () -> gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("fo"))).status() == 200);
        for (int i = 2; i < 20; i++) assertThat(gw.exists("fo:" + i)).as("fo:" + i).isFalse();
        assertThat(gw.put("fo:new", new JsonObject().put("value", 1)).status()).isEqualTo(200);

        // resuming from the notice the failover lost: reset; from the one it kept: recovered
        try (TestSocket fromLost = gw.socket(); TestSocket fromKept = gw.socket()) {
          fromLost.send(new JsonObject().put("type", "subscribe").put("id", "s").put("keys", new JsonArray().add("fo:1")).put("since", lost));
          assertThat(fromLost.next().getString("type")).isEqualTo("reset");
          assertThat(fromLost.next("subscribed").getBoolean("recovered")).isFalse();
          JsonObject ok = fromKept.subscribe(new JsonObject().put("keys", new JsonArray().add("fo:never-invalidated")).put("since", kept));
          assertThat(ok.getBoolean("recovered")).as(ok.encode()).isTrue();
        }
      }
    }
  }

  private static long offset(RedisServerProcess node, String field) {
    for (String line : RedisCluster.info(node.port, "INFO replication").split("\r?\n")) {
      if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).trim());
    }
    return -1;
  }
}
