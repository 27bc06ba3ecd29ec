package io.cachegate.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.cachegate.config.GatewayConfig.Scope;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Verifies the JWTs that stream clients and services present (docs/security.md). Parsing, key
 * matching and signature checks are Nimbus JOSE+JWT's; this class decides which keys and algorithms
 * are trusted and what a token's claims must say. Two kinds of keys, each with its own rules:
 * <ul>
 *   <li>the gateway's own HS256 secret ({@code auth.jwt.secretEnv}): the tokens {@code POST /v1/tokens}
 *       mints, or that a backend sharing the secret signs. Checked on this clock, with no skew and no
 *       issuer or audience;</li>
 *   <li>the identity provider's public keys ({@code auth.jwt.jwksUrl}, {@code auth.jwt.publicKeyFile}):
 *       RS*, PS*, ES* and EdDSA, the key chosen by {@code kid}; {@code iss} and {@code aud} must match
 *       when configured, {@code exp} and {@code nbf} are allowed {@code clockSkewSeconds}.</li>
 * </ul>
 * An HMAC token is checked with the secret only, never with a public key, so the algorithm-confusion
 * attack (HS256 signed with the public key as its secret) has no key to succeed with; with no secret
 * configured, HS* is refused outright. {@code alg: none} and encrypted tokens are refused. The JWKS
 * keys arrive from {@link JwksVerticle}, the only writer of {@link #remoteKeys}; readers see one
 * immutable snapshot. Thread-safe.
 */
public final class TokenVerifier {

  /** Why a token was refused: the {@code reason} field of the 401 body and the metric's label. */
  public enum Reason {
    MALFORMED("malformed"), ALG_NONE("alg_none"), ALG_NOT_ALLOWED("alg_not_allowed"), WRONG_TYPE("wrong_type"),
    UNKNOWN_KID("unknown_kid"), KEYS_UNAVAILABLE("keys_unavailable"), BAD_SIGNATURE("bad_signature"),
    MISSING_EXP("missing_exp"), EXPIRED("expired"), NOT_YET_VALID("not_yet_valid"),
    WRONG_ISSUER("wrong_issuer"), WRONG_AUDIENCE("wrong_audience");

    public final String code;

    Reason(String code) {
      this.code = code;
    }

    /** A refusal that a fresh copy of the JWKS could turn into an acceptance. */
    public boolean curedByRefresh() {
      return this == UNKNOWN_KID || this == KEYS_UNAVAILABLE;
    }
  }

  public static final class Refused extends Exception {
    public final Reason reason;

    Refused(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  /** A verified token: its claims as sent, and until when it is valid (its {@code exp} plus any skew). */
  public record Verified(JsonObject claims, long validUntilMs, boolean fromProvider) {
    public String subject() {
      return claims.getValue("sub") instanceof String s ? s : "";
    }
  }

  /** What {@code auth.jwt.*} configures. {@code secret} null: no HS256; {@code jwksUrl} empty: no JWKS. */
  public record Settings(byte[] secret, List<PublicKey> fileKeys, String jwksUrl, String issuer, List<String> audience,
                         String claim, long clockSkewSeconds, String scopeClaim, String scopePrefix) {
    public Settings {
      fileKeys = List.copyOf(fileKeys);
      audience = List.copyOf(audience);
    }
  }

  /**
   * The JWKS as last fetched, for /health: {@code fetchedAtMs} 0 until a fetch succeeded, {@code error}
   * null unless the last fetch failed.
   */
  public record JwksStatus(String url, boolean up, int keyCount, long fetchedAtMs, long attemptedAtMs, String error) {}

  /** In the order the refusals name them; Ed25519 is the fully-specified name of EdDSA with that curve. */
  static final List<JWSAlgorithm> PROVIDER_ALGORITHMS = List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
      JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
      JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);
  private static final String PROVIDER_ALGORITHM_NAMES = String.join(", ", PROVIDER_ALGORITHMS.stream()
      .filter(a -> a != JWSAlgorithm.Ed25519).map(JWSAlgorithm::getName).toList());
  private static final Set<String> ACCEPTED_TYPES = Set.of("jwt", "at+jwt", "application/jwt", "application/at+jwt");
  private static final int MAX_TOKEN_CHARS = 16_384;
  private static final int MIN_RSA_BITS = 2048;

  private record Candidate(JWK jwk, JWSVerifier verifier) {}

  private record Remote(List<Candidate> keys, JwksStatus status) {}

  private final Settings settings;
  private final MACVerifier hmac; // null: no secret
  private final byte[] secret;
  private final List<Candidate> fileKeys;
  private volatile Remote remote;

  public TokenVerifier(Settings settings) {
    this.settings = settings;
    this.secret = settings.secret() == null ? null : settings.secret().clone();
    try {
      this.hmac = secret == null ? null : new MACVerifier(secret);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("an HS256 secret needs at least 32 bytes", e);
    }
    List<JWK> jwks = new ArrayList<>();
    for (PublicKey k : settings.fileKeys()) jwks.add(jwk(k));
    List<String> skipped = new ArrayList<>();
    this.fileKeys = candidates(jwks, skipped::add);
    if (!skipped.isEmpty()) throw new IllegalArgumentException(String.join("; ", skipped));
    this.remote = settings.jwksUrl().isEmpty() ? null
        : new Remote(null, new JwksStatus(settings.jwksUrl(), false, 0, 0, 0, null));
  }

  /** Whether any token can be verified: a secret, a key file or a JWKS is configured. */
  public boolean enabled() {
    return secret != null || providerKeys();
  }

  /** The identity provider's keys are configured: a key file, or a JWKS (fetched or not yet). */
  private boolean providerKeys() {
    return !fileKeys.isEmpty() || remote != null;
  }

  /** Whether {@code POST /v1/tokens} can mint (an HS256 secret is configured). */
  public boolean canSign() {
    return secret != null;
  }

  public Settings settings() {
    return settings;
  }

  /** An HS256 token with these claims, signed with the gateway's secret. */
  public String sign(JsonObject claims) {
    if (secret == null) throw new IllegalStateException("no HS256 secret is configured");
    try {
      JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), new Payload(claims.encode()));
      jws.sign(new MACSigner(secret));
      return jws.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Checks a token's signature and claims at {@code nowMs}. */
  public Verified verify(String token, long nowMs) throws Refused {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw new Refused(Reason.MALFORMED, "no token, or one longer than " + MAX_TOKEN_CHARS + " characters");
    }
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      throw new Refused(Reason.MALFORMED, "not a JWT (" + e.getMessage() + ")");
    }
    if (jwt instanceof PlainJWT) throw new Refused(Reason.ALG_NONE, "unsigned tokens (alg none) are not accepted");
    if (jwt instanceof EncryptedJWT || !(jwt instanceof SignedJWT signed)) {
      throw new Refused(Reason.MALFORMED, "encrypted tokens are not accepted; send a signed JWT");
    }
    JWSHeader h = signed.getHeader();
    if (h.getCriticalParams() != null && !h.getCriticalParams().isEmpty()) {
      throw new Refused(Reason.MALFORMED, "the token's crit header names parameters this gateway does not understand: " + h.getCriticalParams());
    }
    if (h.getType() != null && !ACCEPTED_TYPES.contains(h.getType().getType().toLowerCase(Locale.ROOT))) {
      throw new Refused(Reason.WRONG_TYPE, "typ " + h.getType() + " is not an access token (JWT or at+jwt)");
    }
    JWSAlgorithm alg = h.getAlgorithm();
    boolean provider;
    if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
      if (hmac == null) {
        throw new Refused(Reason.ALG_NOT_ALLOWED, "alg " + alg + " is not accepted: this gateway has no HS256 secret and verifies "
            + "tokens with its identity provider's public keys (" + PROVIDER_ALGORITHM_NAMES + ")");
      }
      if (!JWSAlgorithm.HS256.equals(alg)) throw new Refused(Reason.ALG_NOT_ALLOWED, "alg " + alg + " is not accepted; HS256 is");
      if (!verifies(signed, hmac)) throw new Refused(Reason.BAD_SIGNATURE, "bad signature");
      provider = false;
    } else if (PROVIDER_ALGORITHMS.contains(alg) && providerKeys()) {
      checkProviderSignature(signed, alg, h.getKeyID());
      provider = true;
    } else {
      throw new Refused(Reason.ALG_NOT_ALLOWED, "alg " + alg + " is not accepted; accepted: " + acceptedAlgorithms());
    }
    return checkClaims(signed, nowMs, provider);
  }

  private void checkProviderSignature(SignedJWT signed, JWSAlgorithm alg, String kid) throws Refused {
    List<Candidate> keys = new ArrayList<>(matching(fileKeys, alg, null));
    Remote r = remote;
    if (r != null && r.keys() != null) keys.addAll(matching(r.keys(), alg, kid));
    if (keys.isEmpty()) {
      if (r != null && r.keys() == null && fileKeys.isEmpty()) {
        throw new Refused(Reason.KEYS_UNAVAILABLE, "the JWKS at " + r.status().url() + " has not been fetched yet"
            + (r.status().error() == null ? "" : " (" + r.status().error() + ")") + "; retry shortly");
      }
      String where = r == null ? "auth.jwt.publicKeyFile" : "the JWKS at " + r.status().url();
      throw new Refused(Reason.UNKNOWN_KID, (kid == null ? "no " + alg + " key" : "no " + alg + " key with kid '" + kid + "'")
          + " in " + where);
    }
    for (Candidate c : keys) if (verifies(signed, c.verifier())) return;
    throw new Refused(Reason.BAD_SIGNATURE, "bad signature");
  }

  private Verified checkClaims(SignedJWT signed, long nowMs, boolean provider) throws Refused {
    JWTClaimsSet c;
    JsonObject claims;
    try {
      c = signed.getJWTClaimsSet();
      claims = new JsonObject(signed.getPayload().toString());
    } catch (ParseException | DecodeException e) {
      throw new Refused(Reason.MALFORMED, "the token's claims are not a JSON object of valid claims");
    }
    long skewMs = provider ? settings.clockSkewSeconds() * 1000 : 0;
    if (c.getExpirationTime() == null) throw new Refused(Reason.MISSING_EXP, "exp is required");
    long validUntil = c.getExpirationTime().getTime() + skewMs;
    if (validUntil <= nowMs) {
      throw new Refused(Reason.EXPIRED, "token expired at " + Instant.ofEpochMilli(c.getExpirationTime().getTime())
          + (skewMs > 0 ? " (clock skew allowed: " + settings.clockSkewSeconds() + " s)" : ""));
    }
    if (c.getNotBeforeTime() != null && c.getNotBeforeTime().getTime() - skewMs > nowMs) {
      throw new Refused(Reason.NOT_YET_VALID, "token not valid before " + Instant.ofEpochMilli(c.getNotBeforeTime().getTime()));
    }
    if (provider) {
      if (!settings.issuer().isEmpty() && !settings.issuer().equals(c.getIssuer())) {
        throw new Refused(Reason.WRONG_ISSUER, "iss " + quoted(c.getIssuer()) + " is not the configured issuer '" + settings.issuer() + "'");
      }
      List<String> aud = c.getAudience() == null ? List.of() : c.getAudience();
      if (!settings.audience().isEmpty() && Collections.disjoint(aud, settings.audience())) {
        throw new Refused(Reason.WRONG_AUDIENCE, "aud " + aud + " names none of the configured audiences " + settings.audience());
      }
    }
    return new Verified(claims, validUntil, provider);
  }

  /** What a verified token may subscribe to: its {@code auth.jwt.claim} (an object, or JSON text of one). */
  public StreamGrant grant(Verified v) {
    Object cg = v.claims().getValue(settings.claim());
    if (cg instanceof String s) {
      try {
        cg = new JsonObject(s);
      } catch (DecodeException e) {
        cg = null;
      }
    }
    return StreamGrant.fromClaim(cg instanceof JsonObject o ? o : null, v.validUntilMs());
  }

  /**
   * The REST scopes a verified token carries in {@code auth.jwt.scopeClaim}: a space-separated string
   * (OAuth's {@code scope}) or a list ({@code scp}, Auth0's {@code permissions}); each value, less
   * {@code auth.jwt.scopePrefix}, that names a scope. Other values are ignored.
   */
  public Set<Scope> scopes(Verified v) {
    Object raw = v.claims().getValue(settings.scopeClaim());
    List<String> values = new ArrayList<>();
    if (raw instanceof String s) values.addAll(List.of(s.trim().split("\\s+")));
    else if (raw instanceof JsonArray a) for (Object o : a) if (o instanceof String s) values.add(s);
    Set<Scope> out = EnumSet.noneOf(Scope.class);
    for (String value : values) {
      if (!value.startsWith(settings.scopePrefix())) continue;
      String name = value.substring(settings.scopePrefix().length()).toUpperCase(Locale.ROOT);
      for (Scope scope : Scope.values()) if (scope.name().equals(name)) out.add(scope);
    }
    return out;
  }

  // ---- the JWKS: written by JwksVerticle only ----

  /** A fetched key set replaces the previous one; returns what was left out and why (one line each). */
  public List<String> remoteKeys(JWKSet set, long nowMs) {
    List<String> skipped = new ArrayList<>();
    List<Candidate> keys = candidates(set.getKeys(), skipped::add);
    remote = new Remote(keys, new JwksStatus(settings.jwksUrl(), true, keys.size(), nowMs, nowMs, null));
    return skipped;
  }

  /** A fetch failed: the last good key set stays in use. */
  public void remoteFailed(String error, long nowMs) {
    Remote r = remote;
    JwksStatus s = r.status();
    remote = new Remote(r.keys(), new JwksStatus(s.url(), false, s.keyCount(), s.fetchedAtMs(), nowMs, error));
  }

  /** The JWKS's state, or null when none is configured. */
  public JwksStatus jwksStatus() {
    Remote r = remote;
    return r == null ? null : r.status();
  }

  // ---- keys ----

  private static boolean verifies(SignedJWT signed, JWSVerifier verifier) {
    try {
      return signed.verify(verifier);
    } catch (JOSEException | IllegalStateException e) {
      return false;
    }
  }

  /** The keys that may have signed a token with {@code alg} and, when {@code kid} is given, that kid. */
  private static List<Candidate> matching(List<Candidate> keys, JWSAlgorithm alg, String kid) {
    KeyType type = KeyType.forAlgorithm(alg);
    Set<Curve> curves = Curve.forJWSAlgorithm(alg);
    List<Candidate> out = new ArrayList<>();
    for (Candidate c : keys) {
      JWK k = c.jwk();
      if (!k.getKeyType().equals(type)) continue;
      if (kid != null && !kid.equals(k.getKeyID())) continue;
      if (k.getAlgorithm() != null && !k.getAlgorithm().equals(alg) && !(isEdDsa(alg) && isEdDsa(k.getAlgorithm()))) continue;
      if (curves != null && !curves.isEmpty() && k instanceof com.nimbusds.jose.jwk.AsymmetricJWK
          && !curves.contains(curveOf(k))) continue;
      out.add(c);
    }
    return out;
  }

  private static boolean isEdDsa(com.nimbusds.jose.Algorithm a) {
    return JWSAlgorithm.EdDSA.equals(a) || JWSAlgorithm.Ed25519.equals(a);
  }

  private static Curve curveOf(JWK k) {
    if (k instanceof ECKey e) return e.getCurve();
    if (k instanceof OctetKeyPair o) return o.getCurve();
    return null;
  }

  /** Signing keys with a verifier each; keys that cannot verify JWS signatures are reported and left out. */
  private static List<Candidate> candidates(List<JWK> jwks, Consumer<String> skipped) {
    List<Candidate> out = new ArrayList<>();
    for (JWK k : jwks) {
      String name = k.getKeyID() == null ? "a " + k.getKeyType() + " key" : "key '" + k.getKeyID() + "'";
      if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) {
        skipped.accept(name + ": use is " + k.getKeyUse().identifier() + ", not sig");
        continue;
      }
      try {
        if (k instanceof RSAKey r) {
          if (r.size() < MIN_RSA_BITS) skipped.accept(name + ": RSA keys under " + MIN_RSA_BITS + " bits are not trusted");
          else out.add(new Candidate(r.toPublicJWK(), new RSASSAVerifier(r.toPublicJWK())));
        } else if (k instanceof ECKey e) {
          out.add(new Candidate(e.toPublicJWK(), new ECDSAVerifier(e.toPublicJWK())));
        } else if (k instanceof OctetKeyPair o && Curve.Ed25519.equals(o.getCurve())) {
          out.add(new Candidate(o.toPublicJWK(), new JdkEd25519Verifier(o.getDecodedX())));
        } else {
          skipped.accept(name + ": " + k.getKeyType() + (k instanceof OctetKeyPair o ? " " + o.getCurve() : "")
              + " keys are not used (symmetric keys never come from a key set; Ed448 is not supported)");
        }
      } catch (JOSEException e) {
        skipped.accept(name + ": " + e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  /** A PEM public key (RSA, EC or Ed25519) as a JWK. */
  private static JWK jwk(PublicKey k) {
    if (k instanceof RSAPublicKey r) return new RSAKey.Builder(r).build();
    if (k instanceof ECPublicKey e) {
      Curve curve = Curve.forECParameterSpec(e.getParams());
      if (curve == null) throw new IllegalArgumentException("an EC key on an unsupported curve");
      return new ECKey.Builder(curve, e).build();
    }
    byte[] raw = JdkEd25519Verifier.rawKey(k);
    if (raw != null) return new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(raw)).build();
    throw new IllegalArgumentException("a " + k.getAlgorithm() + " key; RSA, EC (P-256, P-384, P-521) and Ed25519 keys are supported");
  }

  private String acceptedAlgorithms() {
    List<String> out = new ArrayList<>();
    if (hmac != null) out.add("HS256");
    if (providerKeys()) out.add(PROVIDER_ALGORITHM_NAMES);
    return out.isEmpty() ? "none" : String.join(", ", out);
  }

  private static String quoted(String s) {
    return s == null ? "(none)" : "'" + s + "'";
  }
}
