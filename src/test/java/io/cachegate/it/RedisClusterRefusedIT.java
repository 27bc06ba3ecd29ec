package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Pointed at a Redis Cluster node, the gateway used to start, say it was healthy, and answer every PUT
 * with 503 ("Script attempted to access a non local key"). Until it supports a cluster, it refuses one
 * at start-up, naming the server and what to use instead.
 */
class RedisClusterRefusedIT {

  @Test
  void aClusterIsRefusedAtStartUp() {
    // a real cluster: 3 masters, 1 replica each (the shape the Redis Cluster work tests on)
    try (RedisCluster cluster = new RedisCluster(3, 1)) {
      JsonObject cfg = new JsonObject().put("redis", new JsonObject().put("url", cluster.url()));
      assertThatThrownBy(() -> TestGateway.start(cfg, Map.of()))
          .hasStackTraceContaining("redis.url: Redis at 127.0.0.1:" + cluster.nodes.get(0).port + " is a Redis Cluster node (cluster_enabled:1)")
          .hasStackTraceContaining("Point redis.url at a non-cluster Redis");
    }
  }
}
