package io.cachegate.stream;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.model.NoticeIds;
import io.cachegate.stream.Frames.BadFrame;
import io.cachegate.stream.Frames.ClientFrame;
import io.cachegate.stream.Frames.Ping;
import io.cachegate.stream.Frames.Subscribe;
import io.cachegate.stream.Frames.Unsubscribe;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The WebSocket frames of docs/stream.md: what clients may send, each refusal's code, and what the server writes. */
class FramesTest {

  private static ClientFrame parse(String text) {
    try {
      return Frames.parse(text);
    } catch (BadFrame e) {
      throw new AssertionError("refused " + text + ": " + e.code + " " + e.getMessage(), e);
    }
  }

  private static BadFrame refused(String text) {
    BadFrame e = catchThrowableOfType(BadFrame.class, () -> Frames.parse(text));
    assertThat(e).as("a refusal of %s", text).isNotNull();
    return e;
  }

  private static void refused(String text, String id, String code, String message) {
    BadFrame e = refused(text);
    assertThat(e.code).as(text).isEqualTo(code);
    assertThat(e.id).as(text).isEqualTo(id);
    assertThat(e.getMessage()).as(text).isEqualTo(message);
  }

  // ---- client frames ----

  @Test
  void aPingEchoesItsIdOrHasNone() {
    assertThat(parse("{\"type\": \"ping\", \"id\": \"c3\"}")).isEqualTo(new Ping("c3"));
    assertThat(parse("{\"type\": \"ping\"}")).isEqualTo(new Ping(null));
    assertThat(parse("{\"type\": \"ping\", \"id\": null}")).isEqualTo(new Ping(null));
  }

  @Test
  void theDocumentedSubscribeParses() {
    ClientFrame f = parse("""
        {"type": "subscribe", "id": "c1", "keys": ["user:42:profile"], "tags": ["user:42"], "prefixes": ["cart:42:"],
         "since": "0001795971563607-0000000000"}""");
    assertThat(f).isEqualTo(new Subscribe("c1", List.of("user:42:profile"), List.of("user:42"), List.of("cart:42:"),
        "0001795971563607-0000000000", false));
    assertThat(((Subscribe) f).size()).isEqualTo(3);
  }

  @Test
  void aSubscribesListsAreOptionalAndDuplicatesCountOnce() {
    Subscribe s = (Subscribe) parse("{\"type\": \"subscribe\", \"keys\": [\"b\", \"a\", \"b\", \"a\"]}");
    assertThat(s.id()).isNull();
    assertThat(s.keys()).containsExactly("b", "a");
    assertThat(s.tags()).isEmpty();
    assertThat(s.prefixes()).isEmpty();
    assertThat(s.since()).isNull();
    assertThat(s.all()).isFalse();
    assertThat(s.size()).isEqualTo(2);
    Subscribe empty = (Subscribe) parse("{\"type\": \"subscribe\", \"keys\": null, \"tags\": []}");
    assertThat(empty.size()).isZero();
  }

  @Test
  void aSubscribeMayAskForEverything() {
    assertThat(((Subscribe) parse("{\"type\": \"subscribe\", \"all\": true}")).all()).isTrue();
    assertThat(((Subscribe) parse("{\"type\": \"subscribe\", \"all\": false, \"keys\": [\"k\"]}")).all()).isFalse();
  }

  @Test
  void sinceTakesANoticeIdAPositionOrARawStreamId() {
    assertThat(((Subscribe) parse("{\"type\": \"subscribe\", \"keys\": [\"k\"], \"since\": \"" + NoticeIds.ZERO + "\"}")).since())
        .isEqualTo(NoticeIds.ZERO);
    // the position of a subscribed frame is a valid since for a later reconnect
    String position = new JsonObject(Frames.subscribed("c1", "0001795971570112-0000000000", true)).getString("position");
    assertThat(((Subscribe) parse(new JsonObject().put("type", "subscribe").put("since", position).encode())).since())
        .isEqualTo(position);
    assertThat(((Subscribe) parse("{\"type\": \"subscribe\", \"since\": \"1795971563607-3\"}")).since()).isEqualTo("1795971563607-3");
  }

