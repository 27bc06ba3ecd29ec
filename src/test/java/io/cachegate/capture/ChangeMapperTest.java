package io.cachegate.capture;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.rules.InvalidationRule;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How captured row changes and foreign NOTIFY payloads become invalidations (TRUNCATE: TruncateRuleTest).
 */
class ChangeMapperTest {

  private static InvalidationRule table(String name, String specJson) {
    return InvalidationRule.parseTable(name, new JsonObject(specJson), "capture.tables." + name);
  }

  private static final InvalidationRule PRODUCTS =
      table("products", "{\"keys\": [\"product:{id}\"], \"tags\": [\"category:{category_id}\"]}");

  /** A rule that takes a column as the whole name, so a row's value alone decides whether the name is valid. */
  private static final InvalidationRule PAGES =
      table("pages", "{\"keys\": [\"{slug}\", \"page:{id}\"], \"onTruncate\": {\"prefixes\": [\"page:\"]}}");

  private static final InvalidationRule SOFT =
      table("prices", "{\"keys\": [\"price:{sku}\"], \"mode\": \"soft\"}");

  private final ChangeMapper mapper = new ChangeMapper(Map.of("products", PRODUCTS, "pages", PAGES, "prices", SOFT));

  private static JsonObject row(String json) {
    return new JsonObject(json);
  }

  // ---- map: captured rows ----

  @Test
  void anInsertReadsTheNewRow() {
    Invalidation inv = mapper.map("products", "INSERT", null, row("{\"id\": 10, \"category_id\": 2, \"name\": \"x\"}"));
    assertThat(inv.targets().keys()).containsExactly("product:10");
    assertThat(inv.targets().tags()).containsExactly("category:2");
    assertThat(inv.targets().prefixes()).isEmpty();
    assertThat(inv.cascade()).isTrue();
    assertThat(inv.soft()).isFalse();
    assertThat(inv.cause()).isEqualTo(Cause.db("products", "INSERT"));
  }

  @Test
  void aDeleteReadsTheOldRow() {
    Invalidation inv = mapper.map("products", "DELETE", row("{\"id\": 11, \"category_id\": 3}"), null);
    assertThat(inv.targets().keys()).containsExactly("product:11");
    assertThat(inv.targets().tags()).containsExactly("category:3");
    assertThat(inv.cause().source()).isEqualTo("db");
    assertThat(inv.cause().table()).isEqualTo("products");
    assertThat(inv.cause().op()).isEqualTo("DELETE");
  }

  @Test
  void anUpdateThatMovesARowBetweenCategoriesNamesBothTags() {
    Invalidation inv = mapper.map("products", "UPDATE",
        row("{\"id\": 10, \"category_id\": 2}"), row("{\"id\": 10, \"category_id\": 5}"));
    assertThat(inv.targets().keys()).containsExactly("product:10"); // the same key once, not twice
    assertThat(inv.targets().tags()).containsExactly("category:2", "category:5");
    assertThat(inv.cause().op()).isEqualTo("UPDATE");
  }

  @Test
  void anUpdateThatChangesTheKeyColumnNamesBothKeys() {
    Invalidation inv = mapper.map("products", "UPDATE",
        row("{\"id\": 10, \"category_id\": 2}"), row("{\"id\": 12, \"category_id\": 2}"));
    assertThat(inv.targets().keys()).containsExactly("product:10", "product:12");
    assertThat(inv.targets().tags()).containsExactly("category:2");
  }

  @Test
  void aTableWithNoRuleMapsToNull() {
    assertThat(mapper.map("orders", "INSERT", null, row("{\"id\": 1}"))).isNull();
    assertThat(mapper.map("orders", ChangeMapper.TRUNCATE, null, null)).isNull();
  }

