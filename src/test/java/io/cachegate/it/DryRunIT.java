package io.cachegate.it;

import io.cachegate.testing.TestGateway;
import io.cachegate.testing.TestSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dry runs ({@code ?dryRun=true}) answer what an invalidation would reach and change nothing: the
 * entries stay, no notice is appended, no lease is voided, Redis holds the same keys; and a table's
 * rule evaluated against a row change names what the capture would invalidate.
 */
class DryRunIT {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  static JsonArray names(String... n) {
    return new JsonArray(List.of(n));
  }

  @Test
  void dryRunsAnswerWhatWouldGoAndChangeNothing() {
    gw.put("dr:p:1", new JsonObject().put("value", 1).put("tags", names("dr:cat:1")));
    gw.put("dr:p:2", new JsonObject().put("value", 2).put("tags", names("dr:cat:1", "dr:sale")));
    gw.put("dr:page:1", new JsonObject().put("value", 3).put("dependsOn", names("dr:p:1")));
    gw.put("dr:other", new JsonObject().put("value", 4).put("tags", names("dr:cat:2")));
    // a lease taken for a missing key: a real invalidation of that key would void it
    String lease = gw.call("GET", "/v1/entries/dr:leased?lease=true", null).json().getString("lease");
    assertThat(lease).isNotBlank();
    long keysBefore = gw.keyCount();
    try (TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("all", true));

      TestGateway.Reply byTag = gw.call("POST", "/v1/invalidations?dryRun=true", "{\"tags\":[\"dr:cat:1\"]}");
      assertThat(byTag.status()).as(byTag.body()).isEqualTo(200);
      assertThat(byTag.json().getBoolean("dryRun")).isTrue();
      assertThat(byTag.json().getJsonArray("invalidated")).containsExactlyInAnyOrder("dr:p:1", "dr:p:2", "dr:page:1");
      assertThat(byTag.json().getJsonArray("tags")).contains("dr:cat:1", "dr:sale").doesNotContain("dr:cat:2");
      assertThat(byTag.json().containsKey("notice")).isFalse();

      TestGateway.Reply byPrefix = gw.call("POST", "/v1/invalidations?dryRun=true", "{\"prefixes\":[\"dr:p:\"],\"cascade\":false}");
      assertThat(byPrefix.json().getJsonArray("invalidated")).containsExactlyInAnyOrder("dr:p:1", "dr:p:2");
      assertThat(byPrefix.json().getJsonArray("prefixes")).containsExactly("dr:p:");

      assertThat(gw.call("DELETE", "/v1/entries/dr:p:1?dryRun=true", null).json().getJsonArray("invalidated"))
          .containsExactlyInAnyOrder("dr:p:1", "dr:page:1");
      assertThat(gw.call("DELETE", "/v1/entries/dr:p:1?dryRun=true&cascade=false", null).json().getJsonArray("invalidated"))
          .containsExactly("dr:p:1");
      assertThat(gw.call("DELETE", "/v1/entries/dr:leased?dryRun=true", null).json().getJsonArray("invalidated")).containsExactly("dr:leased");

      TestGateway.Reply event = gw.call("POST", "/v1/events/user_updated?dryRun=true", "{\"user_id\":77}");
      assertThat(event.status()).isEqualTo(200);
      assertThat(event.json().getJsonArray("invalidated")).containsExactly("user:77:profile");
      assertThat(event.json().getJsonArray("tags")).containsExactly("user:77");

      assertThat(gw.call("POST", "/v1/invalidations?dryRun=yes", "{\"keys\":[\"dr:p:1\"]}").status()).isEqualTo(400);

      // nothing changed: every entry is there, the lease still fills, no key was added or removed, and
      // the first notice the stream sees is the real invalidation made now
      assertThat(gw.keyCount()).isEqualTo(keysBefore);
      for (String k : List.of("dr:p:1", "dr:p:2", "dr:page:1", "dr:other")) {
        assertThat(gw.call("GET", "/v1/entries/" + k, null).status()).as(k).isEqualTo(200);
      }
      assertThat(gw.put("dr:leased", new JsonObject().put("value", 5).put("lease", lease)).status()).isEqualTo(200);
      String notice = gw.call("POST", "/v1/invalidations", "{\"keys\":[\"dr:marker\"]}").json().getString("notice");
      JsonObject first = s.next("invalidate");
      assertThat(first.getString("id")).isEqualTo(notice);
      assertThat(first.getJsonArray("keys")).containsExactly("dr:marker");
    }
    // and the real invalidation reaches what the dry run said
    assertThat(gw.call("POST", "/v1/invalidations", "{\"tags\":[\"dr:cat:1\"]}").json().getJsonArray("invalidated"))
        .containsExactlyInAnyOrder("dr:p:1", "dr:p:2", "dr:page:1");
  }

  @Test
  void aRuleEvaluatedAgainstARowChangeNamesWhatTheCaptureWouldInvalidate() {
    JsonObject moved = new JsonObject().put("op", "UPDATE")
        .put("old", new JsonObject().put("id", 10).put("name", "lamp").put("price", 5).put("category_id", 1))
        .put("new", new JsonObject().put("id", 10).put("name", "lamp").put("price", 5).put("category_id", 2));
    TestGateway.Reply r = gw.call("POST", "/v1/rules/products/evaluate", moved.encode());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().getJsonArray("keys")).containsExactly("product:10");
    assertThat(r.json().getJsonArray("tags")).containsExactlyInAnyOrder("category:1", "category:2", "products");
    assertThat(r.json().getString("mode")).isEqualTo("hard");

    JsonObject insert = new JsonObject().put("op", "INSERT").put("new", new JsonObject().put("id", 3).put("name", "a").put("email", "x").put("department_id", 1));
    assertThat(gw.call("POST", "/v1/rules/users/evaluate", insert.encode()).json().getJsonArray("keys"))
        .containsExactly("user:3:profile", "user:3:preferences");
    JsonObject truncate = new JsonObject().put("op", "TRUNCATE");
    assertThat(gw.call("POST", "/v1/rules/products/evaluate", truncate.encode()).json().getJsonArray("prefixes")).containsExactly("product:");

    TestGateway.Reply unknown = gw.call("POST", "/v1/rules/orders/evaluate", insert.encode());
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("unknown_table");
    TestGateway.Reply missing = gw.call("POST", "/v1/rules/products/evaluate",
        new JsonObject().put("op", "DELETE").put("old", new JsonObject().put("id", 10)).encode());
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.json().getString("message")).contains("category_id");
    assertThat(gw.call("POST", "/v1/rules/products/evaluate", "{\"op\":\"UPSERT\"}").status()).isEqualTo(400);
    assertThat(gw.call("POST", "/v1/rules/products/evaluate", "{\"op\":\"UPDATE\",\"new\":{\"id\":1,\"category_id\":1}}").status()).isEqualTo(400);
  }
}
