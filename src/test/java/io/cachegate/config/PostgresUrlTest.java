package io.cachegate.config;

import io.cachegate.support.ConnectionErrors;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.SslMode;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** postgres.url read as libpq reads it, redis.url's parts, and the refusal sentences (no I/O but temp files). */
class PostgresUrlTest {

  /** A real CA certificate (PEM, made with openssl for this test, valid 100 years): only its format matters here. */
  private static final String CA_PEM = """
      -----BEGIN CERTIFICATE-----
      MIIBmjCCAT+gAwIBAgIUIKnEQfspD9eGmYilxeEMSbtg3fcwCgYIKoZIzj0EAwIw
      ITEfMB0GA1UEAwwWY2FjaGVnYXRlLXVuaXQtdGVzdC1jYTAgFw0yNjEyMDEwODQ4
      MjBaGA8yMTI2MTEwNzA4NDgyMFowITEfMB0GA1UEAwwWY2FjaGVnYXRlLXVuaXQt
      dGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJoLDKcNVTxTIPfT+EGr
      tk8Ro2h5pIOz+mojFG2EphHUVW4Dv/Bzcotus6L/4rwSx2Eyt14CTb8bryTn4qMU
      9lGjUzBRMB0GA1UdDgQWBBR3lwJ1Zhpc9UwM7Tn9yYqRrCcVojAfBgNVHSMEGDAW
      gBR3lwJ1Zhpc9UwM7Tn9yYqRrCcVojAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49
      BAMCA0kAMEYCIQC7TWHUSmw3ETuKafk270qXq2Krs37wTQBJhuLcQutnswIhAIFO
      AxcQlAhulKX8C+DOz1FqMCO5Ops7DcQDflAOqMvq
      -----END CERTIFICATE-----
      """;

  @Test
  void userPasswordHostPortDatabasePercentDecoded() {
    PostgresUrl u = PostgresUrl.parse("postgresql://cg%40app:p%40ss%3Aw%2Fo+rd%25@db.example.com:6543/my%20db");
    assertThat(u.user()).isEqualTo("cg@app");
    assertThat(u.host()).isEqualTo("db.example.com");
    assertThat(u.port()).isEqualTo(6543);
    assertThat(u.database()).isEqualTo("my db");
    PgConnectOptions o = u.connectOptions();
    assertThat(o.getPassword()).isEqualTo("p@ss:w/o+rd%"); // '+' stays '+' in a URI
    assertThat(o.getSslMode()).isEqualTo(SslMode.DISABLE);
    assertThat(o.getProperties()).containsEntry("application_name", "cachegate");
    assertThat(u.toString()).doesNotContain("p@ss").contains("***");
  }

  @Test
  void libpqDefaultsAndQueryParameters() {
    PostgresUrl u = PostgresUrl.parse("postgres://127.0.0.1/?user=postgres");
    assertThat(u.port()).isEqualTo(5432);
    assertThat(u.database()).isEqualTo("postgres"); // defaults to the user, as in libpq
    assertThat(u.hasPassword()).isFalse();
    assertThat(u.connectOptions().getPassword()).isEmpty(); // never Vert.x's default "pass"
    PostgresUrl v = PostgresUrl.parse("postgresql://[::1]:5433?dbname=app&user=cg&password=s%26cret&application_name=billing");
    assertThat(v.host()).isEqualTo("::1");
    assertThat(v.hostPort()).isEqualTo("[::1]:5433");
    assertThat(v.connectOptions().getPassword()).isEqualTo("s&cret");
    assertThat(v.connectOptions().getProperties()).containsEntry("application_name", "billing");
  }

