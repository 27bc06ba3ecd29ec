package io.cachegate.auth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import io.cachegate.auth.TokenVerifier.Reason;
import io.cachegate.auth.TokenVerifier.Refused;
import io.cachegate.auth.TokenVerifier.Settings;
import io.cachegate.config.GatewayConfig.Scope;
import io.cachegate.testing.TestKeys;
import io.cachegate.testing.TestKeys.Signer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenVerifierTest {

  static final byte[] SECRET = "a-secret-of-at-least-thirty-two-bytes!!".getBytes(StandardCharsets.UTF_8);
  static final long NOW = 1_800_000_000_000L;
  static final String ISS = "https://idp.example.com/";
  static final String URL = "https://idp.example.com/.well-known/jwks.json";

  static final Signer RS256 = TestKeys.rsa("rsa-1", JWSAlgorithm.RS256);
  static final Signer ES256 = TestKeys.ec("ec-1", JWSAlgorithm.ES256);

  static Settings settings(byte[] secret, List<PublicKey> file, String jwksUrl) {
    return new Settings(secret, file, jwksUrl, ISS, List.of("cachegate", "other-api"), "https://example.com/cg", 30, "scope", "");
  }

  /** A verifier of the provider's JWKS, already fetched with these keys. */
  static TokenVerifier provider(Signer... keys) {
    TokenVerifier v = new TokenVerifier(settings(null, List.of(), URL));
    v.remoteKeys(set(keys), NOW);
    return v;
  }

  static JWKSet set(Signer... keys) {
    return new JWKSet(java.util.Arrays.stream(keys).map(Signer::jwk).toList());
  }

  static JsonObject claims() {
    return new JsonObject().put("iss", ISS).put("aud", "cachegate").put("sub", "user-7").put("exp", NOW / 1000 + 60)
        .put("https://example.com/cg", new JsonObject().put("keys", new JsonArray().add("user:7:*")));
  }

  static Reason reason(TokenVerifier v, String token, long now) {
    try {
      v.verify(token, now);
      return null;
    } catch (Refused r) {
      return r.reason;
    }
  }

  @Test
  void everyProviderAlgorithmVerifiesWithItsKeyChosenByKid() throws Exception {
    List<Signer> keys = List.of(RS256, TestKeys.rsa("rsa-384", JWSAlgorithm.RS384), TestKeys.rsa("rsa-512", JWSAlgorithm.RS512),
        TestKeys.rsa("ps-256", JWSAlgorithm.PS256), ES256, TestKeys.ec("ec-384", JWSAlgorithm.ES384), TestKeys.ed25519("ed-1"));
    TokenVerifier v = provider(keys.toArray(Signer[]::new));
    for (Signer k : keys) {
      TokenVerifier.Verified ok = v.verify(k.sign(claims()), NOW);
      assertThat(ok.fromProvider()).as(k.alg().getName()).isTrue();
      assertThat(ok.subject()).isEqualTo("user-7");
      assertThat(ok.validUntilMs()).isEqualTo(NOW + 60_000 + 30_000); // exp plus the skew
      assertThat(v.grant(ok).allowsKey("user:7:profile")).isTrue();
      assertThat(v.grant(ok).allowsKey("user:8:profile")).isFalse();
    }
    // a key's kid is its own: a token naming another key's kid does not verify with the right key's kid
    JWSHeader wrongKid = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("ec-1").build();
    assertThat(reason(v, RS256.sign(wrongKid, claims()), NOW)).isEqualTo(Reason.UNKNOWN_KID);
    // and a kid that names a key of the set signed by someone else's key: a bad signature
    Signer impostor = new Signer("rsa-1", JWSAlgorithm.RS256, TestKeys.rsa("x", JWSAlgorithm.RS256).pair());
    assertThat(reason(v, impostor.sign(claims()), NOW)).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void unsignedTamperedAndConfusedTokensAreRefused() {
    TokenVerifier v = provider(RS256);
    String good = RS256.sign(claims());
    String[] p = good.split("\\.");
    String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(claims().put("sub", "admin").encode().getBytes());
    assertThat(reason(v, p[0] + "." + forged + "." + p[2], NOW)).isEqualTo(Reason.BAD_SIGNATURE);
    String none = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes());
    assertThat(reason(v, none + "." + p[1] + ".", NOW)).isEqualTo(Reason.ALG_NONE);
    String noneCase = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"nOnE\"}".getBytes());
    assertThat(reason(v, noneCase + "." + p[1] + "." + p[2], NOW)).isIn(Reason.ALG_NOT_ALLOWED, Reason.MALFORMED);
    assertThat(reason(v, "garbage", NOW)).isEqualTo(Reason.MALFORMED);
    assertThat(reason(v, "a.b.c", NOW)).isEqualTo(Reason.MALFORMED);
    // algorithm confusion: HS256 "signed" with the public key (its DER bytes, or its PEM text) as the secret
    byte[] der = RS256.pair().getPublic().getEncoded();
    assertThat(reason(v, TestKeys.hs256(der, "rsa-1", claims()), NOW)).isEqualTo(Reason.ALG_NOT_ALLOWED);
    assertThat(reason(v, TestKeys.hs256(RS256.pem().getBytes(), "rsa-1", claims()), NOW)).isEqualTo(Reason.ALG_NOT_ALLOWED);
    // with the gateway's own secret configured too, HS256 is checked with that secret only
    TokenVerifier both = new TokenVerifier(settings(SECRET, List.of(), URL));
    both.remoteKeys(set(RS256), NOW);
    assertThat(reason(both, TestKeys.hs256(RS256.pem().getBytes(), "rsa-1", claims()), NOW)).isEqualTo(Reason.BAD_SIGNATURE);
    assertThat(reason(both, TestKeys.hs256(SECRET, null, claims()), NOW)).isNull();
    // a typ that is not an access token, and a crit header nobody here understands
    JWSHeader dpop = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").type(new JOSEObjectType("dpop+jwt")).build();
    assertThat(reason(v, RS256.sign(dpop, claims()), NOW)).isEqualTo(Reason.WRONG_TYPE);
    JWSHeader at = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").type(new JOSEObjectType("at+jwt")).build();
    assertThat(reason(v, RS256.sign(at, claims()), NOW)).isNull();
    JWSHeader crit = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1").criticalParams(Set.of("exp-extension"))
        .customParam("exp-extension", 1).build();
    assertThat(reason(v, RS256.sign(crit, claims()), NOW)).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void issuerAudienceAndTimesAreCheckedWithTheSkew() {
    TokenVerifier v = provider(ES256);
    assertThat(reason(v, ES256.sign(claims().put("iss", "https://evil.example.com/")), NOW)).isEqualTo(Reason.WRONG_ISSUER);
    assertThat(reason(v, ES256.sign(claims().put("iss", null)), NOW)).isEqualTo(Reason.WRONG_ISSUER);
    assertThat(reason(v, ES256.sign(claims().put("aud", "another-api")), NOW)).isEqualTo(Reason.WRONG_AUDIENCE);
    assertThat(reason(v, ES256.sign(claims().put("aud", new JsonArray().add("x").add("other-api"))), NOW)).isNull();
    assertThat(reason(v, ES256.sign(claims().put("aud", null)), NOW)).isEqualTo(Reason.WRONG_AUDIENCE);
    long s = NOW / 1000;
    assertThat(reason(v, ES256.sign(claims().put("exp", s - 20)), NOW)).isNull(); // within 30 s of skew
    assertThat(reason(v, ES256.sign(claims().put("exp", s - 31)), NOW)).isEqualTo(Reason.EXPIRED);
    assertThat(reason(v, ES256.sign(claims().put("nbf", s + 20)), NOW)).isNull();
    assertThat(reason(v, ES256.sign(claims().put("nbf", s + 31)), NOW)).isEqualTo(Reason.NOT_YET_VALID);
    JsonObject noExp = claims();
    noExp.remove("exp");
    assertThat(reason(v, ES256.sign(noExp), NOW)).isEqualTo(Reason.MISSING_EXP);
    assertThat(reason(v, ES256.sign(claims().put("exp", "tomorrow")), NOW)).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void theGatewaysOwnHs256TokensHaveNoSkewAndNoIssuerRules() throws Exception {
    TokenVerifier v = new TokenVerifier(settings(SECRET, List.of(), ""));
    String t = v.sign(new JsonObject().put("exp", NOW / 1000 + 60).put("https://example.com/cg", new JsonObject().put("tags", new JsonArray().add("team"))));
    TokenVerifier.Verified ok = v.verify(t, NOW);
    assertThat(ok.fromProvider()).isFalse();
    assertThat(ok.validUntilMs()).isEqualTo(NOW + 60_000);
    assertThat(v.grant(ok).allowsTag("team")).isTrue();
    assertThat(reason(v, t, NOW + 60_000)).isEqualTo(Reason.EXPIRED);
    assertThat(reason(v, v.sign(new JsonObject()), NOW)).isEqualTo(Reason.MISSING_EXP);
    TokenVerifier other = new TokenVerifier(settings("another-secret-of-at-least-32-bytes!!!!".getBytes(), List.of(), ""));
    assertThat(reason(other, t, NOW)).isEqualTo(Reason.BAD_SIGNATURE);
    // no provider keys configured: an RS256 token is an algorithm this gateway does not accept
    assertThat(reason(v, RS256.sign(claims()), NOW)).isEqualTo(Reason.ALG_NOT_ALLOWED);
  }

  @Test
  void keysAreUnavailableBeforeTheFirstFetchAndUnknownKidsAreNamed() {
    TokenVerifier v = new TokenVerifier(settings(null, List.of(), URL));
    assertThatThrownBy(() -> v.verify(RS256.sign(claims()), NOW)).isInstanceOfSatisfying(Refused.class, r -> {
      assertThat(r.reason).isEqualTo(Reason.KEYS_UNAVAILABLE);
      assertThat(r.getMessage()).contains(URL).contains("not been fetched yet");
    });
    v.remoteFailed("connection refused", NOW);
    assertThat(v.jwksStatus().up()).isFalse();
    assertThat(v.jwksStatus().error()).isEqualTo("connection refused");
    v.remoteKeys(set(ES256), NOW);
    assertThatThrownBy(() -> v.verify(RS256.sign(claims()), NOW)).isInstanceOfSatisfying(Refused.class, r -> {
      assertThat(r.reason).isEqualTo(Reason.UNKNOWN_KID);
      assertThat(r.getMessage()).contains("rsa-1");
    });
    // a failed refresh keeps the keys: tokens still verify
    v.remoteFailed("HTTP 503", NOW + 1);
    assertThat(reason(v, ES256.sign(claims()), NOW)).isNull();
    assertThat(v.jwksStatus().keyCount()).isEqualTo(1);
    // a refresh without the key: refused from then on
    v.remoteKeys(set(RS256), NOW + 2);
    assertThat(reason(v, ES256.sign(claims()), NOW)).isEqualTo(Reason.UNKNOWN_KID);
  }

  @Test
  void keysThatCannotSignTokensAreLeftOutOfASet() {
    TokenVerifier v = new TokenVerifier(settings(null, List.of(), URL));
    Signer weak = TestKeys.rsa("weak", JWSAlgorithm.RS256, 1024);
    var enc = new com.nimbusds.jose.jwk.RSAKey.Builder((java.security.interfaces.RSAPublicKey) TestKeys.rsa("enc", JWSAlgorithm.RS256).pair().getPublic())
        .keyID("enc").keyUse(com.nimbusds.jose.jwk.KeyUse.ENCRYPTION).build();
    var oct = new com.nimbusds.jose.jwk.OctetSequenceKey.Builder(SECRET).keyID("oct").build();
    List<String> skipped = v.remoteKeys(new JWKSet(List.of(weak.jwk(), enc, oct, ES256.jwk())), NOW);
    assertThat(skipped).hasSize(3);
    assertThat(String.join("\n", skipped)).contains("weak").contains("enc").contains("oct");
    assertThat(v.jwksStatus().keyCount()).isEqualTo(1);
    assertThat(reason(v, weak.sign(claims()), NOW)).isEqualTo(Reason.UNKNOWN_KID);
    // an HS256 token naming the symmetric key of the set: no secret is configured, so no HMAC at all
    assertThat(reason(v, TestKeys.hs256(SECRET, "oct", claims()), NOW)).isEqualTo(Reason.ALG_NOT_ALLOWED);
  }

  @Test
  void aPemKeyVerifiesWhateverKidTheTokenNames() throws Exception {
    Signer ed = TestKeys.ed25519("whatever");
    TokenVerifier v = new TokenVerifier(settings(null, List.of(RS256.pair().getPublic(), ed.pair().getPublic()), ""));
    assertThat(v.verify(RS256.sign(claims()), NOW).fromProvider()).isTrue();
    assertThat(v.verify(ed.sign(claims()), NOW).fromProvider()).isTrue();
    assertThat(reason(v, ES256.sign(claims()), NOW)).isEqualTo(Reason.UNKNOWN_KID);
  }

  @Test
  void theScopeClaimAndTheStreamClaimAreRead() throws Exception {
    TokenVerifier v = provider(RS256);
    assertThat(v.scopes(v.verify(RS256.sign(claims().put("scope", "openid read invalidate profile")), NOW)))
        .containsExactlyInAnyOrder(Scope.READ, Scope.INVALIDATE);
    assertThat(v.scopes(v.verify(RS256.sign(claims().put("scope", new JsonArray().add("write"))), NOW))).containsExactly(Scope.WRITE);
    assertThat(v.scopes(v.verify(RS256.sign(claims()), NOW))).isEmpty();
    TokenVerifier prefixed = new TokenVerifier(new Settings(null, List.of(), URL, "", List.of(), "cg", 30, "permissions", "cachegate:"));
    prefixed.remoteKeys(set(RS256), NOW);
    var t = prefixed.verify(RS256.sign(claims().put("permissions", new JsonArray().add("cachegate:admin").add("read"))), NOW);
    assertThat(prefixed.scopes(t)).containsExactly(Scope.ADMIN);
    // the stream claim may arrive as JSON text (an identity provider's string-typed mapper)
    var text = prefixed.verify(RS256.sign(claims().put("cg", "{\"tags\":[\"team:*\"]}")), NOW);
    assertThat(prefixed.grant(text).allowsTag("team:a")).isTrue();
    // without the claim, nothing may be subscribed
    assertThat(prefixed.grant(v.verify(RS256.sign(claims()), NOW)).allowsKey("user:7:profile")).isFalse();
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
