package io.cachegate.api;

import io.cachegate.config.ConfigLoader;
import io.cachegate.config.GatewayConfig.ApiKey;
import io.cachegate.config.GatewayConfig.Scope;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bearer API keys: which token passes which scope, and the 401/403 for the rest. */
class ApiAuthTest {

  private static final String READER = "reader-token-0123456789";
  private static final String WRITER = "writer-token-0123456789";
  private static final String INVALIDATOR = "invalidator-token-0123456789";
  private static final String ADMIN = "admin-token-0123456789ab";
  private static final String READ_WRITE = "rw-token-0123456789abcd";

  private static final ApiAuth AUTH = new ApiAuth(ConfigLoader.fromTree(new JsonObject("""
      {"auth": {"enabled": true, "apiKeys": [
        {"name": "reader", "tokenEnv": "CACHEGATE_KEY_READER", "scopes": ["read"]},
        {"name": "writer", "tokenEnv": "CACHEGATE_KEY_WRITER", "scopes": ["write"]},
        {"name": "invalidator", "tokenEnv": "CACHEGATE_KEY_INVALIDATOR", "scopes": ["invalidate"]},
        {"name": "ops", "tokenEnv": "CACHEGATE_KEY_OPS", "scopes": ["admin"]},
        {"name": "app", "tokenEnv": "CACHEGATE_KEY_APP", "scopes": ["read", "write"]}
      ]}}"""), Map.of("CACHEGATE_KEY_READER", READER, "CACHEGATE_KEY_WRITER", WRITER,
      "CACHEGATE_KEY_INVALIDATOR", INVALIDATOR, "CACHEGATE_KEY_OPS", ADMIN, "CACHEGATE_KEY_APP", READ_WRITE)).auth());

  private static String bearer(String token) {
    return "Bearer " + token;
  }