  @Test
  void sslModesMapToWhatTheyVerify(@TempDir Path dir) throws IOException {
    Path ca = Files.writeString(dir.resolve("ca.pem"), CA_PEM);

    PgConnectOptions require = PostgresUrl.parse("postgresql://cg:x@h/db?sslmode=require").connectOptions();
    assertThat(require.getSslMode()).isEqualTo(SslMode.REQUIRE);
    assertThat(require.getSslOptions().isTrustAll()).isTrue();
    assertThat(require.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();

    // require + sslrootcert: the chain is checked, as libpq does
    PgConnectOptions requireCa = PostgresUrl.parse("postgresql://cg:x@h/db?sslmode=require&sslrootcert=" + ca).connectOptions();
    assertThat(requireCa.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(requireCa.getSslOptions().isTrustAll()).isFalse();
    assertThat(requireCa.getSslOptions().getTrustOptions()).isNotNull();
    assertThat(requireCa.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();

    PgConnectOptions verifyCa = PostgresUrl.parse("postgresql://cg:x@h/db?sslmode=verify-ca&sslrootcert=" + ca).connectOptions();
    assertThat(verifyCa.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(verifyCa.getSslOptions().isTrustAll()).isFalse();
    assertThat(verifyCa.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();

    PgConnectOptions full = PostgresUrl.parse("postgresql://cg:x@h/db?sslmode=verify-full&sslrootcert=" + ca).connectOptions();
    assertThat(full.getSslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(full.getSslOptions().isTrustAll()).isFalse();
    assertThat(full.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");

    // no sslrootcert: the JVM's default trust store, still verified
    PgConnectOptions jvm = PostgresUrl.parse("postgresql://cg:x@h/db?sslmode=verify-full").connectOptions();
    assertThat(jvm.getSslOptions().isTrustAll()).isFalse();
    assertThat(jvm.getSslOptions().getTrustOptions()).isNotNull();
    assertThat(PostgresUrl.parse("postgresql://cg:x@h/db?sslrootcert=system").mode()).isEqualTo(PostgresUrl.Mode.VERIFY_FULL);

    // copies (the capture's lock and listener connections) keep every TLS setting
    PgConnectOptions copy = new PgConnectOptions(full).addProperty("application_name", "cachegate-listener x");
    assertThat(copy.getSslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(copy.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");
    assertThat(copy.getSslOptions().getTrustOptions()).isNotNull();
  }

  @Test
  void refusalsNameTheKeyAndTheParameterNeverThePassword(@TempDir Path dir) throws IOException {
    Path notPem = Files.writeString(dir.resolve("ca.der"), "not a certificate");
    String[][] bad = {
        {"postgresql://cg:hunter2@h/db?sslmode=prefer", "sslmode=prefer is not supported"},
        {"postgresql://cg:hunter2@h/db?sslmode=allow", "sslmode=allow is not supported"},
        {"postgresql://cg:hunter2@h/db?sslmode=sometimes", "'sslmode' is 'sometimes'"},
        {"postgresql://cg:hunter2@h/db?connect_timeout=10", "parameter 'connect_timeout' is not supported"},
        {"postgresql://cg:hunter2@h/db?sslcert=/c.pem&sslmode=require", "parameter 'sslcert' is not supported"},
        {"postgresql://cg:hunter2@h/db?sslmode=verify-full&sslrootcert=" + dir.resolve("missing.pem"), "no such file"},
        {"postgresql://cg:hunter2@h/db?sslmode=verify-full&sslrootcert=" + notPem, "is not a PEM certificate file"},
        {"postgresql://cg:hunter2@h/db?sslrootcert=" + notPem, "without 'sslmode'"},
        {"postgresql://cg:hunter2@h/db?sslmode=disable&sslrootcert=system", "sslmode is disable"},
        {"postgresql://cg:hunter2@h/db?sslmode=verify-ca&sslrootcert=system", "needs sslmode=verify-full"},
        {"postgresql://cg:hunter2@h1,h2/db", "several hosts"},
        {"postgresql://cg:hunter2@/db", "names no host"},
        {"postgresql://cg:hunter2@h:99999/db", "port '99999'"},
        {"postgresql://cg:hunt%zzer2@h/db", "the password has a '%'"},
        {"postgresql://cg:hunter2@h/db?sslmode=require&sslmode=disable", "given twice"},
        {"mysql://cg:hunter2@h/db", "must start with postgresql://"},
    };
    for (String[] b : bad) {
      assertThatThrownBy(() -> PostgresUrl.parse(b[0])).as(b[0]).isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("postgres.url: ").hasMessageContaining(b[1]).message().doesNotContain("hunter2").doesNotContain("hunt%zz");
    }
  }

  @Test
  void configLoadStopsOnABadUrlOrCaFileNamingTheKey(@TempDir Path dir) throws IOException {
    Path ca = Files.writeString(dir.resolve("ca.pem"), CA_PEM);
    Path notPem = Files.writeString(dir.resolve("ca.txt"), "hello");
    JsonObject ok = tree("rediss://cg:secret@localhost:6380", "postgresql://cg:secret@localhost/db?sslmode=verify-full&sslrootcert=" + ca);
    ok.getJsonObject("redis").put("tls", new JsonObject().put("caFile", ca.toString()));
    GatewayConfig c = ConfigLoader.fromTree(ok, Map.of());
    assertThat(c.redis().tlsCaFile()).isEqualTo(ca.toAbsolutePath().toString());
    assertThat(c.redis().toString() + c.postgres()).doesNotContain("secret").contains("cg:***@");

    JsonObject missing = tree("rediss://cg:secret@localhost:6380", "postgresql://cg@localhost/db");
    missing.getJsonObject("redis").put("tls", new JsonObject().put("caFile", dir.resolve("nope.pem").toString()));
    assertThatThrownBy(() -> ConfigLoader.fromTree(missing, Map.of())).hasMessageStartingWith("redis.tls.caFile: ").hasMessageContaining("no such file");
    assertThatThrownBy(() -> ConfigLoader.fromTree(tree("rediss://cg:secret@localhost:6380", "postgresql://cg@localhost/db"),
        Map.of("CACHEGATE_REDIS_TLS_CA_FILE", notPem.toString()))).hasMessageStartingWith("redis.tls.caFile: ").hasMessageContaining("not a PEM");
    assertThatThrownBy(() -> ConfigLoader.fromTree(tree("redis://:secret@localhost", "postgresql://cg@localhost/db"),
        Map.of("CACHEGATE_REDIS_TLS_CA_FILE", ca.toString()))).hasMessageStartingWith("redis.tls.caFile: ").hasMessageContaining("rediss://");
    assertThatThrownBy(() -> ConfigLoader.fromTree(tree("redis://:secret@localhost", "postgresql://cg:secret@localhost/db?sslmode=prefer"), Map.of()))
        .hasMessageStartingWith("postgres.url: ").message().doesNotContain("secret");
    assertThatThrownBy(() -> ConfigLoader.fromTree(tree("redis://:sec ret@localhost", "postgresql://cg@localhost/db"), Map.of()))
        .hasMessageStartingWith("redis.url: ").message().doesNotContain("sec ret");
  }

  @Test
  void redisUrlParts() {
    RedisUrl acl = RedisUrl.parse("rediss://cg:secret@localhost:6380");
    assertThat(acl.tls()).isTrue();
    assertThat(acl.user()).isEqualTo("cg");
    assertThat(acl.hasPassword()).isTrue();
    assertThat(acl.hostPort()).isEqualTo("localhost:6380");
    RedisUrl legacy = RedisUrl.parse("redis://:secret@10.0.0.1");
    assertThat(legacy.tls()).isFalse();
    assertThat(legacy.user()).isEqualTo("default");
    assertThat(legacy.hostPort()).isEqualTo("10.0.0.1:6379");
  }

  @Test
  void refusalsInPlainWords() {
    ConnectionErrors.Endpoint pg = PostgresUrl.parse("postgresql://cg:secret@db.example.com/app?sslmode=verify-full").endpoint();
    ConnectionErrors.Endpoint redis = RedisUrl.parse("rediss://cg:secret@cache.example.com:6380").endpoint("/etc/ca.pem");
    javax.net.ssl.SSLHandshakeException untrusted = new javax.net.ssl.SSLHandshakeException("PKIX path building failed");
    untrusted.initCause(new java.security.cert.CertPathBuilderException("unable to find valid certification path to requested target"));
    assertThat(ConnectionErrors.explain(redis, untrusted))
        .isEqualTo("Redis at cache.example.com:6380 refused: TLS certificate not trusted by the CA in redis.tls.caFile (/etc/ca.pem); "
            + "give the CA that signed the server's certificate (the provider's CA bundle) in redis.tls.caFile");
    assertThat(ConnectionErrors.explain(pg, untrusted)).startsWith("PostgreSQL at db.example.com:5432 refused: TLS certificate not trusted by the JVM's default trust store");
    javax.net.ssl.SSLHandshakeException mismatch = new javax.net.ssl.SSLHandshakeException("No subject alternative DNS name matching db.example.com found.");
    assertThat(ConnectionErrors.explain(pg, mismatch)).contains("certificate does not match host name db.example.com").contains("verify-ca");
    assertThat(ConnectionErrors.explain(pg, new PgException("password authentication failed for user \"cg\"", "FATAL", "28P01", null)))
        .contains("PostgreSQL at db.example.com:5432").contains("password authentication failed for user cg");
    assertThat(ConnectionErrors.explain(pg, new PgException("no pg_hba.conf entry for host \"1.2.3.4\", user \"cg\", database \"app\", no encryption",
        "FATAL", "28000", null))).contains("server requires TLS: set sslmode=require or stricter");
    assertThat(ConnectionErrors.explain(redis, new RuntimeException("WRONGPASS invalid username-password pair or user is disabled.")))
        .contains("Redis at cache.example.com:6380").contains("password authentication failed for user cg");
    assertThat(ConnectionErrors.explain(redis, new java.net.ConnectException("Connection refused: cache.example.com/10.0.0.1:6380")))
        .contains("connection refused");
    assertThat(ConnectionErrors.redact("x rediss://cg:s3cr3t@h:1 and postgresql://u:p%40ss@h/db?password=zz&sslmode=require"))
        .isEqualTo("x rediss://cg:***@h:1 and postgresql://u:***@h/db?password=***&sslmode=require");
    assertThat(ConnectionErrors.redact("redis://:s3cr3t@h")).isEqualTo("redis://:***@h");
    assertThat(ConnectionErrors.redact("postgresql://cg:p@ss@db/app")).isEqualTo("postgresql://cg:***@db/app");
  }

  @Test
  void aPasswordWithRawReservedCharactersStaysThePasswordAndIsNeverRepeated() {
    for (String pw : new String[] {"hunter/2", "ab?cd", "x&y=z", "p@ss", "1234/x"}) {
      PostgresUrl u = PostgresUrl.parse("postgresql://cg:" + pw + "@db.example.com:5432/app?sslmode=require");
      assertThat(u.host()).as(pw).isEqualTo("db.example.com");
      assertThat(u.port()).as(pw).isEqualTo(5432);
      assertThat(u.database()).as(pw).isEqualTo("app");
      assertThat(u.toString()).as(pw).doesNotContain(pw);
    }
    assertThatThrownBy(() -> PostgresUrl.parse("postgresql://cg:hunter/2@db:99999/app"))
        .hasMessageContaining("99999").satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter"));
  }

  private static JsonObject tree(String redisUrl, String postgresUrl) {
    return new JsonObject().put("redis", new JsonObject().put("url", redisUrl)).put("postgres", new JsonObject().put("url", postgresUrl))
        .put("auth", new JsonObject().put("enabled", false));
  }
}
