package io.cachegate.it;

import com.nimbusds.jose.JWSAlgorithm;
import io.cachegate.testing.Await;
import io.cachegate.testing.JwksServer;
import io.cachegate.testing.TestGateway;
import io.cachegate.testing.TestKeys;
import io.cachegate.testing.TestKeys.Signer;
import io.cachegate.testing.TestSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens from the user's identity provider: a JWKS served by a local server the test controls (keys
 * made by the JDK), verified at the stream's handshake and on the REST control plane; every refusal,
 * key rotation in and out, the fetch rate limit, and the provider down at start and later.
 */
class IdentityProviderIT {

  static final String ISS = "https://idp.example.com/";
  static final String AUD = "https://cachegate.example.com";
  static final String CLAIM = "https://example.com/cg";
  static final String ADMIN = "key-admin-0123456789abcdef";

  static final Signer RSA = TestKeys.rsa("rsa-1", JWSAlgorithm.RS256);
  static final Signer EC = TestKeys.ec("ec-1", JWSAlgorithm.ES256);
  static final Signer ED = TestKeys.ed25519("ed-1");

  static JwksServer idp;
  static TestGateway gw;

  @BeforeAll
  static void start() {
    idp = new JwksServer(RSA, EC, ED);
    gw = gateway(idp, 3600, 60);
  }

  @AfterAll
  static void stop() {
    if (gw != null) gw.close();
    if (idp != null) idp.close();
  }

  static TestGateway gateway(JwksServer server, long refreshSeconds, long minRefreshSeconds) {
    JsonObject jwt = new JsonObject().put("jwksUrl", server.url()).put("issuer", ISS).put("audience", new JsonArray().add(AUD))
        .put("claim", CLAIM).put("jwksRefreshSeconds", refreshSeconds).put("jwksMinRefreshSeconds", minRefreshSeconds);
    JsonObject cfg = new JsonObject().put("auth", new JsonObject().put("enabled", true).put("jwt", jwt)
        .put("apiKeys", new JsonArray().add(new JsonObject().put("name", "ops").put("tokenEnv", "K_ADMIN").put("scopes", new JsonArray().add("admin")))));
    return TestGateway.start(cfg, Map.of("K_ADMIN", ADMIN));
  }