  @Test
  void theDocumentedUnsubscribeParses() {
    assertThat(parse("{\"type\": \"unsubscribe\", \"id\": \"c2\", \"keys\": [\"user:42:profile\"], \"tags\": [], \"prefixes\": []}"))
        .isEqualTo(new Unsubscribe("c2", List.of("user:42:profile"), List.of(), List.of(), false));
    assertThat(parse("{\"type\": \"unsubscribe\", \"all\": true}")).isEqualTo(new Unsubscribe(null, List.of(), List.of(), List.of(), true));
    assertThat(parse("{\"type\": \"unsubscribe\", \"tags\": [\"t\", \"t\"], \"prefixes\": [\"p:\"]}"))
        .isEqualTo(new Unsubscribe(null, List.of(), List.of("t"), List.of("p:"), false));
  }

  @Test
  void anIdOfUpTo128CharactersIsEchoed() {
    String id = "i".repeat(128);
    assertThat(parse("{\"type\": \"ping\", \"id\": \"" + id + "\"}").id()).isEqualTo(id);
  }

  // ---- malformed frames ----

  @Test
  void aFrameThatIsNotOneJsonObjectIsMalformed() {
    for (String text : new String[] {"", "ping", "[]", "[{\"type\": \"ping\"}]", "\"ping\"", "42", "null",
        "{\"type\": \"ping\"", "{\"type\": \"ping\"} {\"type\": \"ping\"}"}) {
      refused(text, null, "malformed", "a frame must be one JSON object");
    }
  }

  @Test
  void aBadIdIsMalformedAndNotEchoed() {
    refused("{\"type\": \"ping\", \"id\": 7}", null, "malformed", "id must be a string");
    refused("{\"type\": \"ping\", \"id\": [\"c1\"]}", null, "malformed", "id must be a string");
    refused("{\"type\": \"ping\", \"id\": \"" + "i".repeat(129) + "\"}", null, "malformed", "id is longer than 128 characters");
  }

  @Test
  void aMissingOrNonStringTypeIsMalformedWithTheIdEchoed() {
    refused("{\"id\": \"c1\"}", "c1", "malformed", "type must be a string");
    refused("{\"id\": \"c1\", \"type\": 1}", "c1", "malformed", "type must be a string");
    refused("{}", null, "malformed", "type must be a string");
  }

  @Test
  void anUnknownTypeIsUnknownType() {
    for (String type : new String[] {"publish", "Subscribe", "PING", "", "pong"}) {
      refused("{\"id\": \"c9\", \"type\": \"" + type + "\"}", "c9", "unknown_type", "type must be subscribe, unsubscribe or ping");
    }
  }

