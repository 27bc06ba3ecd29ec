package io.cachegate.api;

import io.cachegate.model.ErrorCode;
import io.cachegate.config.GatewayConfig.ApiKey;
import io.cachegate.config.GatewayConfig.Auth;
import io.cachegate.config.GatewayConfig.Scope;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Bearer API keys (docs/security.md). Tokens are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, over every configured key, so neither the length nor the position
 * of a mismatch shows in the timing. Immutable and thread-safe.
 */
public final class ApiAuth {

  private record Entry(ApiKey key, byte[] digest) {}

  private final boolean enabled;
  private final List<Entry> entries;

  public ApiAuth(Auth auth) {
    this.enabled = auth.enabled();
    this.entries = auth.apiKeys().stream().map(k -> new Entry(k, digest(k.token()))).toList();
  }

  public boolean enabled() {
    return enabled;
  }

  /** The key a presented token belongs to, or null. */
  public ApiKey identify(String token) {
    if (token == null || token.isEmpty()) return null;
    byte[] d = digest(token);
    ApiKey found = null;
    for (Entry e : entries) if (MessageDigest.isEqual(e.digest, d)) found = e.key;
    return found;
  }

  /** The token of an {@code Authorization: Bearer <token>} header, or null. */
  public static String bearer(String header) {
    if (header == null) return null;
    String h = header.trim();
    if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    return h.substring(7).trim();
  }

  /** Throws 401 or 403 as the contract says; the caller's key, or null when auth is off. */
  public ApiKey require(String authorizationHeader, Scope scope) {
    return enabled ? admit(identify(bearer(authorizationHeader)), scope) : null;
  }

  /** The key already identified (null: none matched), or 401 or 403 as {@link #require} answers. */
  public ApiKey admit(ApiKey key, Scope scope) {
    if (key == null) throw new ApiError(ErrorCode.UNAUTHORIZED, "a valid API key is required: Authorization: Bearer <key>");
    if (!permits(key, scope)) {
      throw new ApiError(ErrorCode.FORBIDDEN, "API key '" + key.name() + "' lacks the " + scope.name().toLowerCase() + " scope");
    }
    return key;
  }

  /** Whether a key may act under a scope: it has that scope, or admin. */
  public static boolean permits(ApiKey key, Scope scope) {
    return key.scopes().contains(scope) || key.scopes().contains(Scope.ADMIN);
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
