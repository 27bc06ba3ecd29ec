package io.cachegate.it;

import io.cachegate.cache.RedisKeys;
import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Bookkeeping expires with the data: tag, dependency and prefix indexes leave nothing behind. */
class ExpiryIT {

  @Test
  void expiredEntriesLeaveNoBookkeepingBehind() {
    JsonObject cfg = new JsonObject().put("cache", new JsonObject().put("sweepIntervalMs", 200));
    try (TestGateway gw = TestGateway.start(cfg, Map.of())) {
      for (int i = 0; i < 200; i++) {
        JsonObject body = new JsonObject().put("value", i).put("ttl", 1)
            .put("tags", new JsonArray().add("exp:group:" + (i % 7)).add("all"));
        if (i > 0) body.put("dependsOn", new JsonArray().add("e:" + (i - 1)));
        assertThat(gw.put("e:" + i, body).status()).isEqualTo(200);
      }
      assertThat(gw.transientKeys()).isNotEmpty();
      // a real second passes; each check is a real look at Redis
      Await.until("all entries and their bookkeeping to expire", 10_000, () -> gw.transientKeys().isEmpty());
      for (int i = 0; i < 200; i += 50) assertThat(gw.exists("e:" + i)).isFalse();
      assertThat(gw.call("GET", "/v1/tags/all", null).json().getJsonArray("keys")).isEmpty();
    }
  }
}
