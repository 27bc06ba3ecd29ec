package io.cachegate.it;

import io.cachegate.cache.SlotTags;
import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A managed cluster's shape: TLS only (clients, bus and replication), no default user, one ACL user
 * with a password, and the CA in redis.tls.caFile. The gateway discovers the other masters over TLS
 * as that user; a wrong password is refused with a reason.
 */
class RedisClusterTlsIT {

  private static final String PASSWORD = "clu+ster-secret";
  private static TestCerts certs;
  private static RedisCluster cluster;

  @BeforeAll
  static void up() {
    certs = TestCerts.create();
    cluster = RedisCluster.tls(3, 0, certs, "cg", PASSWORD);
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) cluster.close();
    if (certs != null) certs.close();
  }

  private static JsonObject config(String url) {
    return new JsonObject().put("redis", new JsonObject().put("url", url).put("mode", "cluster")
        .put("tls", new JsonObject().put("caFile", certs.ca.toString())));
  }

  @Test
  void aTlsClusterWithAnAclUserServesEverySlot() {
    try (TestGateway gw = TestGateway.start(config(cluster.url()), Map.of())) {
      TestGateway.Reply health = gw.call("GET", "/health", null);
      assertThat(health.status()).as(health.body()).isEqualTo(200);
      assertThat(health.json().getJsonObject("redis").getJsonObject("cluster").getString("state")).isEqualTo("ok");
      List<String> keys = new ArrayList<>();
      Set<Integer> slots = new HashSet<>();
      for (int i = 0; slots.size() < 30; i++) {
        if (slots.add(SlotTags.slot(gw.namespace + "tls:" + i))) keys.add("tls:" + i);
      }
      for (String k : keys) {
        assertThat(gw.put(k, new JsonObject().put("value", k).put("tags", new JsonArray().add("tls-tag"))).status()).isEqualTo(200);
      }
      TestGateway.Reply r = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("tls-tag")));
      assertThat(r.json().getJsonArray("invalidated").getList()).containsExactlyInAnyOrderElementsOf(keys);
      for (String k : keys) assertThat(gw.exists(k)).as(k).isFalse();
      assertThat(health.body()).doesNotContain(PASSWORD);
    }
  }

  @Test
  void aWrongPasswordIsRefusedWithTheReason() {
    String wrong = cluster.url().replace(PASSWORD, "not-the-password");
    try (TestGateway gw = TestGateway.start(config(wrong), Map.of())) {
      TestGateway.Reply health = gw.call("GET", "/health", null);
      assertThat(health.status()).isEqualTo(503);
      String reason = health.json().getJsonObject("redis").getString("error");
      System.out.println("RedisClusterTlsIT /health redis reason: " + reason);
      assertThat(reason).contains("127.0.0.1:").contains("password");
      assertThat(health.body()).doesNotContain("not-the-password");
      assertThat(gw.put("k", new JsonObject().put("value", 1)).status()).isEqualTo(503);
    }
  }
}
