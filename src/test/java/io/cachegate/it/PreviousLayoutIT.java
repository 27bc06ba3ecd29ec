package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * An upgrade from the layout before Redis Cluster support: its entries were filed under names this
 * version does not read, so they are deleted at start-up (a cache refills) instead of being left for
 * invalidations to miss.
 */
class PreviousLayoutIT {

  @Test
  void entriesOfThePreviousLayoutAreDeletedAtStartUp() {
    assumeFalse(TestServices.get().redisCluster(), "the previous layout ran on one Redis only");
    String ns;
    String db;
    try (TestGateway before = TestGateway.start()) {
      ns = before.namespace;
      db = before.postgresUrl;
      // what the previous version wrote for a PUT of old:1 tagged t, and a notice
      before.redis(Request.cmd(Command.SET).arg(ns + "old:1").arg("1"));
      before.redis(Request.cmd(Command.HSET).arg(ns + "cg:m:old:1").arg("v").arg("7").arg("tags").arg("[\"t\"]"));
      before.redis(Request.cmd(Command.ZADD).arg(ns + "cg:k").arg(0).arg("old:1"));
      before.redis(Request.cmd(Command.ZADD).arg(ns + "cg:x").arg(System.currentTimeMillis() + 60_000).arg("old:1"));
      before.redis(Request.cmd(Command.SET).arg(ns + "cg:ver").arg("7"));
      before.redis(Request.cmd(Command.XADD).arg(ns + "cg:notices").arg("*").arg("k").arg("[\"old:1\"]"));
      before.redis(Request.cmd(Command.SET).arg(ns + "kept:bare").arg("1")); // a key it never filed is not its to delete
    }
    try (TestGateway after = TestGateway.start(new JsonObject(), Map.of(), db, ns)) {
      assertThat(after.exists("old:1")).as("an entry of the previous layout").isFalse();
      for (String k : new String[] {"cg:m:old:1", "cg:k", "cg:x", "cg:ver", "cg:notices"}) assertThat(after.exists(k)).as(k).isFalse();
      assertThat(after.exists("kept:bare")).isTrue();
      // and the new layout works on the same namespace
      assertThat(after.put("new:1", new JsonObject().put("value", 1).put("tags", new JsonArray().add("t"))).status()).isEqualTo(200);
      assertThat(after.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("t"))).json()
          .getJsonArray("invalidated").getList()).containsExactly("new:1");
    }
  }
}
