package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The REST control plane against real Redis: entries, versions, leases, tags, cascades, events. */
class RestIT {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @Test
  void putStoresThePlainJsonUnderTheKeyAndGetReturnsItWithVersionAndTtl() {
    TestGateway.Reply put = gw.put("doc:1", new JsonObject().put("value", new JsonObject().put("a", 1)).put("ttl", 120));
    assertThat(put.status()).isEqualTo(200);
    String version = put.json().getString("version");
    assertThat(put.raw().headers().firstValue("ETag")).hasValue("\"" + version + "\"");
    assertThat(put.json().getLong("ttl")).isEqualTo(120);
    // an application reading Redis directly finds the JSON text under the key's own name
    assertThat(gw.redis(Request.cmd(Command.GET).arg(gw.namespace + "doc:1")).toString()).isEqualTo("{\"a\":1}");

    TestGateway.Reply get = gw.call("GET", "/v1/entries/doc:1", null);
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.json().getJsonObject("value")).isEqualTo(new JsonObject().put("a", 1));
    assertThat(get.json().getString("version")).isEqualTo(version);
    assertThat(get.json().getLong("ttl")).isBetween(119L, 120L);
    assertThat(gw.call("GET", "/v1/entries/doc:1", null, "If-None-Match", "\"" + version + "\"").status()).isEqualTo(304);
    assertThat(gw.call("GET", "/v1/entries/doc:1", null, "If-None-Match", "\"nope\"").status()).isEqualTo(200);
  }

  @Test
  void headAnswersLikeGetWithoutABodyAndA405NamesTheAllowedMethods() {
    String version = gw.put("head:1", new JsonObject().put("value", "x")).json().getString("version");
    TestGateway.Reply head = gw.call("HEAD", "/v1/entries/head:1", null);
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.raw().headers().firstValue("ETag")).hasValue("\"" + version + "\"");
    assertThat(gw.call("HEAD", "/v1/entries/head:none", null).status()).isEqualTo(404);
    assertThat(gw.call("HEAD", "/health", null).status()).isEqualTo(200);
    // a HEAD never takes a lease, even when asked: the first GET with lease=true afterwards gets it
    assertThat(gw.call("HEAD", "/v1/entries/head:miss?lease=true", null).status()).isEqualTo(404);
    assertThat(gw.call("GET", "/v1/entries/head:miss?lease=true", null).json().getString("lease")).isNotBlank();
    assertThat(gw.call("GET", "/v1/entries/head:miss?lease=true", null).json().getString("lease")).as("the lease is taken").isNull();

    TestGateway.Reply patch = gw.call("PATCH", "/v1/entries/head:1", "{}");
    assertThat(patch.status()).isEqualTo(405);
    assertThat(patch.raw().headers().firstValue("Allow")).hasValue("DELETE, GET, HEAD, PUT");
    assertThat(patch.json().getString("error")).isEqualTo("method_not_allowed");
    assertThat(gw.call("POST", "/health", "{}").raw().headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertThat(gw.call("GET", "/v1/invalidations", null).raw().headers().firstValue("Allow")).hasValue("POST");
    // the router takes one trailing slash as the same route, and so does Allow
    assertThat(gw.call("PATCH", "/v1/entries/head:1/", "{}").raw().headers().firstValue("Allow")).hasValue("DELETE, GET, HEAD, PUT");
  }

  @Test
  void anUnknownExpectationIsAClientErrorNamedAsSuch() throws Exception {
    // java.net.http refuses to send Expect, so this request is written by hand
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("PUT /v1/entries/expect:1 HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: nope\r\n"
          + "Content-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"value\": 1}").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      assertThat(in.readLine()).startsWith("HTTP/1.1 417");
      int length = 0;
      for (String h; !(h = in.readLine()).isEmpty(); ) {
        if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(h.substring(15).trim());
      }
      char[] body = new char[length];
      for (int read = 0, n; read < length; read += n) {
        n = in.read(body, read, length - read);
        if (n < 0) throw new AssertionError("the answer ended after " + read + " of " + length + " body characters");
      }
      assertThat(new JsonObject(new String(body)).getString("error")).isEqualTo("expectation_failed");
    }
    assertThat(gw.exists("expect:1")).isFalse();
  }

  @Test
  void ifVersionIsACompareAndSet() {
    String v1 = gw.put("cas:1", new JsonObject().put("value", 1)).json().getString("version");
    TestGateway.Reply ok = gw.put("cas:1", new JsonObject().put("value", 2).put("ifVersion", v1));
    assertThat(ok.status()).isEqualTo(200);
    TestGateway.Reply stale = gw.put("cas:1", new JsonObject().put("value", 3).put("ifVersion", v1));
    assertThat(stale.status()).isEqualTo(412);
    assertThat(stale.json().getString("error")).isEqualTo("version_mismatch");
    assertThat(gw.call("GET", "/v1/entries/cas:1", null).json().getInteger("value")).isEqualTo(2);
  }

  @Test
  void aLeaseVoidedByAnInvalidationCannotWriteAStaleValue() {
    TestGateway.Reply miss = gw.call("GET", "/v1/entries/lease:1?lease=true", null);
    assertThat(miss.status()).isEqualTo(404);
    String lease = miss.json().getString("lease");
    assertThat(lease).isNotBlank();
    TestGateway.Reply second = gw.call("GET", "/v1/entries/lease:1?lease=true", null);
    assertThat(second.json().containsKey("lease")).isFalse();
    assertThat(second.json().getLong("retryAfterMs")).isPositive();

    gw.call("DELETE", "/v1/entries/lease:1", null); // the row changed meanwhile
    TestGateway.Reply stale = gw.put("lease:1", new JsonObject().put("value", "stale").put("lease", lease));
    assertThat(stale.status()).isEqualTo(409);
    assertThat(gw.exists("lease:1")).isFalse();

    String fresh = gw.call("GET", "/v1/entries/lease:1?lease=true", null).json().getString("lease");
    assertThat(gw.put("lease:1", new JsonObject().put("value", "fresh").put("lease", fresh)).status()).isEqualTo(200);
  }

  @Test
  void hierarchicalTagsAndTagListing() {
    gw.put("profile:1001", new JsonObject().put("value", 1).put("tags", new JsonArray().add("member:1001:profile")));
    gw.put("orders:1001", new JsonObject().put("value", 1).put("tags", new JsonArray().add("member:1001:orders")));
    gw.put("profile:1002", new JsonObject().put("value", 1).put("tags", new JsonArray().add("member:1002:profile")));
    assertThat(gw.call("GET", "/v1/tags/member:1001", null).json().getJsonArray("keys"))
        .containsExactlyInAnyOrder("profile:1001", "orders:1001");
    assertThat(gw.call("GET", "/v1/tags/member", null).json().getJsonArray("keys")).hasSize(3);
    JsonObject r = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("member:1001"))).json();
    assertThat(r.getJsonArray("invalidated")).containsExactlyInAnyOrder("profile:1001", "orders:1001");
    assertThat(gw.exists("profile:1002")).isTrue();
    assertThat(gw.call("GET", "/v1/tags/member", null).json().getJsonArray("keys")).containsExactly("profile:1002");
  }

  @Test
  void deleteCascadesToDependentsUnlessAskedNotTo() {
    gw.put("base:1", new JsonObject().put("value", 1));
    gw.put("view:1", new JsonObject().put("value", 1).put("dependsOn", new JsonArray().add("base:1")));
    gw.put("page:1", new JsonObject().put("value", 1).put("dependsOn", new JsonArray().add("view:1")));
    JsonObject meta = gw.call("GET", "/v1/entries/view:1/meta", null).json();
    assertThat(meta.getJsonArray("dependsOn")).containsExactly("base:1");
    assertThat(meta.getJsonArray("dependents")).containsExactly("page:1");

    JsonObject none = gw.call("DELETE", "/v1/entries/base:1?cascade=false", null).json();
    assertThat(none.getJsonArray("invalidated")).containsExactly("base:1");
    assertThat(gw.exists("view:1")).isTrue();

    gw.put("base:1", new JsonObject().put("value", 2));
    JsonObject all = gw.call("DELETE", "/v1/entries/base:1", null).json();
    assertThat(all.getJsonArray("invalidated")).containsExactly("base:1", "view:1", "page:1");
    assertThat(gw.exists("page:1")).isFalse();
  }

  @Test
  void eventsRunTheirConfiguredRule() {
    gw.put("user:77:profile", new JsonObject().put("value", 1));
    TestGateway.Reply r = gw.post("/v1/events/user_updated", new JsonObject().put("user_id", 77));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("invalidated")).contains("user:77:profile");
    assertThat(gw.exists("user:77:profile")).isFalse();
    TestGateway.Reply missing = gw.post("/v1/events/user_updated", new JsonObject().put("id", 77));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("message")).contains("user_id");
    assertThat(gw.post("/v1/events/nobody", new JsonObject()).status()).isEqualTo(404);
  }

  @Test
  void typeAppliesItsStrategyTtlAndTagTemplates() {
    TestGateway.Reply r = gw.put("profile:55", new JsonObject().put("value", 1).put("type", "user_profile")
        .put("params", new JsonObject().put("user_id", 55)));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getLong("ttl")).isEqualTo(1800);
    assertThat(gw.call("GET", "/v1/tags/user:55", null).json().getJsonArray("keys")).containsExactly("profile:55");
    TestGateway.Reply bad = gw.put("profile:56", new JsonObject().put("value", 1).put("type", "user_profile"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.json().getString("message")).contains("user_id");
  }

  @Test
  void statsAndHealthAndMetricsAnswer() {
    gw.call("GET", "/v1/entries/nothing-here", null);
    JsonObject stats = gw.call("GET", "/v1/stats", null).json();
    for (String f : List.of("hits", "misses", "sets", "invalidations", "notices", "clients", "connections", "subscriptions",
        "slowClientsDropped", "causes")) {
      assertThat(stats.containsKey(f)).as(f).isTrue();
    }
    assertThat(stats.getLong("misses")).isPositive();
    assertThat(stats.getBoolean("leader")).isTrue();
    JsonObject capture = stats.getJsonObject("capture");
    for (String f : List.of("outboxDepth", "oldestPendingMs", "drainRatePerSec", "notifyQueueUsage", "reconnects",
        "leaderInstance", "listening")) {
      assertThat(capture.containsKey(f)).as("capture." + f).isTrue();
    }
    assertThat(capture.getString("leaderInstance")).isEqualTo(stats.getString("instance"));
    TestGateway.Reply health = gw.call("GET", "/health", null);
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().getString("status")).isEqualTo("UP");
    TestGateway.Reply metrics = gw.call("GET", "/metrics", null);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("cachegate_cache_misses_total", "cachegate_capture_outbox_depth",
        "cachegate_capture_oldest_pending_seconds", "cachegate_capture_notify_queue_usage", "cachegate_capture_leader 1.0");
  }

  @Test
  void theDashboardIsServedAtTheRoot() {
    TestGateway.Reply r = gw.call("GET", "/", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).contains("<title>cachegate</title>");
  }
}
