package io.cachegate.auth;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * Stream tokens: JWTs signed with HS256 (RFC 7519, RFC 7515). Only HS256 is accepted (the header's
 * {@code alg} is checked, so {@code none} and algorithm confusion are refused), the signature is
 * compared in constant time, {@code exp} is required, {@code nbf} honoured. Thread-safe.
 */
public final class Jwt {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder D64 = Base64.getUrlDecoder();
  private static final String HEADER = B64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));

  private final byte[] secret;

  public Jwt(byte[] secret) {
    if (secret.length < 32) throw new IllegalArgumentException("an HS256 secret needs at least 32 bytes");
    this.secret = secret.clone();
  }

  /** A verified token's claims. */
  public record Claims(JsonObject json, long expiresAtMs) {}

  public static final class Invalid extends Exception {
    public final boolean expired;

    Invalid(String message, boolean expired) {
      super(message, null, false, false);
      this.expired = expired;
    }
  }

  public String sign(JsonObject claims) {
    String payload = B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    String signingInput = HEADER + "." + payload;
    return signingInput + "." + B64.encodeToString(mac(signingInput));
  }

  public Claims verify(String token, long nowMs) throws Invalid {
    if (token == null || token.length() > 8192) throw new Invalid("no token, or one too long", false);
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) throw new Invalid("not a JWT", false);
    JsonObject header = json(parts[0]);
    if (!"HS256".equals(header.getValue("alg"))) throw new Invalid("only HS256 tokens are accepted", false);
    byte[] sig;
    try {
      sig = D64.decode(parts[2]);
    } catch (IllegalArgumentException e) {
      throw new Invalid("bad signature encoding", false);
    }
    if (!MessageDigest.isEqual(sig, mac(parts[0] + "." + parts[1]))) throw new Invalid("bad signature", false);
    JsonObject claims = json(parts[1]);
    if (!(claims.getValue("exp") instanceof Number exp)) throw new Invalid("exp is required", false);
    long expMs = exp.longValue() * 1000;
    if (expMs <= nowMs) throw new Invalid("token expired", true);
    if (claims.getValue("nbf") instanceof Number nbf && nbf.longValue() * 1000 > nowMs) throw new Invalid("token not valid yet", false);
    return new Claims(claims, expMs);
  }

  private static JsonObject json(String part) throws Invalid {
    try {
      return new JsonObject(new String(D64.decode(part), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      throw new Invalid("malformed token", false);
    }
  }

  private byte[] mac(String input) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(secret, "HmacSHA256"));
      return m.doFinal(input.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
