package io.cachegate.auth;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a stream token's cg claim lets its holder subscribe to. */
class StreamGrantTest {

  private static StreamGrant grant(String claim) {
    return StreamGrant.fromClaim(new JsonObject(claim), Long.MAX_VALUE);
  }

  @Test
  void aPrefixEntryAllowsThatPrefixAndWhatItCoversWithOrWithoutStar() {
    for (String entry : new String[] {"cart:42:", "cart:42:*"}) {
      StreamGrant g = grant("{\"prefixes\": [\"" + entry + "\"]}");
      assertThat(g.allowsPrefix("cart:42:")).as(entry).isTrue();
      assertThat(g.allowsPrefix("cart:42:items:")).as(entry).isTrue();
      assertThat(g.allowsKey("cart:42:total")).as(entry).isTrue();
      assertThat(g.allowsPrefix("cart:4")).as("wider than the grant, " + entry).isFalse();
      assertThat(g.allowsPrefix("cart:")).as(entry).isFalse();
      assertThat(g.allowsKey("cart:43:total")).as(entry).isFalse();
    }
  }

  @Test
  void anExactKeyEntryAllowsThatKeyButNoPrefix() {
    StreamGrant g = grant("{\"keys\": [\"user:1\", \"user:42:*\"], \"tags\": [\"user:42\"]}");
    assertThat(g.allowsKey("user:1")).isTrue();
    assertThat(g.allowsKey("user:10")).isFalse();
    assertThat(g.allowsPrefix("user:1")).as("would reach user:10 too").isFalse();
    assertThat(g.allowsPrefix("user:42:")).isTrue();
    assertThat(g.allowsPrefix("user:")).isFalse();
    assertThat(g.allowsTag("user:42")).isTrue();
    assertThat(g.allowsTag("user:43")).isFalse();
    assertThat(g.allowsAll()).isFalse();
  }
}
