package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Prefix invalidation, matching, resume with since, and frame errors on the stream. */
class StreamIT {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static JsonObject names(String field, String... values) {
    return new JsonObject().put(field, new JsonArray(List.of(values)));
  }

  private static String invalidate(JsonObject body) {
    TestGateway.Reply r = gw.post("/v1/invalidations", body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getString("notice");
  }

  @Test
  void aBrowsersOfferOfCompressionIsDeclinedByDefault() throws Exception {
    // what Chrome and Firefox send: accepting it would give every socket its own zlib context
    try (RawWebSocket ws = RawWebSocket.open(gw.port(), "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")) {
      assertThat(ws.head).startsWith("HTTP/1.1 101").doesNotContainIgnoringCase("permessage-deflate");
    }
  }

  @Test
  void prefixInvalidationRemovesExactlyThoseKeysAndReachesOnlyPrefixSubscribers() {
    for (String k : List.of("acct:1:a", "acct:1:b", "acct:2:a", "acct:10", "acctx")) {
      gw.put(k, new JsonObject().put("value", k).put("tags", new JsonArray().add("t-" + k.replace(':', '-'))));
    }
    try (TestSocket wide = gw.socket(); TestSocket exact = gw.socket(); TestSocket narrower = gw.socket();
         TestSocket keyOther = gw.socket(); TestSocket tagOther = gw.socket(); TestSocket keyInside = gw.socket()) {
      wide.subscribe(names("prefixes", "acct:"));
      exact.subscribe(names("prefixes", "acct:1:"));
      narrower.subscribe(names("prefixes", "acct:1:b"));
      keyOther.subscribe(names("keys", "acct:2:a"));
      tagOther.subscribe(names("tags", "t-acct-2-a"));
      keyInside.subscribe(names("keys", "acct:1:zzz")); // not in Redis, but covered by the prefix

      JsonObject reply = gw.post("/v1/invalidations", names("prefixes", "acct:1:")).json();
      assertThat(reply.getJsonArray("invalidated")).containsExactlyInAnyOrder("acct:1:a", "acct:1:b");
      String id = reply.getString("notice");
      assertThat(gw.exists("acct:1:a")).isFalse();
      assertThat(gw.exists("acct:1:b")).isFalse();
      assertThat(gw.exists("acct:2:a")).isTrue();
      assertThat(gw.exists("acct:10")).isTrue();
      assertThat(gw.exists("acctx")).isTrue();

      JsonObject w = wide.next("invalidate");
      assertThat(w.getString("id")).isEqualTo(id);
      assertThat(w.getJsonArray("prefixes")).containsExactly("acct:1:");
      assertThat(w.getJsonArray("keys")).containsExactlyInAnyOrder("acct:1:a", "acct:1:b");
      assertThat(w.getJsonArray("tags")).isEmpty();
      JsonObject e = exact.next("invalidate");
      assertThat(e.getJsonArray("prefixes")).containsExactly("acct:1:");
      JsonObject n = narrower.next("invalidate");
      assertThat(n.getJsonArray("prefixes")).containsExactly("acct:1:");
      assertThat(n.getJsonArray("keys")).containsExactly("acct:1:b");
      JsonObject k = keyInside.next("invalidate");
      assertThat(k.getJsonArray("prefixes")).containsExactly("acct:1:");
      assertThat(k.getJsonArray("keys")).isEmpty();

      // unrelated key and tag subscribers: their next frame is the next notice that concerns them
      String later = invalidate(names("keys", "acct:2:a"));
      assertThat(keyOther.next("invalidate").getString("id")).isEqualTo(later);
      JsonObject t = tagOther.next("invalidate");
      assertThat(t.getString("id")).isEqualTo(later);
      assertThat(t.getJsonArray("tags")).containsExactly("t-acct-2-a");
      assertThat(t.getJsonArray("keys")).isEmpty();
    }
  }

  @Test
  void reconnectingWithSinceReplaysExactlyTheMissedNoticesInOrder() {
    String seen;
    try (TestSocket first = gw.socket()) {
      first.subscribe(names("tags", "resume"));
      invalidate(names("tags", "resume"));
      seen = first.next("invalidate").getString("id");
    }
    List<String> missed = new ArrayList<>();
    missed.add(invalidate(names("tags", "resume")));
    invalidate(names("tags", "not-resume"));
    missed.add(invalidate(new JsonObject().put("tags", new JsonArray().add("resume").add("other"))));
    missed.add(invalidate(names("tags", "resume")));
    try (TestSocket again = gw.socket()) {
      again.send(names("tags", "resume").put("type", "subscribe").put("id", "r1").put("since", seen));
      List<String> replayed = new ArrayList<>();
      JsonObject f;
      while ((f = again.next()).getString("type").equals("invalidate")) {
        assertThat(f.getJsonArray("tags")).containsExactly("resume");
        replayed.add(f.getString("id"));
      }
      assertThat(replayed).isEqualTo(missed);
      assertThat(f.getString("type")).isEqualTo("subscribed");
      assertThat(f.getString("id")).isEqualTo("r1");
      assertThat(f.getBoolean("recovered")).isTrue();
      assertThat(f.getString("position")).isGreaterThanOrEqualTo(missed.get(2));
      // live notices continue after the reply, with nothing repeated
      String live = invalidate(names("tags", "resume"));
      assertThat(again.next("invalidate").getString("id")).isEqualTo(live);
    }
  }

  @Test
  void aSinceOlderThanTheHistoryGetsResetThenSubscribedNotRecovered() {
    invalidate(names("keys", "history:exists")); // the stream has a head newer than the since below
    try (TestSocket s = gw.socket()) {
      s.send(names("keys", "x").put("type", "subscribe").put("id", "old").put("since", "0000000000001-0000000000"));
      JsonObject reset = s.next("reset");
      assertThat(reset.getString("reason")).isNotBlank();
      JsonObject sub = s.next("subscribed");
      assertThat(sub.getBoolean("recovered")).isFalse();
      assertThat(sub.getString("id")).isEqualTo("old");
    }
  }

  @Test
  void malformedFramesGetErrorsAndTheSocketStaysOpen() {
    try (TestSocket s = gw.socket()) {
      s.sendText("{not json");
      assertThat(s.next("error").getString("error")).isEqualTo("malformed");
      s.send(new JsonObject().put("type", "subscribe").put("id", "b1").put("keys", new JsonArray().add("has space")));
      JsonObject bad = s.next("error");
      assertThat(bad.getString("error")).isEqualTo("bad_name");
      assertThat(bad.getString("id")).isEqualTo("b1");
      s.send(new JsonObject().put("type", "subscribe").put("keys", "notalist"));
      assertThat(s.next("error").getString("error")).isEqualTo("malformed");
      s.send(new JsonObject().put("type", "dance").put("id", "d"));
      assertThat(s.next("error").getString("error")).isEqualTo("unknown_type");
      s.send(new JsonObject().put("type", "subscribe").put("since", "yesterday"));
      assertThat(s.next("error").getString("error")).isEqualTo("bad_since");
      s.send(new JsonObject().put("type", "ping").put("id", "p1"));
      assertThat(s.next("pong").getString("id")).isEqualTo("p1");
    }
  }

  @Test
  void aSocketThatKeepsSendingGarbageIsClosed() {
    try (TestSocket s = gw.socket()) {
      for (int i = 0; i < 10; i++) s.sendText("garbage " + i);
      for (int i = 0; i < 10; i++) assertThat(s.next("error").getString("error")).isEqualTo("malformed");
      JsonObject closed = s.next("_closed");
      assertThat(closed.getInteger("code")).isEqualTo(1008);
    }
  }

  @Test
  void unsubscribeStopsDelivery() {
    try (TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("u:1").add("u:2")));
      s.send(new JsonObject().put("type", "unsubscribe").put("id", "x").put("keys", new JsonArray().add("u:1")));
      assertThat(s.next("unsubscribed").getString("id")).isEqualTo("x");
      invalidate(names("keys", "u:1"));
      String second = invalidate(names("keys", "u:2"));
      assertThat(s.next("invalidate").getString("id")).isEqualTo(second);
    }
  }
}