  static JsonObject claims(JsonObject cg) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("iss", ISS).put("aud", AUD).put("sub", "user-7").put("iat", now).put("exp", now + 600).put(CLAIM, cg);
  }

  static JsonObject user7() {
    return claims(new JsonObject().put("keys", new JsonArray().add("user:7:*")).put("tags", new JsonArray().add("team:blue")));
  }

  @Test
  void scopesFromANamespacedClaimAreEnforcedOnSubscribeForEveryKeyType() {
    for (Signer k : new Signer[] {RSA, EC, ED}) {
      try (TestSocket s = gw.socketAt("/v1/stream?token=" + k.sign(user7()))) {
        assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:profile")).put("tags", new JsonArray().add("team:blue")))
            .getString("type")).as(k.alg().getName()).isEqualTo("subscribed");
        s.send(new JsonObject().put("type", "subscribe").put("id", "no").put("keys", new JsonArray().add("user:8:profile")));
        JsonObject e = s.next("error");
        assertThat(e.getString("error")).isEqualTo("forbidden");
        s.send(new JsonObject().put("type", "subscribe").put("id", "no2").put("tags", new JsonArray().add("team:red")));
        assertThat(s.next("error").getString("error")).isEqualTo("forbidden");
        String notice = gw.call("POST", "/v1/invalidations", "{\"keys\":[\"user:7:profile\",\"user:8:profile\"]}",
            "Authorization", "Bearer " + ADMIN).json().getString("notice");
        JsonObject f = s.next("invalidate");
        assertThat(f.getString("id")).isEqualTo(notice);
        assertThat(f.getJsonArray("keys")).containsExactly("user:7:profile");
      }
    }
    // a token of the same provider without the claim may subscribe to nothing
    JsonObject bare = user7();
    bare.remove(CLAIM);
    try (TestSocket s = gw.socketAt("/v1/stream?token=" + RSA.sign(bare))) {
      s.send(new JsonObject().put("type", "subscribe").put("id", "x").put("keys", new JsonArray().add("user:7:profile")));
      assertThat(s.next("error").getString("error")).isEqualTo("forbidden");
    }
  }

  @Test
  void everyRefusalIsA401WithItsReasonAndIsCounted() {
    long now = System.currentTimeMillis() / 1000;
    String good = RSA.sign(user7());
    String[] p = good.split("\\.");
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("alg_none", b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + p[1] + ".");
    // algorithm confusion: HS256 signed with the provider's public key (PEM text) as the secret
    cases.put("alg_not_allowed", TestKeys.hs256(RSA.pem().getBytes(StandardCharsets.US_ASCII), "rsa-1", user7()));
    cases.put("unknown_kid", TestKeys.rsa("not-in-the-set", JWSAlgorithm.RS256).sign(user7()));
    cases.put("bad_signature", p[0] + "." + b64(user7().put(CLAIM, new JsonObject().put("keys", new JsonArray().add("*"))).encode()) + "." + p[2]);
    cases.put("wrong_issuer", RSA.sign(user7().put("iss", "https://evil.example.com/")));
    cases.put("wrong_audience", RSA.sign(user7().put("aud", "https://another-api.example.com")));
    cases.put("expired", EC.sign(user7().put("exp", now - 120)));
    cases.put("not_yet_valid", EC.sign(user7().put("nbf", now + 600)));
    cases.put("missing_exp", EC.sign(without(user7(), "exp")));
    cases.put("malformed", "not.a.jwt");
    Map<String, Double> before = refusals();
    for (Map.Entry<String, String> c : cases.entrySet()) {
      JsonObject r = gw.socketRefusalAt("/v1/stream?token=" + c.getValue());
      assertThat(r.getInteger("status")).as(c.getKey()).isEqualTo(401);
      assertThat(r.getString("reason")).as(c.getKey()).isEqualTo(c.getKey());
      assertThat(r.getString("error")).as(c.getKey()).isEqualTo(c.getKey().equals("expired") ? "token_expired" : "unauthorized");
      assertThat(r.getString("message")).as(c.getKey()).isNotBlank();
    }
    Map<String, Double> after = refusals();
    for (String reason : cases.keySet()) {
      assertThat(after.getOrDefault(reason, 0.0) - before.getOrDefault(reason, 0.0)).as(reason).isEqualTo(1.0);
    }
    // within the skew an expired token is still accepted, and closes the socket at exp + skew (not tested: 30 s)
    try (TestSocket s = gw.socketAt("/v1/stream?token=" + EC.sign(user7().put("exp", now - 5)))) {
      assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:a"))).getString("type")).isEqualTo("subscribed");
    }
  }

  @Test
  void machineTokensCallTheControlPlaneWithTheirScopesAndApiKeysStillWork() {
    JsonObject svc = claims(null).put("sub", "svc-orders@clients");
    svc.remove(CLAIM);
    String invalidate = RSA.sign(svc.copy().put("scope", "openid invalidate"));
    String write = EC.sign(svc.copy().put("scope", "write read"));
    String none = RSA.sign(svc.copy());
    String admin = ED.sign(svc.copy().put("scope", "admin"));
    assertThat(gw.call("PUT", "/v1/entries/m2m:1", "{\"value\":1}", "Authorization", "Bearer " + write).status()).isEqualTo(200);
    assertThat(gw.call("GET", "/v1/entries/m2m:1", null, "Authorization", "Bearer " + write).status()).isEqualTo(200);
    TestGateway.Reply forbidden = gw.call("DELETE", "/v1/entries/m2m:1", null, "Authorization", "Bearer " + write);
    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.json().getString("message")).contains("svc-orders@clients").contains("invalidate");
    assertThat(gw.call("DELETE", "/v1/entries/m2m:1", null, "Authorization", "Bearer " + invalidate).json().getJsonArray("invalidated"))
        .containsExactly("m2m:1");
    assertThat(gw.call("GET", "/v1/stats", null, "Authorization", "Bearer " + none).status()).isEqualTo(403);
    assertThat(gw.call("GET", "/v1/stats", null, "Authorization", "Bearer " + admin).status()).isEqualTo(200);
    TestGateway.Reply foreign = gw.call("GET", "/v1/stats", null, "Authorization", "Bearer " + RSA.sign(svc.copy().put("scope", "admin").put("aud", "x")));
    assertThat(foreign.status()).isEqualTo(401);
    assertThat(foreign.json().getString("reason")).isEqualTo("wrong_audience");
    assertThat(gw.call("GET", "/v1/stats", null, "Authorization", "Bearer " + ADMIN).status()).isEqualTo(200);
    assertThat(gw.call("GET", "/v1/stats", null, "Authorization", "Bearer not-a-key-0000000000").status()).isEqualTo(401);
    // this gateway has no HS256 secret: POST /v1/tokens says it signs nothing
    assertThat(gw.call("POST", "/v1/tokens", "{\"keys\":[\"a\"]}", "Authorization", "Bearer " + ADMIN).status()).isEqualTo(404);
  }

  @Test
  void aFloodOfUnknownKidsCostsTheProviderOneFetch() {
    Await.until("the first fetch", 10_000, () -> gw.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up"));
    int fetchesBefore = idp.fetches();
    Signer attacker = TestKeys.rsa("made-up", JWSAlgorithm.RS256);
    for (int i = 0; i < 40; i++) {
      String token = new Signer("made-up-" + i, JWSAlgorithm.RS256, attacker.pair()).sign(user7());
      assertThat(gw.socketRefusalAt("/v1/stream?token=" + token).getString("reason")).isEqualTo("unknown_kid");
      // the REST side shares the limit
      assertThat(gw.call("GET", "/v1/stats", null, "Authorization", "Bearer " + token).json().getString("reason")).isEqualTo("unknown_kid");
    }
    // at most one fetch per jwksMinRefreshSeconds (60 s here) for unknown kids, whatever their number
    assertThat(idp.fetches() - fetchesBefore).isLessThanOrEqualTo(1);
    assertThat(metric(gw, "cachegate_jwks_fetches_total{result=\"ok\",trigger=\"unknown_kid\"}")).isLessThanOrEqualTo(1.0);
  }

  @Test
  void keysRotateInAtOnceAndOutWithinTheRefreshWithoutARestart() {
    Signer first = TestKeys.rsa("first", JWSAlgorithm.RS256);
    // two gateways, so that each rotation below is the first unknown kid its gateway sees (a second one
    // within jwksMinRefreshSeconds would wait for the next refresh: the rate limit)
    try (JwksServer own = new JwksServer(first); TestGateway g = gateway(own, 2, 1); TestGateway rest = gateway(own, 2, 1)) {
      Await.until("the first fetch", 10_000, () -> g.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up"));
      Await.until("the first fetch", 10_000, () -> rest.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up"));
      String byFirst = first.sign(user7());
      try (TestSocket s = g.socketAt("/v1/stream?token=" + byFirst)) {
        assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:a"))).getString("type")).isEqualTo("subscribed");
      }
      // a key the provider adds is accepted on its first token: that token makes the gateway fetch the set
      Signer added = TestKeys.ec("added", JWSAlgorithm.ES256);
      own.add(added);
      try (TestSocket s = g.socketAt("/v1/stream?token=" + added.sign(user7()))) {
        assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:a"))).getString("type")).isEqualTo("subscribed");
      }
      // the same on REST, with a body read after the fetch
      Signer addedToo = TestKeys.ed25519("added-too");
      own.add(addedToo);
      JsonObject svc = without(claims(null), CLAIM).put("scope", "write");
      TestGateway.Reply put = rest.call("PUT", "/v1/entries/rotated:1", "{\"value\":{\"n\":42}}", "Authorization", "Bearer " + addedToo.sign(svc));
      assertThat(put.status()).as(put.body()).isEqualTo(200);
      assertThat(rest.call("GET", "/v1/entries/rotated:1", null, "Authorization", "Bearer " + ADMIN).json().getJsonObject("value").getInteger("n")).isEqualTo(42);
      // a key the provider removes stops being accepted within jwksRefreshSeconds (2 s here)
      own.remove(first);
      long removedAt = System.nanoTime();
      Await.until("the removed key to be refused", 15_000,
          () -> g.socketRefusalOrNull("/v1/stream?token=" + byFirst) != null);
      assertThat(g.socketRefusalAt("/v1/stream?token=" + byFirst).getString("reason")).isEqualTo("unknown_kid");
      System.out.printf("jwks: a removed key was refused %d ms after its removal (jwksRefreshSeconds 2)%n",
          (System.nanoTime() - removedAt) / 1_000_000);
    }
  }

  @Test
  void theProviderDownAtStartAndLater() {
    Signer key = TestKeys.ec("k", JWSAlgorithm.ES384);
    try (JwksServer own = new JwksServer(key)) {
      own.down(true);
      try (TestGateway g = gateway(own, 2, 1)) {
        // it starts and is ready: API keys and open sockets do not need the provider
        Await.until("a failed fetch", 10_000, () -> g.call("GET", "/health", null).json().getJsonObject("jwks").getString("error") != null);
        TestGateway.Reply health = g.call("GET", "/health", null);
        assertThat(health.status()).isEqualTo(200);
        JsonObject jwks = health.json().getJsonObject("jwks");
        assertThat(jwks.getBoolean("up")).isFalse();
        assertThat(jwks.getString("error")).contains("503");
        assertThat(jwks.getString("url")).isEqualTo(own.url());
        String token = key.sign(user7());
        JsonObject refused = g.socketRefusalAt("/v1/stream?token=" + token);
        assertThat(refused.getString("reason")).isEqualTo("keys_unavailable");
        assertThat(refused.getString("message")).contains(own.url());
        // it answers again: tokens are accepted without a restart
        own.down(false);
        Await.until("the provider's keys", 20_000, () -> g.socketRefusalOrNull("/v1/stream?token=" + token) == null);
        assertThat(g.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up")).isTrue();
        // it goes away: the last good key set stays in use, and /health says so
        own.close();
        Await.until("a failed refresh", 20_000, () -> !g.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up"));
        JsonObject later = g.call("GET", "/health", null).json();
        assertThat(later.getString("status")).isEqualTo("UP");
        assertThat(later.getJsonObject("jwks").getInteger("keys")).isEqualTo(1);
        assertThat(later.getJsonObject("jwks").getLong("fetchedAt")).isNotNull();
        try (TestSocket s = g.socketAt("/v1/stream?token=" + token)) {
          assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:a"))).getString("type")).isEqualTo("subscribed");
        }
      }
    }
  }

  @Test
  void aJwksOverHttpsIsFetchedWithTheConfiguredCaAndARefusedCertificateIsNamed() throws Exception {
    Signer key = TestKeys.ec("tls-1", JWSAlgorithm.ES256);
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try (io.cachegate.testing.TestCerts certs = io.cachegate.testing.TestCerts.create()) {
      io.vertx.core.http.HttpServer tls = Await.get(vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
              .setHost("127.0.0.1").setPort(0).setSsl(true)
              .setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setKeyPath(certs.serverKey.toString()).setCertPath(certs.serverCert.toString())))
          .requestHandler(req -> req.response().putHeader("Content-Type", "application/json").end(TestKeys.jwks(java.util.List.of(key))))
          .listen());
      String url = "https://localhost:" + tls.actualPort() + "/.well-known/jwks.json";
      try (TestGateway trusted = tlsGateway(url, certs.ca.toString()); TestGateway untrusted = tlsGateway(url, certs.unrelatedCa.toString())) {
        Await.until("the key set fetched over TLS", 10_000, () -> trusted.call("GET", "/health", null).json().getJsonObject("jwks").getBoolean("up"));
        try (TestSocket s = trusted.socketAt("/v1/stream?token=" + key.sign(user7()))) {
          assertThat(s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:7:a"))).getString("type")).isEqualTo("subscribed");
        }
        Await.until("the refused certificate in /health", 10_000,
            () -> untrusted.call("GET", "/health", null).json().getJsonObject("jwks").getString("error") != null);
        String error = untrusted.call("GET", "/health", null).json().getJsonObject("jwks").getString("error");
        assertThat(error).contains("not trusted").contains("localhost").contains("auth.jwt.jwksCaFile");
        assertThat(untrusted.socketRefusalAt("/v1/stream?token=" + key.sign(user7())).getString("reason")).isEqualTo("keys_unavailable");
      }
    } finally {
      Await.get(vertx.close());
    }
  }

  static TestGateway tlsGateway(String url, String caFile) {
    JsonObject jwt = new JsonObject().put("jwksUrl", url).put("jwksCaFile", caFile).put("issuer", ISS)
        .put("audience", new JsonArray().add(AUD)).put("claim", CLAIM);
    JsonObject cfg = new JsonObject().put("auth", new JsonObject().put("enabled", true).put("jwt", jwt)
        .put("apiKeys", new JsonArray().add(new JsonObject().put("name", "ops").put("tokenEnv", "K_ADMIN").put("scopes", new JsonArray().add("admin")))));
    return TestGateway.start(cfg, Map.of("K_ADMIN", ADMIN));
  }

  // ---- helpers ----

  static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static JsonObject without(JsonObject o, String field) {
    o.remove(field);
    return o;
  }

  static Map<String, Double> refusals() {
    Map<String, Double> out = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^cachegate_tokens_refused_total\\{reason=\"([a-z_]+)\"[^}]*} ([0-9.eE+]+)$")
        .matcher(gw.call("GET", "/metrics", null).body());
    while (m.find()) out.put(m.group(1), Double.parseDouble(m.group(2)));
    return out;
  }

  static double metric(TestGateway g, String series) {
    for (String line : g.call("GET", "/metrics", null).body().split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1));
    }
    return 0;
  }
}