  @Test
  void aListThatIsNotAListOfStringsIsMalformed() {
    refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"keys\": \"user:1\"}", "c1", "malformed", "keys must be a list of strings");
    refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"tags\": [\"a\", 1]}", "c1", "malformed", "tags must be a list of strings");
    refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"prefixes\": {\"p\": 1}}", "c1", "malformed", "prefixes must be a list of strings");
    refused("{\"type\": \"subscribe\", \"keys\": [null]}", null, "malformed", "keys must be a list of strings");
    refused("{\"type\": \"unsubscribe\", \"id\": \"c2\", \"keys\": [[\"a\"]]}", "c2", "malformed", "keys must be a list of strings");
  }

  @Test
  void aNonBooleanAllInASubscribeIsMalformed() {
    refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"all\": \"yes\"}", "c1", "malformed", "all must be true or false");
    refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"all\": 1}", "c1", "malformed", "all must be true or false");
  }

  @Test
  void aNonBooleanAllInAnUnsubscribeIsMalformed() {
    refused("{\"type\": \"unsubscribe\", \"id\": \"c2\", \"all\": \"yes\"}", "c2", "malformed", "all must be true or false");
  }

  @Test
  void anInvalidNameIsBadNameSayingWhy() {
    BadFrame space = refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"keys\": [\"ok\", \"user 1\"]}");
    assertThat(space.code).isEqualTo("bad_name");
    assertThat(space.id).isEqualTo("c1");
    assertThat(space.getMessage()).isEqualTo("key 'user?1' contains whitespace or a control character");
    BadFrame reserved = refused("{\"type\": \"subscribe\", \"tags\": [\"cg:notices\"]}");
    assertThat(reserved.code).isEqualTo("bad_name");
    assertThat(reserved.getMessage()).isEqualTo("tag 'cg:notices' is under the reserved prefix cg:");
    BadFrame empty = refused("{\"type\": \"subscribe\", \"prefixes\": [\"\"]}");
    assertThat(empty.code).isEqualTo("bad_name");
    assertThat(empty.getMessage()).isEqualTo("prefix must not be empty");
    BadFrame tooLong = refused("{\"type\": \"unsubscribe\", \"keys\": [\"" + "k".repeat(513) + "\"]}");
    assertThat(tooLong.code).isEqualTo("bad_name");
    assertThat(tooLong.getMessage()).isEqualTo("key is longer than 512 characters");
    BadFrame control = refused("{\"type\": \"subscribe\", \"keys\": [\"a\\u0000b\"]}");
    assertThat(control.code).isEqualTo("bad_name");
  }

  @Test
  void aSinceThatIsNotANoticeIdIsBadSince() {
    String message = "since must be a notice id as sent in an invalidate frame or a subscribed position";
    for (String since : new String[] {"\"yesterday\"", "\"\"", "\"-\"", "\"5-\"", "\"-5\"", "\"5\"", "\"5-x\"", "\"-1-0\"", "\"5--1\"",
        "\"" + "1".repeat(30) + "-" + "1".repeat(11) + "\"", "\"99999999999999999999-0\"", "5", "true", "[\"5-0\"]"}) {
      refused("{\"type\": \"subscribe\", \"id\": \"c1\", \"keys\": [\"k\"], \"since\": " + since + "}", "c1", "bad_since", message);
    }
  }

  // ---- server frames ----

  @Test
  void subscribedIsTheDocumentedShape() {
    assertThat(Frames.subscribed("c1", "0001795971563607-0000000000", false))
        .isEqualTo("{\"type\":\"subscribed\",\"id\":\"c1\",\"position\":\"0001795971563607-0000000000\",\"recovered\":false}");
    assertThat(new JsonObject(Frames.subscribed("c2", NoticeIds.ZERO, true))).isEqualTo(new JsonObject()
        .put("type", "subscribed").put("id", "c2").put("position", NoticeIds.ZERO).put("recovered", true));
    // a reply to a frame without id has none
    assertThat(new JsonObject(Frames.subscribed(null, NoticeIds.ZERO, false)).containsKey("id")).isFalse();
  }

  @Test
  void theDocumentedInvalidateFrameIsWrittenFieldForField() {
    Notice n = new Notice("0001795971564001-0000000000", List.of("product:10", "product:11"), List.of("category:2", "category"),
        List.of(), Cause.db("products", "UPDATE"), 1795971564001L, false);
    // docs/stream.md, "A session, end to end"
    assertThat(Frames.invalidate(n, List.of("product:10"), List.of("category:2"), List.of())).isEqualTo(
        "{\"type\":\"invalidate\",\"id\":\"0001795971564001-0000000000\",\"keys\":[\"product:10\"],\"tags\":[\"category:2\"],"
            + "\"prefixes\":[],\"cause\":{\"source\":\"db\",\"table\":\"products\",\"op\":\"UPDATE\"},\"at\":1795971564001,\"soft\":false}");
  }

  @Test
  void anInvalidateListsOnlyThePartsItIsGivenNotTheWholeNotice() {
    Notice n = new Notice("0001795971570112-0000000000", List.of("secret:1", "user:42:profile"), List.of("team:a", "team:b"),
        List.of("cart:42:", "cart:43:"), Cause.api("price list"), 1795971570112L, true);
    JsonObject f = new JsonObject(Frames.invalidate(n, List.of(), List.of("team:a"), List.of("cart:42:")));
    assertThat(f.getString("type")).isEqualTo("invalidate");
    assertThat(f.getString("id")).isEqualTo(n.id());
    assertThat(f.getJsonArray("keys").getList()).isEmpty();
    assertThat(f.getJsonArray("tags").getList()).containsExactly("team:a");
    assertThat(f.getJsonArray("prefixes").getList()).containsExactly("cart:42:");
    assertThat(f.getJsonObject("cause")).isEqualTo(new JsonObject().put("source", "api").put("reason", "price list"));
    assertThat(f.getLong("at")).isEqualTo(1795971570112L);
    assertThat(f.getBoolean("soft")).isTrue();
    assertThat(f.fieldNames()).containsExactlyInAnyOrder("type", "id", "keys", "tags", "prefixes", "cause", "at", "soft");
    assertThat(f.encode()).doesNotContain("secret:1").doesNotContain("team:b").doesNotContain("cart:43:");
  }

  @Test
  void anInvalidatesCauseNamesWhatTheDocsSayForEachSource() {
    Notice truncate = new Notice("1", List.of(), List.of("category"), List.of(), Cause.db("products", "TRUNCATE"), 1, false);
    assertThat(new JsonObject(Frames.invalidate(truncate, List.of(), List.of("category"), List.of())).getJsonObject("cause"))
        .isEqualTo(new JsonObject().put("source", "db").put("table", "products").put("op", "TRUNCATE"));
    Notice foreign = new Notice("2", List.of("k"), List.of(), List.of(), new Cause("db", null, "NOTIFY", null, "channel legacy"), 2, false);
    assertThat(new JsonObject(Frames.invalidate(foreign, List.of("k"), List.of(), List.of())).getJsonObject("cause"))
        .isEqualTo(new JsonObject().put("source", "db").put("op", "NOTIFY").put("reason", "channel legacy"));
    Notice event = new Notice("3", List.of("k"), List.of(), List.of(), Cause.event("user_updated", null), 3, false);
    assertThat(new JsonObject(Frames.invalidate(event, List.of("k"), List.of(), List.of())).getJsonObject("cause"))
        .isEqualTo(new JsonObject().put("source", "event").put("event", "user_updated"));
  }

  @Test
  void resetCarriesAReasonAndNoId() {
    String reason = "the notice history no longer reaches back to 0001795971000000-0000000000";
    assertThat(Frames.reset(reason)).isEqualTo("{\"type\":\"reset\",\"reason\":\"" + reason + "\"}");
  }

  @Test
  void pongAndUnsubscribedEchoTheId() {
    assertThat(Frames.pong("c3")).isEqualTo("{\"type\":\"pong\",\"id\":\"c3\"}");
    assertThat(Frames.pong(null)).isEqualTo("{\"type\":\"pong\"}");
    assertThat(Frames.unsubscribed("c2")).isEqualTo("{\"type\":\"unsubscribed\",\"id\":\"c2\"}");
    assertThat(Frames.unsubscribed(null)).isEqualTo("{\"type\":\"unsubscribed\"}");
  }

  @Test
  void errorIsTheDocumentedShape() {
    String message = "not allowed by your token: key user:43:profile; nothing of this request was subscribed";
    assertThat(Frames.error("c1", "forbidden", message))
        .isEqualTo("{\"type\":\"error\",\"id\":\"c1\",\"error\":\"forbidden\",\"message\":\"" + message + "\"}");
    JsonObject noId = new JsonObject(Frames.error(null, "malformed", "a frame must be one JSON object"));
    assertThat(noId).isEqualTo(new JsonObject().put("type", "error").put("error", "malformed").put("message", "a frame must be one JSON object"));
  }

  @Test
  void aRefusalBecomesAnErrorFrameAClientCanReadBack() {
    // what StreamHub does with a BadFrame: the id, code and sentence go into an error frame, escaped as JSON
    BadFrame e = refused("{\"type\": \"subscribe\", \"id\": \"q\\\"1\", \"keys\": [\"a\\\"b c\"]}");
    JsonObject f = new JsonObject(Frames.error(e.id, e.code, e.getMessage()));
    assertThat(f.getString("type")).isEqualTo("error");
    assertThat(f.getString("id")).isEqualTo("q\"1");
    assertThat(f.getString("error")).isEqualTo("bad_name");
    assertThat(f.getString("message")).isEqualTo("key 'a\"b?c' contains whitespace or a control character");
  }
}