  private static void refused(ThrowingCallable call, int status, String code, String message) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status).isEqualTo(status);
      assertThat(e.code).isEqualTo(code);
    }).hasMessage(message);
  }

  private static void unauthorized(String header, Scope scope) {
    refused(() -> AUTH.require(header, scope), 401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>");
  }

  @Test
  void eachKeyPassesItsOwnScopesAndIsNamed() {
    assertThat(AUTH.enabled()).isTrue();
    assertThat(AUTH.require(bearer(READER), Scope.READ).name()).isEqualTo("reader");
    assertThat(AUTH.require(bearer(WRITER), Scope.WRITE).name()).isEqualTo("writer");
    assertThat(AUTH.require(bearer(INVALIDATOR), Scope.INVALIDATE).name()).isEqualTo("invalidator");
    assertThat(AUTH.require(bearer(READ_WRITE), Scope.READ).name()).isEqualTo("app");
    assertThat(AUTH.require(bearer(READ_WRITE), Scope.WRITE).name()).isEqualTo("app");
  }

  @Test
  void adminCoversEveryScope() {
    for (Scope s : Scope.values()) assertThat(AUTH.require(bearer(ADMIN), s).name()).as(s.name()).isEqualTo("ops");
  }

  @Test
  void aKeyWithoutTheScopeIsForbiddenNamingKeyAndScope() {
    refused(() -> AUTH.require(bearer(READER), Scope.WRITE), 403, "forbidden", "API key 'reader' lacks the write scope");
    refused(() -> AUTH.require(bearer(READER), Scope.INVALIDATE), 403, "forbidden", "API key 'reader' lacks the invalidate scope");
    refused(() -> AUTH.require(bearer(READER), Scope.ADMIN), 403, "forbidden", "API key 'reader' lacks the admin scope");
    refused(() -> AUTH.require(bearer(WRITER), Scope.READ), 403, "forbidden", "API key 'writer' lacks the read scope");
    refused(() -> AUTH.require(bearer(WRITER), Scope.INVALIDATE), 403, "forbidden", "API key 'writer' lacks the invalidate scope");
    refused(() -> AUTH.require(bearer(INVALIDATOR), Scope.READ), 403, "forbidden", "API key 'invalidator' lacks the read scope");
    refused(() -> AUTH.require(bearer(INVALIDATOR), Scope.WRITE), 403, "forbidden", "API key 'invalidator' lacks the write scope");
    refused(() -> AUTH.require(bearer(READ_WRITE), Scope.INVALIDATE), 403, "forbidden", "API key 'app' lacks the invalidate scope");
    refused(() -> AUTH.require(bearer(READ_WRITE), Scope.ADMIN), 403, "forbidden", "API key 'app' lacks the admin scope");
  }

  @Test
  void permitsIsTheScopeOrAdmin() {
    ApiKey reader = AUTH.identify(READER);
    ApiKey admin = AUTH.identify(ADMIN);
    ApiKey rw = AUTH.identify(READ_WRITE);
    assertThat(ApiAuth.permits(reader, Scope.READ)).isTrue();
    assertThat(ApiAuth.permits(reader, Scope.WRITE)).isFalse();
    assertThat(ApiAuth.permits(reader, Scope.ADMIN)).isFalse();
    assertThat(ApiAuth.permits(rw, Scope.WRITE)).isTrue();
    assertThat(ApiAuth.permits(rw, Scope.INVALIDATE)).isFalse();
    for (Scope s : Scope.values()) assertThat(ApiAuth.permits(admin, s)).isTrue();
  }

  @Test
  void aMissingOrMalformedHeaderIsUnauthorized() {
    unauthorized(null, Scope.READ);
    unauthorized("", Scope.READ);
    unauthorized("Bearer", Scope.READ);
    unauthorized("Bearer ", Scope.READ);
    unauthorized("Bearer    ", Scope.READ);
    unauthorized(READER, Scope.READ); // the token without the scheme
    unauthorized("Basic " + READER, Scope.READ);
    unauthorized("Bearer" + READER, Scope.READ); // no space after the scheme
    unauthorized("Token " + READER, Scope.READ);
  }

  @Test
  void aWrongTokenIsUnauthorizedEvenForAKeyWithEveryScope() {
    unauthorized(bearer("not-a-configured-token-at-all"), Scope.READ);
    unauthorized(bearer(ADMIN.substring(0, ADMIN.length() - 1)), Scope.READ); // a prefix of a real token
    unauthorized(bearer(ADMIN + "x"), Scope.READ); // a real token with more after it
    unauthorized(bearer(ADMIN.toUpperCase()), Scope.READ); // tokens are case-sensitive
    unauthorized(bearer(READER + " " + WRITER), Scope.READ);
    // 401 comes before the scope check: a wrong token never learns which scope it would need
    unauthorized(bearer("wrong-token-0123456789"), Scope.ADMIN);
  }

  @Test
  void theSchemeIsCaseInsensitiveAndSurroundingSpaceIsIgnored() {
    assertThat(AUTH.require("bearer " + READER, Scope.READ).name()).isEqualTo("reader");
    assertThat(AUTH.require("BEARER " + READER, Scope.READ).name()).isEqualTo("reader");
    assertThat(AUTH.require("  Bearer   " + READER + "  ", Scope.READ).name()).isEqualTo("reader");
  }

  @Test
  void bearerExtractsTheTokenOrNull() {
    assertThat(ApiAuth.bearer("Bearer abc")).isEqualTo("abc");
    assertThat(ApiAuth.bearer("bEaReR abc")).isEqualTo("abc");
    assertThat(ApiAuth.bearer(" Bearer  abc ")).isEqualTo("abc");
    assertThat(ApiAuth.bearer(null)).isNull();
    assertThat(ApiAuth.bearer("")).isNull();
    assertThat(ApiAuth.bearer("Bearer")).isNull();
    assertThat(ApiAuth.bearer("Basic abc")).isNull();
    assertThat(ApiAuth.bearer("Bearerabc")).isNull();
  }

  @Test
  void identifyFindsTheKeyOfATokenAndNothingForOthers() {
    assertThat(AUTH.identify(WRITER).name()).isEqualTo("writer");
    assertThat(AUTH.identify(WRITER).scopes()).containsExactly(Scope.WRITE);
    assertThat(AUTH.identify(null)).isNull();
    assertThat(AUTH.identify("")).isNull();
    assertThat(AUTH.identify("unknown-token-0123456789")).isNull();
  }

  @Test
  void withAuthOffEveryRequestPassesWithoutAKey() {
    ApiAuth off = new ApiAuth(ConfigLoader.fromTree(new JsonObject().put("auth", new JsonObject().put("enabled", false)), Map.of()).auth());
    assertThat(off.enabled()).isFalse();
    for (Scope s : Scope.values()) {
      assertThat(off.require(null, s)).isNull();
      assertThat(off.require("Bearer whatever", s)).isNull();
      assertThat(off.require("garbage", s)).isNull();
    }
  }

  @Test
  void withAuthOffConfiguredKeysAreNotRequired() {
    ApiAuth off = new ApiAuth(ConfigLoader.fromTree(new JsonObject("""
        {"auth": {"enabled": false, "apiKeys": [{"name": "ops", "tokenEnv": "CACHEGATE_KEY_OPS", "scopes": ["read"]}]}}"""),
        Map.of("CACHEGATE_KEY_OPS", ADMIN)).auth());
    assertThat(off.enabled()).isFalse();
    assertThat(off.require(null, Scope.ADMIN)).isNull();
    assertThat(off.require(bearer("wrong-token-0123456789"), Scope.WRITE)).isNull();
  }
}
