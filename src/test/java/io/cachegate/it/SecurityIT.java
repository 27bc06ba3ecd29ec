package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Safe to expose: every route under every key (401, 403 or through), stream tokens with subscription
 * scopes, expiry, origins, and the per-caller limits.
 */
class SecurityIT {

  static final Map<String, String> KEYS = new LinkedHashMap<>();
  static TestGateway gw;

  static {
    KEYS.put("read", "key-read-0123456789abcdef");
    KEYS.put("write", "key-write-0123456789abcdef");
    KEYS.put("invalidate", "key-invalidate-0123456789abcdef");
    KEYS.put("admin", "key-admin-0123456789abcdef");
  }

  @BeforeAll
  static void start() {
    JsonArray keys = new JsonArray();
    Map<String, String> env = new java.util.HashMap<>();
    KEYS.forEach((scope, token) -> {
      keys.add(new JsonObject().put("name", scope + "-key").put("tokenEnv", "K_" + scope.toUpperCase()).put("scopes", new JsonArray().add(scope)));
      env.put("K_" + scope.toUpperCase(), token);
    });
    env.put("T_SECRET", "a-stream-token-secret-of-32-bytes-or-more");
    JsonObject cfg = new JsonObject()
        .put("auth", new JsonObject().put("enabled", true).put("apiKeys", keys).put("jwt", new JsonObject().put("secretEnv", "T_SECRET")))
        .put("stream", new JsonObject().put("maxNamesPerSubscribe", 5).put("allowedOrigins", new JsonArray().add("https://app.example.com")));
    gw = TestGateway.start(cfg, env);
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  record Route(String method, String path, String body, String scope) {}

  static final List<Route> ROUTES = List.of(
      new Route("PUT", "/v1/entries/m:1", "{\"value\":1}", "write"),
      new Route("GET", "/v1/entries/m:1", null, "read"),
      new Route("GET", "/v1/entries?keys=m:1,m:2", null, "read"),
      new Route("GET", "/v1/entries/m:1/meta", null, "read"),
      new Route("GET", "/v1/entries/m:1/suggested-dependencies", null, "read"),
      new Route("POST", "/v1/entries/m:1/touch", null, "write"),
      new Route("DELETE", "/v1/entries/m:1", null, "invalidate"),
      new Route("POST", "/v1/invalidations", "{\"keys\":[\"m:1\"]}", "invalidate"),
      new Route("POST", "/v1/events/user_updated", "{\"user_id\":1}", "invalidate"),
      new Route("GET", "/v1/tags/t", null, "read"),
      new Route("GET", "/v1/stats", null, "read"),
      new Route("GET", "/v1/rules", null, "read"),
      new Route("GET", "/v1/notices?limit=5", null, "read"),
      new Route("GET", "/v1/instances", null, "read"),
      new Route("GET", "/v1/stats/series", null, "read"),
      new Route("POST", "/v1/invalidations?dryRun=true", "{\"keys\":[\"m:1\"]}", "invalidate"),
      new Route("POST", "/v1/rules/products/evaluate", "{\"op\":\"TRUNCATE\"}", "invalidate"),
      new Route("POST", "/v1/tokens", "{\"keys\":[\"m:*\"]}", "admin"));

  @Test
  void everyRouteUnderEveryKeyAnswersAsTheContractSays() {
    List<String> wrong = new ArrayList<>();
    for (Route r : ROUTES) {
      check(wrong, r, "no key", gw.call(r.method(), r.path(), r.body()).status(), 401);
      check(wrong, r, "unknown key", gw.call(r.method(), r.path(), r.body(), "Authorization", "Bearer not-a-key-0000000000").status(), 401);
      for (Map.Entry<String, String> k : KEYS.entrySet()) {
        int status = gw.call(r.method(), r.path(), r.body(), "Authorization", "Bearer " + k.getValue()).status();
        boolean allowed = k.getKey().equals(r.scope()) || k.getKey().equals("admin");
        if (allowed && (status == 401 || status == 403)) wrong.add(r + " with " + k.getKey() + " key: " + status);
        if (!allowed && status != 403) wrong.add(r + " with " + k.getKey() + " key: " + status + " (want 403)");
      }
    }
    assertThat(wrong).isEmpty();
    // and the stream
    assertThat(gw.socketRejected()).isEqualTo(401);
    for (Map.Entry<String, String> k : KEYS.entrySet()) {
      if (k.getKey().equals("read") || k.getKey().equals("admin")) {
        try (TestSocket s = gw.socketAt("/v1/stream?token=" + k.getValue())) {
          assertThat(s.subscribe(new JsonObject().put("all", true)).getString("type")).isEqualTo("subscribed");
        }
      } else {
        assertThat(gw.socketRejectedAt("/v1/stream?token=" + k.getValue())).as(k.getKey()).isEqualTo(403);
      }
    }
    assertThat(gw.call("GET", "/health", null).status()).isEqualTo(200);
  }

  private static void check(List<String> wrong, Route r, String who, int status, int want) {
    if (status != want) wrong.add(r + " with " + who + ": " + status + " (want " + want + ")");
  }

  private static String token(JsonObject claim, long ttlSeconds) {
    TestGateway.Reply r = gw.call("POST", "/v1/tokens", claim.copy().put("ttl", ttlSeconds).encode(),
        "Authorization", "Bearer " + KEYS.get("admin"));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getString("token");
  }

  @Test
  void aTokenLimitedToOneUserSubscribesOnlyWithinItAndHearsOnlyThat() {
    String t = token(new JsonObject().put("keys", new JsonArray().add("user:42:*")), 600);
    try (TestSocket s = gw.socketAt("/v1/stream?token=" + t)) {
      assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:42:profile"))
          .put("prefixes", new JsonArray().add("user:42:"))).getString("type")).isEqualTo("subscribed");
      for (JsonObject bad : List.of(new JsonObject().put("keys", new JsonArray().add("user:43:profile")),
          new JsonObject().put("tags", new JsonArray().add("admin")),
          new JsonObject().put("prefixes", new JsonArray().add("user:")),
          new JsonObject().put("all", true),
          new JsonObject().put("keys", new JsonArray().add("user:42:ok").add("user:43:no")))) {
        s.send(bad.copy().put("type", "subscribe").put("id", "x"));
        JsonObject e = s.next("error");
        assertThat(e.getString("error")).as(bad.encode()).isEqualTo("forbidden");
      }
      // nothing of a refused request was subscribed: user:42:ok hears nothing of the mixed request
      String n = gw.call("POST", "/v1/invalidations", "{\"keys\":[\"user:42:profile\",\"user:43:profile\"]}",
          "Authorization", "Bearer " + KEYS.get("invalidate")).json().getString("notice");
      JsonObject f = s.next("invalidate");
      assertThat(f.getString("id")).isEqualTo(n);
      assertThat(f.getJsonArray("keys")).containsExactly("user:42:profile");
      assertThat(f.encode()).doesNotContain("user:43");
    }
  }

  @Test
  void expiredTokensAreRefusedAndExpiringOnesCloseTheSocketWith4001() {
    String shortLived = token(new JsonObject().put("keys", new JsonArray().add("x:*")), 2);
    try (TestSocket s = gw.socketAt("/v1/stream?token=" + shortLived)) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("x:1")));
      JsonObject closed = s.next("_closed");
      assertThat(closed.getInteger("code")).isEqualTo(4001);
    }
    // the same token, now expired, is refused at the handshake
    Await.until("the token to be past its exp", 5000, () -> gw.socketRejectedAt("/v1/stream?token=" + shortLived) == 401);
    assertThat(gw.socketRejectedAt("/v1/stream?token=" + shortLived.substring(0, shortLived.length() - 2) + "xx")).isEqualTo(401);
  }

  @Test
  void originsAreChecked() {
    String read = "Bearer " + KEYS.get("read");
    assertThat(gw.socketRejected("Authorization", read, "Origin", "https://evil.example.com")).isEqualTo(403);
    try (TestSocket listed = gw.socket("Authorization", read, "Origin", "https://app.example.com");
         TestSocket same = gw.socket("Authorization", read, "Origin", "http://127.0.0.1:" + gw.port())) {
      assertThat(listed.subscribe(new JsonObject().put("keys", new JsonArray().add("o:1"))).getString("type")).isEqualTo("subscribed");
      assertThat(same.subscribe(new JsonObject().put("keys", new JsonArray().add("o:1"))).getString("type")).isEqualTo("subscribed");
    }
  }

  @Test
  void tooManyNamesInOneSubscribeAreRefused() {
    try (TestSocket s = gw.socketAt("/v1/stream?token=" + KEYS.get("read"))) {
      JsonArray six = new JsonArray();
      for (int i = 0; i < 6; i++) six.add("n:" + i);
      s.send(new JsonObject().put("type", "subscribe").put("id", "big").put("keys", six));
      assertThat(s.next("error").getString("error")).isEqualTo("too_many_names");
    }
  }

  @Test
  void perCallerLimitsAnswer429() {
    Map<String, String> env = Map.of("K_ONE", "the-only-key-0123456789");
    JsonObject cfg = new JsonObject()
        .put("auth", new JsonObject().put("enabled", true).put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "one").put("tokenEnv", "K_ONE").put("scopes", new JsonArray().add("admin")))))
        .put("http", new JsonObject().put("rateLimitPerSecond", 5).put("rateLimitBurst", 5))
        .put("stream", new JsonObject().put("maxSocketsPerAddress", 2));
    try (TestGateway small = TestGateway.start(cfg, env)) {
      int limited = 0;
      for (int i = 0; i < 20; i++) {
        TestGateway.Reply r = small.call("GET", "/v1/stats", null, "Authorization", "Bearer the-only-key-0123456789");
        if (r.status() == 429) {
          limited++;
          assertThat(r.raw().headers().firstValue("Retry-After")).isPresent();
          assertThat(r.json().getString("error")).isEqualTo("rate_limited");
        }
      }
      assertThat(limited).isGreaterThan(10);
      try (TestSocket a = small.socketAt("/v1/stream?token=the-only-key-0123456789");
           TestSocket b = small.socketAt("/v1/stream?token=the-only-key-0123456789")) {
        assertThat(small.socketRejectedAt("/v1/stream?token=the-only-key-0123456789")).isEqualTo(429);
      }
    }
  }
}
