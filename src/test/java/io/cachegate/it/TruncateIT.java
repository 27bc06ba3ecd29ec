package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TRUNCATE of a watched table: no row to fill the templates, so by default every entry any row could
 * have named goes (the key templates' prefixes, the tag templates' hierarchy parents), in one notice
 * whose cause says TRUNCATE; a table's {@code onTruncate} replaces that default.
 */
class TruncateIT {

  private static JsonObject tagged(Object value, String... tags) {
    return new JsonObject().put("value", value).put("tags", new JsonArray(java.util.List.of((Object[]) tags)));
  }

  @Test
  void truncateInvalidatesEveryProductKeyAndEveryKeyUnderTheCategoryTagInOneNotice() {
    try (TestGateway gw = TestGateway.start()) {
      gw.put("product:1", tagged("p1", "category:2"));
      gw.put("product:55", tagged("p55", "category:6"));
      gw.put("product:999", tagged("no such row"));          // a prefix reaches keys no row names
      gw.put("listing:c3", tagged(3, "category:3"));
      gw.put("listing:featured", tagged(4, "category:7:featured"));
      gw.put("catalog:all", tagged(5, "products"));
      gw.put("user:1:profile", tagged("u1", "user:1"));      // another table's: stays
      gw.put("brand:1", tagged("b1", "brand:1"));            // nothing of products: stays
      try (TestSocket s = gw.socket()) {
        s.subscribe(new JsonObject().put("prefixes", new JsonArray().add("product:")).put("tags", new JsonArray().add("category"))
            .put("keys", new JsonArray().add("user:1:profile")));

        gw.sql("TRUNCATE products");

        JsonObject f = s.next("invalidate");
        assertThat(f.getJsonObject("cause").getString("source")).isEqualTo("db");
        assertThat(f.getJsonObject("cause").getString("table")).isEqualTo("products");
        assertThat(f.getJsonObject("cause").getString("op")).isEqualTo("TRUNCATE");
        assertThat(f.getJsonArray("prefixes")).containsExactly("product:");
        assertThat(f.getJsonArray("tags")).contains("category");
        for (String k : new String[] {"product:1", "product:55", "product:999", "listing:c3", "listing:featured", "catalog:all"}) {
          assertThat(gw.exists(k)).as(k).isFalse();
        }
        assertThat(gw.exists("user:1:profile")).isTrue();
        assertThat(gw.exists("brand:1")).isTrue();

        // one notice: the next frame this socket gets is a marker sent after the TRUNCATE's
        String marker = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("category"))).json().getString("notice");
        assertThat(s.next("invalidate").getString("id")).isEqualTo(marker);
      }
    }
  }

  @Test
  void onTruncateReplacesTheDefault() {
    JsonObject rules = new JsonObject().put("capture", new JsonObject().put("tables", new JsonObject()
        .put("products", new JsonObject().put("keys", new JsonArray().add("product:{id}"))
            .put("onTruncate", new JsonObject().put("tags", new JsonArray().add("catalog")).put("keys", new JsonArray().add("home"))))));
    try (TestGateway gw = TestGateway.start(rules, Map.of())) {
      gw.put("product:1", tagged("p1"));
      gw.put("page:catalog", tagged("c", "catalog:page"));
      gw.put("home", tagged("h"));
      try (TestSocket s = gw.socket()) {
        s.subscribe(new JsonObject().put("tags", new JsonArray().add("catalog")));
        gw.sql("TRUNCATE products");
        JsonObject f = s.next("invalidate");
        assertThat(f.getJsonObject("cause").getString("op")).isEqualTo("TRUNCATE");
        assertThat(f.getJsonArray("tags")).contains("catalog");
      }
      assertThat(gw.exists("page:catalog")).isFalse();
      assertThat(gw.exists("home")).isFalse();
      assertThat(gw.exists("product:1")).isTrue(); // the default (prefix product:) was replaced
    }
  }

  @Test
  void aTruncateOfSeveralTablesAtOnceReachesEach() {
    try (TestGateway gw = TestGateway.start()) {
      gw.put("product:3", tagged("p3"));
      gw.put("user:4:preferences", tagged("u4"));
      gw.sql("TRUNCATE products, users");
      Await.until("both tables' keys invalidated", 10_000, () -> !gw.exists("product:3") && !gw.exists("user:4:preferences"));
    }
  }
}
