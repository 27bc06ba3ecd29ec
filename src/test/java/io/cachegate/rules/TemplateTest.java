package io.cachegate.rules;

import io.cachegate.model.Targets;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TemplateTest {

  @Test
  void fillsPlaceholdersFromTheObject() {
    Template t = Template.parse("user:{id}:profile:{region}");
    assertThat(t.fields()).containsExactly("id", "region");
    assertThat(t.render(new JsonObject().put("id", 42).put("region", "eu"))).isEqualTo("user:42:profile:eu");
  }

  @Test
  void wholeNumbersFromJsonAreWrittenWithoutAFraction() {
    assertThat(Template.parse("p:{id}").render(new JsonObject().put("id", 7.0))).isEqualTo("p:7");
    assertThat(Template.parse("p:{id}").render(new JsonObject().put("id", 7.5))).isEqualTo("p:7.5");
  }

  @Test
  void aMissingOrNullFieldRendersNothing() {
    Template t = Template.parse("c:{category_id}");
    assertThat(t.render(new JsonObject())).isNull();
    assertThat(t.render(new JsonObject().putNull("category_id"))).isNull();
    assertThat(t.missingField(new JsonObject())).isEqualTo("category_id");
  }

  @Test
  void malformedTemplatesAreRefused() {
    assertThatThrownBy(() -> Template.parse("a:{id")).hasMessageContaining("unclosed");
    assertThatThrownBy(() -> Template.parse("a:id}")).hasMessageContaining("unmatched");
    assertThatThrownBy(() -> Template.parse("a:{}")).hasMessageContaining("empty");
  }

  @Test
  void anUpdateRendersOldAndNewRows() {
    InvalidationRule r = InvalidationRule.parse("products", new JsonObject()
        .put("keys", new io.vertx.core.json.JsonArray().add("product:{id}"))
        .put("tags", new io.vertx.core.json.JsonArray().add("category:{category_id}")), "x");
    Targets t = r.render(new JsonObject().put("id", 1).put("category_id", 1))
        .plus(r.render(new JsonObject().put("id", 1).put("category_id", 2)));
    assertThat(t.keys()).containsExactly("product:1");
    assertThat(t.tags()).containsExactly("category:1", "category:2");
  }
}