  @Test
  void aRowLackingTheColumnsLeavesThoseNamesOutAndAllOfThemMapsToNull() {
    Invalidation inv = mapper.map("products", "INSERT", null, row("{\"id\": 7}"));
    assertThat(inv.targets().keys()).containsExactly("product:7");
    assertThat(inv.targets().tags()).isEmpty();
    assertThat(mapper.map("products", "INSERT", null, row("{\"name\": \"no id\"}"))).isNull();
    assertThat(mapper.map("products", "INSERT", null, row("{\"id\": null, \"category_id\": null}"))).isNull();
    assertThat(mapper.map("products", "UPDATE", null, null)).isNull();
  }

  @Test
  void aSoftRuleGivesASoftInvalidation() {
    Invalidation inv = mapper.map("prices", "UPDATE", row("{\"sku\": \"a1\"}"), row("{\"sku\": \"a1\"}"));
    assertThat(inv.targets().keys()).containsExactly("price:a1");
    assertThat(inv.soft()).isTrue();
  }

  @Test
  void namesARowRendersInvalidAreDroppedAndTheValidOnesKept() {
    for (String bad : new String[] {"has space", "tab\there", "new\nline", "nul\u0000char", "bell\u0007", "nbsp\u00a0x",
        "x".repeat(513), "cg:notices", "cg:"}) {
      Invalidation inv = mapper.map("pages", "INSERT", null, new JsonObject().put("slug", bad).put("id", 4));
      assertThat(inv).as("slug %s", bad.length() > 20 ? bad.substring(0, 20) + "..." : bad).isNotNull();
      assertThat(inv.targets().keys()).as("slug %s", bad.length() > 20 ? bad.substring(0, 20) + "..." : bad)
          .containsExactly("page:4");
    }
    // 512 characters is still a name
    String longest = "x".repeat(512);
    assertThat(mapper.map("pages", "INSERT", null, new JsonObject().put("slug", longest).put("id", 4)).targets().keys())
        .containsExactly(longest, "page:4");
  }

  @Test
  void aRowThatRendersOnlyInvalidNamesMapsToNull() {
    assertThat(mapper.map("pages", "DELETE", new JsonObject().put("slug", "cg:lease:x"), null)).isNull();
    assertThat(mapper.map("pages", "DELETE", new JsonObject().put("slug", "two words"), null)).isNull();
    assertThat(mapper.map("pages", "DELETE", new JsonObject().put("slug", ""), null)).isNull();
  }

  @Test
  void anUpdateKeepsTheValidSideWhenTheOtherRendersInvalid() {
    Invalidation inv = mapper.map("pages", "UPDATE", new JsonObject().put("slug", "bad slug"), new JsonObject().put("slug", "good-slug"));
    assertThat(inv.targets().keys()).containsExactly("good-slug");
  }

  @Test
  void numbersAreWrittenWithoutATrailingPointZero() {
    Invalidation inv = mapper.map("products", "INSERT", null, row("{\"id\": 10.0, \"category_id\": 2}"));
    assertThat(inv.targets().keys()).containsExactly("product:10");
  }

  // ---- mapForeign: payloads on other channels ----

  @Test
  void aForeignTablePayloadIsMappedByThatTablesRuleWithItsOperationUpperCased() {
    Invalidation inv = mapper.mapForeign("legacy", "{\"table\": \"products\", \"operation\": \"update\", \"id\": 10, \"category_id\": 2}");
    assertThat(inv.targets().keys()).containsExactly("product:10");
    assertThat(inv.targets().tags()).containsExactly("category:2");
    assertThat(inv.cause()).isEqualTo(Cause.db("products", "UPDATE"));
    assertThat(inv.cascade()).isTrue();
    assertThat(inv.soft()).isFalse();
  }

  @Test
  void aForeignTablePayloadWithoutAnOperationIsANotify() {
    Invalidation inv = mapper.mapForeign("legacy", "{\"table\": \"products\", \"id\": 10}");
    assertThat(inv.targets().keys()).containsExactly("product:10");
    assertThat(inv.cause().op()).isEqualTo("NOTIFY");
    assertThat(inv.cause().table()).isEqualTo("products");
    // an operation that is not a string counts as none
    assertThat(mapper.mapForeign("legacy", "{\"table\": \"products\", \"operation\": 3, \"id\": 10}").cause().op())
        .isEqualTo("NOTIFY");
  }

