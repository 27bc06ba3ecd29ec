package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** API keys from the environment with scopes: 401 without a valid key, 403 without the scope. */
class AuthIT {

  static final String READER = "reader-key-0123456789abcdef";
  static final String WRITER = "writer-key-0123456789abcdef";
  static final String ADMIN = "admin-key-0123456789abcdefgh";
  static TestGateway gw;

  @BeforeAll
  static void start() {
    JsonArray keys = new JsonArray()
        .add(new JsonObject().put("name", "reader").put("tokenEnv", "T_READER").put("scopes", new JsonArray().add("read")))
        .add(new JsonObject().put("name", "writer").put("tokenEnv", "T_WRITER").put("scopes", new JsonArray().add("write")))
        .add(new JsonObject().put("name", "admin").put("tokenEnv", "T_ADMIN").put("scopes", new JsonArray().add("admin")));
    gw = TestGateway.start(new JsonObject().put("auth", new JsonObject().put("enabled", true).put("apiKeys", keys)),
        Map.of("T_READER", READER, "T_WRITER", WRITER, "T_ADMIN", ADMIN));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static int put(String token) {
    return gw.call("PUT", "/v1/entries/a1", "{\"value\":1}", "Authorization", "Bearer " + token).status();
  }

  @Test
  void keysAndScopesDecide() {
    assertThat(gw.call("PUT", "/v1/entries/a1", "{\"value\":1}").status()).isEqualTo(401);
    assertThat(put("wrong-key-000000000000000")).isEqualTo(401);
    assertThat(put(READER)).isEqualTo(403);
    assertThat(put(WRITER)).isEqualTo(200);
    assertThat(put(ADMIN)).isEqualTo(200);
    assertThat(gw.call("GET", "/v1/entries/a1", null, "Authorization", "Bearer " + READER).status()).isEqualTo(200);
    assertThat(gw.call("GET", "/v1/entries/a1", null, "Authorization", "Bearer " + WRITER).status()).isEqualTo(403);
    assertThat(gw.call("DELETE", "/v1/entries/a1", null, "Authorization", "Bearer " + WRITER).status()).isEqualTo(403);
    assertThat(gw.call("DELETE", "/v1/entries/a1", null, "Authorization", "Bearer " + ADMIN).status()).isEqualTo(200);
    TestGateway.Reply denied = gw.call("GET", "/v1/stats", null);
    assertThat(denied.status()).isEqualTo(401);
    assertThat(denied.json().getString("error")).isEqualTo("unauthorized");
    assertThat(gw.call("GET", "/health", null).status()).isEqualTo(200);
  }

  @Test
  void theStreamNeedsAReadKey() {
    assertThat(gw.socketRejected()).isEqualTo(401);
    assertThat(gw.socketRejected("Authorization", "Bearer " + WRITER)).isEqualTo(403);
    try (TestSocket s = gw.socket("Authorization", "Bearer " + READER)) {
      assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("a1"))).getString("type")).isEqualTo("subscribed");
    }
  }
}
