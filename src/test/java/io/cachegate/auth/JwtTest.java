package io.cachegate.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JwtTest {

  private final Jwt jwt = new Jwt("a-secret-of-at-least-thirty-two-bytes!!".getBytes(StandardCharsets.UTF_8));
  private final long now = 1_800_000_000_000L;

  @Test
  void aSignedTokenVerifiesAndCarriesItsClaims() throws Exception {
    String t = jwt.sign(new JsonObject().put("exp", now / 1000 + 60).put("cg", new JsonObject().put("keys", new JsonArray().add("a*"))));
    Jwt.Claims c = jwt.verify(t, now);
    assertThat(c.expiresAtMs()).isEqualTo(now + 60_000);
    assertThat(c.json().getJsonObject("cg").getJsonArray("keys")).containsExactly("a*");
  }

  @Test
  void tamperedUnsignedExpiredAndExpLessTokensAreRefused() {
    String t = jwt.sign(new JsonObject().put("exp", now / 1000 + 60));
    String[] p = t.split("\\.");
    String other = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"exp\":9999999999,\"cg\":{\"keys\":[\"*\"]}}".getBytes());
    assertThatThrownBy(() -> jwt.verify(p[0] + "." + other + "." + p[2], now)).hasMessageContaining("signature");
    String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes());
    assertThatThrownBy(() -> jwt.verify(none + "." + p[1] + ".", now)).hasMessageContaining("HS256");
    assertThatThrownBy(() -> jwt.verify(t, now + 61_000)).isInstanceOfSatisfying(Jwt.Invalid.class, e -> assertThat(e.expired).isTrue());
    assertThatThrownBy(() -> jwt.verify(jwt.sign(new JsonObject()), now)).hasMessageContaining("exp");
    assertThatThrownBy(() -> jwt.verify("garbage", now)).hasMessageContaining("JWT");
    Jwt otherKey = new Jwt("another-secret-of-at-least-32-bytes!!!!".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> otherKey.verify(t, now)).hasMessageContaining("signature");
  }

  @Test
  void grantsFollowThePatterns() {
    StreamGrant g = StreamGrant.fromClaim(new JsonObject().put("keys", new JsonArray().add("user:42:*")), Long.MAX_VALUE);
    assertThat(g.allowsKey("user:42:profile")).isTrue();
    assertThat(g.allowsPrefix("user:42:")).isTrue();
    assertThat(g.allowsPrefix("user:42:orders:")).isTrue();
    assertThat(g.allowsKey("user:43:profile")).isFalse();
    assertThat(g.allowsTag("admin")).isFalse();
    assertThat(g.allowsPrefix("user:")).isFalse();
    assertThat(g.allowsPrefix("user:4")).isFalse();
    assertThat(g.allowsAll()).isFalse();
    assertThat(StreamGrant.ALL.allowsAll()).isTrue();
    StreamGrant exact = StreamGrant.fromClaim(new JsonObject().put("tags", new JsonArray().add("team")), Long.MAX_VALUE);
    assertThat(exact.allowsTag("team")).isTrue();
    assertThat(exact.allowsTag("teams")).isFalse();
  }
}