  @Test
  void aForeignTablePayloadKeepsItsRulesMode() {
    assertThat(mapper.mapForeign("legacy", "{\"table\": \"prices\", \"sku\": \"b2\"}").soft()).isTrue();
  }

  @Test
  void aForeignNamesPayloadIsTakenAsIs() {
    Invalidation inv = mapper.mapForeign("app_events",
        "{\"keys\": [\"user:1\", \"user:2\"], \"tags\": [\"team:a\"], \"prefixes\": [\"cart:1:\"]}");
    assertThat(inv.targets().keys()).containsExactly("user:1", "user:2");
    assertThat(inv.targets().tags()).containsExactly("team:a");
    assertThat(inv.targets().prefixes()).containsExactly("cart:1:");
    assertThat(inv.cascade()).isTrue();
    assertThat(inv.soft()).isFalse();
    assertThat(inv.cause()).isEqualTo(new Cause("db", null, "NOTIFY", null, "channel app_events"));
    // any one of the lists is enough
    assertThat(mapper.mapForeign("c", "{\"tags\": [\"t\"]}").targets().tags()).containsExactly("t");
    assertThat(mapper.mapForeign("c", "{\"prefixes\": [\"p:\"]}").targets().prefixes()).containsExactly("p:");
  }

  @Test
  void aForeignNamesPayloadDropsInvalidNamesAndKeepsTheRest() {
    Invalidation inv = mapper.mapForeign("c", "{\"keys\": [\"ok\", \"not ok\", \"cg:x\", \"\"], \"tags\": [\"bad\\ttag\"]}");
    assertThat(inv.targets().keys()).containsExactly("ok");
    assertThat(inv.targets().tags()).isEmpty();
  }

  @Test
  void aPayloadThatIsNotAJsonObjectIsRefused() {
    for (String p : new String[] {"", "not json", "[\"user:1\"]", "\"user:1\"", "42", "null", "{\"keys\": [\"a\"]", "{} {}"}) {
      assertThatThrownBy(() -> mapper.mapForeign("c", p)).as(p)
          .isInstanceOf(IllegalArgumentException.class).hasMessage("payload is not a JSON object");
    }
  }

  @Test
  void aPayloadForATableWithNoRuleIsRefusedNamingTheTable() {
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"table\": \"orders\", \"id\": 1}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("table 'orders' has no capture rule");
  }

  @Test
  void aTablePayloadLackingTheColumnsIsRefused() {
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"table\": \"products\", \"operation\": \"insert\", \"name\": \"x\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("payload for table 'products' lacks the columns its rule needs");
    // columns that are there but render only invalid names are as good as missing
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"table\": \"pages\", \"slug\": \"a b\"}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lacks the columns");
  }

  @Test
  void aListThatIsNotAListOfStringsIsRefusedNamingTheField() {
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"keys\": \"user:1\"}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("keys must be a list");
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"tags\": {\"a\": 1}}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("tags must be a list");
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"keys\": [\"a\"], \"prefixes\": [\"p:\", 3]}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("prefixes must hold strings");
    assertThatThrownBy(() -> mapper.mapForeign("c", "{\"keys\": [null]}"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("keys must hold strings");
  }

  @Test
  void aPayloadNamingNothingValidIsRefused() {
    for (String p : new String[] {"{}", "{\"keys\": []}", "{\"keys\": [\"a b\"], \"tags\": [\"cg:t\"], \"prefixes\": [\"\"]}",
        "{\"other\": 1}"}) {
      assertThatThrownBy(() -> mapper.mapForeign("c", p)).as(p)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("payload names no table and no valid keys, tags or prefixes");
    }
  }
}
