package io.cachegate.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

  @Test
  void theShippedFileLoadsInEmbeddedModeWithTheContractRules() {
    GatewayConfig c = ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of());
    assertThat(c.embedded()).isTrue();
    assertThat(c.auth().enabled()).isFalse();
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.capture().tables()).containsKeys("users", "products");
    assertThat(c.events()).containsKey("user_updated");
    assertThat(c.strategies().get("user_profile").ttl()).isEqualTo(1800);
    assertThat(c.postgres().channels()).containsExactly("cache_invalidation");
  }

  @Test
  void environmentOverridesTheFile() {
    GatewayConfig c = ConfigLoader.load(Path.of("config", "gateway.yaml"),
        Map.of("CACHEGATE_HTTP_PORT", "9999", "CACHEGATE_HTTP_MAX_BODY_BYTES", "2048",
            "CACHEGATE_POSTGRES_CHANNELS", "[\"a\",\"b\"]"));
    assertThat(c.http().port()).isEqualTo(9999);
    assertThat(c.http().maxBodyBytes()).isEqualTo(2048);
    assertThat(c.postgres().channels()).containsExactly("a", "b");
  }

  @Test
  void externalModeTurnsAuthOnAndRefusesToStartWithoutKeys() {
    Map<String, String> env = Map.of("CACHEGATE_REDIS_URL", "redis://127.0.0.1:1", "CACHEGATE_POSTGRES_URL", "postgresql://127.0.0.1:1/x");
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("config", "gateway.yaml"), env))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("auth.apiKeys");
  }

  @Test
  void errorsNameTheKey() {
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject().put("http", new JsonObject().put("prot", 1)), Map.of()))
        .hasMessageStartingWith("http.prot: unknown");
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject().put("http", new JsonObject().put("port", 70000)), Map.of()))
        .hasMessageStartingWith("http.port:");
    // 2^64 + 8080 wraps to 8080 in a long: refused, not taken as 8080
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject().put("http", new JsonObject()
        .put("port", new java.math.BigInteger("18446744073709559696"))), Map.of())).hasMessageStartingWith("http.port: must be between");
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(), Map.of("CACHEGATE_CACHE_DEFAULT_TTL", "soon")))
        .hasMessageStartingWith("cache.defaultTtl:");
    JsonObject badRule = new JsonObject().put("keys", new io.vertx.core.json.JsonArray().add("user:{id"));
    JsonObject tree = new JsonObject().put("capture", new JsonObject().put("tables", new JsonObject().put("users", badRule)));
    assertThatThrownBy(() -> ConfigLoader.fromTree(tree, Map.of())).hasMessageStartingWith("capture.tables.users");
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject().put("redis", new JsonObject().put("url", "redis://x:1")), Map.of()))
        .hasMessageStartingWith("postgres.url");
  }

  @Test
  void anUnknownCachegateVariableStopsStartUpWithTheNearestName() {
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(), Map.of("CACHEGATE_REDIS_URI", "redis://x:1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("CACHEGATE_REDIS_URI: unknown environment variable")
        .hasMessageContaining("did you mean CACHEGATE_REDIS_URL?");
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(), Map.of("CACHEGATE_HTTP_MAXBODYBYTES", "10")))
        .hasMessageContaining("did you mean CACHEGATE_HTTP_MAX_BODY_BYTES?");
    // other variables are none of ours; the log level and variables the config names for secrets are known
    ConfigLoader.fromTree(new JsonObject(), Map.of("PATH", "/bin", "CACHEGATEWAY", "x", "CACHEGATE_LOG_LEVEL", "DEBUG"));
    // what Kubernetes service links (on by default) put into a pod for services named cachegate, cachegate-redis
    ConfigLoader.fromTree(new JsonObject(), Map.of("CACHEGATE_SERVICE_HOST", "10.0.0.11", "CACHEGATE_SERVICE_PORT", "8080",
        "CACHEGATE_SERVICE_PORT_HTTP", "8080", "CACHEGATE_PORT", "tcp://10.0.0.11:8080", "CACHEGATE_PORT_8080_TCP", "tcp://10.0.0.11:8080",
        "CACHEGATE_PORT_8080_TCP_PROTO", "tcp", "CACHEGATE_PORT_8080_TCP_PORT", "8080", "CACHEGATE_PORT_8080_TCP_ADDR", "10.0.0.11",
        "CACHEGATE_REDIS_PORT", "tcp://10.0.0.12:6379", "CACHEGATE_REDIS_SERVICE_HOST", "10.0.0.12"));
    assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(), Map.of("CACHEGATE_PORT", "8080")))
        .hasMessageContaining("did you mean CACHEGATE_HTTP_PORT?");
    JsonObject auth = new JsonObject().put("auth", new JsonObject().put("jwt", new JsonObject().put("secretEnv", "CACHEGATE_JWT_SECRET"))
        .put("apiKeys", new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "ops").put("tokenEnv", "CACHEGATE_KEY_OPS")
            .put("scopes", new io.vertx.core.json.JsonArray().add("admin")))));
    GatewayConfig c = ConfigLoader.fromTree(auth, Map.of("CACHEGATE_KEY_OPS", "k".repeat(20), "CACHEGATE_JWT_SECRET", "s".repeat(40)));
    assertThat(c.auth().apiKeys()).hasSize(1);
  }

  @Test
  void theConfigurationNeverPrintsAPassword() {
    GatewayConfig c = ConfigLoader.fromTree(new JsonObject().put("auth", new JsonObject().put("enabled", false)),
        Map.of("CACHEGATE_REDIS_URL", "redis://cg:redis-pw-123@127.0.0.1:1", "CACHEGATE_POSTGRES_URL", "postgresql://cg:pg-pw-456@127.0.0.1:1/x"));
    assertThat(c.toString()).doesNotContain("redis-pw-123").doesNotContain("pg-pw-456").contains("127.0.0.1");
  }

  @Test
  void envNamesFollowThePath() {
    assertThat(ConfigKeys.find("http.maxBodyBytes").envName()).isEqualTo("CACHEGATE_HTTP_MAX_BODY_BYTES");
    assertThat(ConfigKeys.find("redis.url").envName()).isEqualTo("CACHEGATE_REDIS_URL");
  }

  @Test
  void redisModeIsStandaloneOrClusterAndClusterNeedsAUrlAndABraceFreeNamespace() {
    ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of("CACHEGATE_REDIS_MODE", "standalone"));
    assertThat(ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of("CACHEGATE_REDIS_MODE", "cluster",
        "CACHEGATE_REDIS_URL", "redis://127.0.0.1:7000", "CACHEGATE_POSTGRES_URL", "postgresql://u:p@127.0.0.1/db", "CACHEGATE_AUTH_ENABLED", "false")).redis().cluster()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of("CACHEGATE_REDIS_MODE", "cluster")))
        .hasMessageStartingWith("redis.mode: is cluster but redis.url is empty");
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of("CACHEGATE_REDIS_MODE", "cluster",
        "CACHEGATE_REDIS_URL", "redis://127.0.0.1:7000", "CACHEGATE_POSTGRES_URL", "postgresql://u:p@127.0.0.1/db", "CACHEGATE_AUTH_ENABLED", "false",
        "CACHEGATE_REDIS_NAMESPACE", "{app}:")))
        .hasMessageStartingWith("redis.namespace: may not hold '{' or '}' in cluster mode");
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("config", "gateway.yaml"), Map.of("CACHEGATE_REDIS_MODE", "sentinel")))
        .hasMessageContaining("redis.mode").hasMessageContaining("must be standalone or cluster");
  }

  @Test
  void identityProviderSettingsAreCheckedAtStartUp(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path yaml = Path.of("config", "gateway.yaml");
    GatewayConfig c = ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_JWKS_URL", "https://idp.example.com/.well-known/jwks.json",
        "CACHEGATE_AUTH_JWT_AUDIENCE", "https://api.example.com", "CACHEGATE_AUTH_JWT_CLAIM", "https://example.com/cg"));
    assertThat(c.auth().audience()).containsExactly("https://api.example.com");
    assertThat(c.auth().claim()).isEqualTo("https://example.com/cg");
    assertThat(c.auth().clockSkewSeconds()).isEqualTo(30);
    assertThat(ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_AUDIENCE", "[\"a\",\"b\"]")).auth().audience()).containsExactly("a", "b");
    ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_JWKS_URL", "http://127.0.0.1:8081/certs"));
    assertThatThrownBy(() -> ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_JWKS_URL", "http://idp.example.com/certs")))
        .hasMessageStartingWith("auth.jwt.jwksUrl: must be an https:// URL");
    assertThatThrownBy(() -> ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_AUDIENCE", "[1]")))
        .hasMessageStartingWith("auth.jwt.audience:");
    assertThatThrownBy(() -> ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_PUBLIC_KEY_FILE", dir.resolve("missing.pem").toString())))
        .hasMessageStartingWith("auth.jwt.publicKeyFile:").hasMessageContaining("no such file");
    Path priv = dir.resolve("private.pem");
    java.nio.file.Files.writeString(priv, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_PUBLIC_KEY_FILE", priv.toString())))
        .hasMessageStartingWith("auth.jwt.publicKeyFile:").hasMessageContaining("private key");
    Path pub = dir.resolve("public.pem");
    java.nio.file.Files.writeString(pub, io.cachegate.testing.TestKeys.ec("k", com.nimbusds.jose.JWSAlgorithm.ES256).pem()
        + io.cachegate.testing.TestKeys.ed25519("e").pem());
    assertThat(ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_PUBLIC_KEY_FILE", pub.toString())).auth().publicKeys()).hasSize(2);
    Path weak = dir.resolve("weak.pem");
    java.nio.file.Files.writeString(weak, io.cachegate.testing.TestKeys.rsa("w", com.nimbusds.jose.JWSAlgorithm.RS256, 1024).pem());
    assertThatThrownBy(() -> ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_JWT_PUBLIC_KEY_FILE", weak.toString())))
        .hasMessageStartingWith("auth.jwt.publicKeyFile:").hasMessageContaining("1024 bits");
    // with auth on, the identity provider's keys alone are enough to start (services may use machine tokens)
    assertThat(ConfigLoader.load(yaml, Map.of("CACHEGATE_AUTH_ENABLED", "true", "CACHEGATE_AUTH_JWT_PUBLIC_KEY_FILE", pub.toString()))
        .auth().apiKeys()).isEmpty();
  }
}
