package io.cachegate.rules;

import io.cachegate.capture.ChangeMapper;
import io.cachegate.bus.Messages.Invalidation;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a TRUNCATE of a watched table invalidates: the safe default, and onTruncate in its place. */
class TruncateRuleTest {

  private static InvalidationRule table(String yamlAsJson) {
    return InvalidationRule.parseTable("products", new JsonObject(yamlAsJson), "capture.tables.products");
  }

  @Test
  void theDefaultTakesKeyPrefixesAndTagParents() {
    InvalidationRule r = table("""
        {"keys": ["product:{id}", "home"], "tags": ["category:{category_id}", "products", "shop:cat{id}", "user:{id}:profile"],
         "prefixes": ["listing:{category_id}:"]}""");
    assertThat(r.onTruncate().keys()).containsExactly("home");
    assertThat(r.onTruncate().prefixes()).containsExactly("product:", "listing:");
    // every rendering of each tag template is filed under these parents (Names.expandTags)
    assertThat(r.onTruncate().tags()).containsExactly("category", "products", "shop", "user");
  }

  @Test
  void aTemplateWithNoSafeFormAsksForOnTruncate() {
    assertThatThrownBy(() -> table("{\"keys\": [\"{id}:product\"]}")).hasMessageContaining("onTruncate").hasMessageContaining("{id}:product");
    assertThatThrownBy(() -> table("{\"keys\": [\"p:{id}\"], \"tags\": [\"cat-{id}\"]}")).hasMessageContaining("onTruncate")
        .hasMessageContaining("cat-{id}");
    // given onTruncate, the same rule is fine
    assertThat(table("{\"keys\": [\"{id}:product\"], \"onTruncate\": {\"tags\": [\"catalog\"]}}").onTruncate().tags()).containsExactly("catalog");
  }

  @Test
  void onTruncateTakesConstantNamesOnly() {
    assertThatThrownBy(() -> table("{\"keys\": [\"p:{id}\"], \"onTruncate\": {\"keys\": [\"p:{id}\"]}}")).hasMessageContaining("no row");
    assertThatThrownBy(() -> table("{\"keys\": [\"p:{id}\"], \"onTruncate\": {\"rows\": []}}")).hasMessageContaining("unknown");
    assertThatThrownBy(() -> InvalidationRule.parse("e", new JsonObject("{\"keys\": [\"p:{id}\"], \"onTruncate\": {}}"), "events.e"))
        .hasMessageContaining("unknown");
  }

  @Test
  void theMapperTurnsATruncateIntoTheRulesTruncateTargets() {
    ChangeMapper m = new ChangeMapper(Map.of("products", table("{\"keys\": [\"product:{id}\"], \"tags\": [\"category:{category_id}\"]}")));
    Invalidation inv = m.map("products", ChangeMapper.TRUNCATE, null, null);
    assertThat(inv.targets().prefixes()).containsExactly("product:");
    assertThat(inv.targets().tags()).containsExactly("category");
    assertThat(inv.targets().keys()).isEmpty();
    assertThat(inv.cause().op()).isEqualTo("TRUNCATE");
  }
}
