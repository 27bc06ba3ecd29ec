package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every route with malformed JSON, wrong types, oversized bodies and bad names: each answer is a 4xx
 * with the contract's error body, never a 500, and nothing is written to Redis.
 */
class BadInputIT {

  static TestGateway gw;
  static final int LIMIT = 4096;

  @BeforeAll
  static void start() {
    gw = TestGateway.start(new JsonObject().put("http", new JsonObject().put("maxBodyBytes", LIMIT)), java.util.Map.of());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  record Case(String method, String path, String body, int status) {}

  static List<Case> cases() {
    String big = "{\"value\":\"" + "x".repeat(LIMIT) + "\"}";
    String longName = "k".repeat(513);
    List<Case> c = new ArrayList<>();
    for (String body : List.of("{bad", "[]", "\"str\"", "", "null", "{\"ttl\":5}", "{\"value\":1,\"ttl\":\"ten\"}",
        "{\"value\":1,\"ttl\":-5}", "{\"value\":1,\"ttl\":1.5}", "{\"value\":1,\"ttl\":99999999999}",
        "{\"value\":1,\"tags\":\"x\"}", "{\"value\":1,\"tags\":[1]}", "{\"value\":1,\"tags\":[\"has space\"]}",
        "{\"value\":1,\"tags\":[\"cg:own\"]}", "{\"value\":1,\"dependsOn\":{\"a\":1}}", "{\"value\":1,\"dependsOn\":[\"k1\"]}",
        "{\"value\":1,\"sliding\":\"yes\"}", "{\"value\":1,\"ifVersion\":{}}", "{\"value\":1,\"lease\":5}",
        "{\"value\":1,\"type\":\"nope\"}", "{\"value\":1,\"type\":5}", "{\"value\":1,\"params\":[]}", "{\"value\":1,\"unknown\":1}")) {
      c.add(new Case("PUT", "/v1/entries/k1", body, 400));
    }
    c.add(new Case("PUT", "/v1/entries/k1", big, 413));
    for (String bad : List.of("has%20space", "cg:reserved", longName, "a%01b", "tab%09x")) {
      c.add(new Case("PUT", "/v1/entries/" + bad, "{\"value\":1}", 400));
      c.add(new Case("GET", "/v1/entries/" + bad, null, 400));
      c.add(new Case("GET", "/v1/entries/" + bad + "/meta", null, 400));
      c.add(new Case("DELETE", "/v1/entries/" + bad, null, 400));
      c.add(new Case("GET", "/v1/tags/" + bad, null, 400));
    }
    c.add(new Case("GET", "/v1/entries/k1?lease=maybe", null, 400));
    c.add(new Case("GET", "/v1/entries", null, 400));
    c.add(new Case("GET", "/v1/entries?keys=", null, 400));
    c.add(new Case("GET", "/v1/entries?keys=a,,b", null, 400));
    c.add(new Case("GET", "/v1/entries?keys=a,has%20space", null, 400));
    c.add(new Case("GET", "/v1/entries?keys=" + "k,".repeat(101) + "k", null, 400));
    c.add(new Case("GET", "/v1/entries/has%20space/suggested-dependencies", null, 400));
    c.add(new Case("POST", "/v1/entries/k1/touch", "{bad", 400));
    c.add(new Case("POST", "/v1/entries/k1/touch", "{\"ttl\":0}", 400));
    c.add(new Case("POST", "/v1/entries/k1/touch", "{\"ttl\":\"x\"}", 400));
    c.add(new Case("POST", "/v1/entries/k1/touch", "{\"other\":1}", 400));
    c.add(new Case("POST", "/v1/entries/k1/touch", null, 404));
    c.add(new Case("DELETE", "/v1/entries/k1?mode=gentle", null, 400));
    c.add(new Case("PUT", "/v1/entries/k1", "{\"value\":1,\"computeMs\":0}", 400));
    c.add(new Case("PUT", "/v1/entries/k1", "{\"value\":1,\"dependsOn\":\"manual\"}", 400));
    c.add(new Case("DELETE", "/v1/entries/k1?cascade=maybe", null, 400));
    for (String body : List.of("{bad", "[]", "", "{}", "{\"keys\":\"x\"}", "{\"keys\":[1]}", "{\"tags\":[\"a b\"]}",
        "{\"prefixes\":[\"\"]}", "{\"keys\":[\"a\"],\"cascade\":\"no\"}", "{\"keys\":[\"a\"],\"reason\":5}",
        "{\"keys\":[\"a\"],\"x\":1}", "{\"keys\":null}", "{\"keys\":[], \"tags\":[]}", "{\"keys\":[\"a\"],\"mode\":\"gentle\"}")) {
      c.add(new Case("POST", "/v1/invalidations", body, 400));
    }
    c.add(new Case("POST", "/v1/invalidations", "{\"keys\":[\"" + "k".repeat(LIMIT) + "\"]}", 413));
    for (String body : List.of("{bad", "[1]", "{}", "{\"user_id\":\"has space\"}", "{\"user_id\":null}")) {
      c.add(new Case("POST", "/v1/events/user_updated", body, 400));
    }
    c.add(new Case("POST", "/v1/events/no_such_event", "{}", 404));
    c.add(new Case("GET", "/v1/nothing", null, 404));
    c.add(new Case("PATCH", "/v1/entries/k1", "{}", 405));
    c.add(new Case("GET", "/v1/stream", null, 400)); // not an upgrade
    return c;
  }

  @Test
  void everyBadRequestGetsAClearFourHundredAndWritesNothing() {
    long keysBefore = gw.keyCount();
    for (Case c : cases()) {
      TestGateway.Reply r = gw.call(c.method(), c.path(), c.body());
      String what = c.method() + " " + (c.path().length() > 60 ? c.path().substring(0, 60) + "..." : c.path()) + " " + c.body();
      assertThat(r.status()).as(what + " -> " + r.body()).isEqualTo(c.status());
      JsonObject body = r.json();
      assertThat(body.getString("error")).as(what).isNotBlank();
      assertThat(body.getString("message")).as(what).isNotBlank();
    }
    assertThat(gw.keyCount()).as("keys in the namespace").isEqualTo(keysBefore);
    assertThat(gw.redis(Request.cmd(Command.XLEN).arg(io.cachegate.cache.RedisKeys.NOTICES.in(gw.namespace))).toLong()).isZero();
    assertThat(gw.gateway.metrics().count("cachegate.rejected")).isGreaterThanOrEqualTo(cases().size());
  }
}
