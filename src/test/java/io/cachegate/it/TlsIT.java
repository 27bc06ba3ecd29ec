package io.cachegate.it;

import io.cachegate.testing.*;
import io.cachegate.Gateway;
import io.cachegate.config.ConfigLoader;
import io.cachegate.config.GatewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS and credentials as managed services hand them out, against real servers: a PostgreSQL with
 * {@code ssl=on} that lets role {@code cg} in only over {@code hostssl} with scram-sha-256, and a
 * TLS-only Redis 7 whose only user is the ACL user {@code cg}. Certificates come from a throwaway CA
 * ({@link TestCerts}). The gateway works end to end over both (health, PUT/GET, capture), and every
 * refusal (wrong CA, host name mismatch, wrong password, TLS required but disabled) is said in words
 * naming the server, without the password.
 */
class TlsIT {

  /** Reserved characters on purpose: the URL carries it percent-encoded, scram gets it decoded. */
  private static final String PG_PASSWORD = "pa55:w@rd/1";
  private static final String PG_PASSWORD_ENCODED = "pa55%3Aw%40rd%2F1";
  private static final String REDIS_PASSWORD = "se+cret"; // a '+' as managed services' tokens may hold
  private static final String WRONG_PASSWORD = "wrong-pass-123";
  private static final AtomicInteger GATEWAYS = new AtomicInteger();

  private static TestCerts certs;
  private static EmbeddedPostgres pg;
  private static RedisServerProcess redis;       // TLS only, the localhost certificate
  private static RedisServerProcess redisOther;  // TLS only, the other.example.test certificate
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startServers() throws Exception {
    certs = TestCerts.create();
    // zonky checks readiness as postgres over TCP, so postgres may come in (trusted, loopback only);
    // cg only over TLS with scram-sha-256: no line admits it without encryption
    Path hba = Files.writeString(certs.dir.resolve("pg_hba.conf"), String.join("\n",
        "local   all all                  trust",
        "host    all postgres 127.0.0.1/32 trust",
        "host    all postgres ::1/128      trust",
        "hostssl all cg       127.0.0.0/8  scram-sha-256",
        ""));
    pg = TestServices.postgresBuilder()
        // 127.0.0.2 too: the same server under an address its certificate does not list
        .setServerConfig("listen_addresses", "127.0.0.1,127.0.0.2")
        .setServerConfig("ssl", "on")
        .setServerConfig("ssl_cert_file", certs.serverCert.toString())
        .setServerConfig("ssl_key_file", certs.serverKey.toString())
        .setServerConfig("hba_file", hba.toString())
        .setServerConfig("password_encryption", "scram-sha-256")
        .start();
    superuser("CREATE ROLE cg LOGIN PASSWORD '" + PG_PASSWORD + "'", "CREATE DATABASE app OWNER cg");
    try (Connection c = DriverManager.getConnection(jdbc("postgres"), "postgres", ""); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SHOW server_version")) {
      rs.next();
      System.out.println("TlsIT: PostgreSQL " + rs.getString(1) + " with ssl=on, " + RedisServerProcess.EXECUTABLE + " with TLS only");
    }
    redis = tlsRedis(certs.serverCert, certs.serverKey);
    redisOther = tlsRedis(certs.otherCert, certs.otherKey);
  }

  private static RedisServerProcess tlsRedis(Path cert, Path key) {
    int port = RedisServerProcess.freePort();
    return new RedisServerProcess(port, List.of("port 0", "tls-port " + port, "tls-cert-file " + cert, "tls-key-file " + key,
        "tls-ca-cert-file " + certs.ca, "tls-auth-clients no", "user default off", "user cg on >" + REDIS_PASSWORD + " ~* &* +@all"));
  }

  @AfterAll
  static void stopServers() throws IOException {
    if (redis != null) redis.close();
    if (redisOther != null) redisOther.close();
    if (pg != null) pg.close();
    if (certs != null) certs.close();
  }

  // ---- it works ----

  @Test
  void verifiedTlsToBothServersEndToEnd() throws Exception {
    GatewayConfig config = config(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=verify-full&sslrootcert=" + certs.ca),
        redisUrl("cg", REDIS_PASSWORD, redis.port), certs.ca.toString());
    Gateway g = Await.get(Gateway.start(config, true));
    try {
      assertThat(get(g, "/health").statusCode()).isEqualTo(200);
      String ns = config.redis().namespace();
      assertThat(call(g, "PUT", "/v1/entries/product:7", "{\"value\":{\"name\":\"seven\"},\"ttl\":600}").statusCode()).isEqualTo(200);
      assertThat(get(g, "/v1/entries/product:7").body()).contains("seven");

      // capture over TLS: a row change invalidates the key
      superuserIn("app", "UPDATE products SET price = price + 1 WHERE id = 7");
      Await.until("product:7 to be invalidated by the UPDATE", 10_000, () -> get(g, "/v1/entries/product:7").statusCode() == 404);

      // every session of cg is encrypted (the pool, the leader's lock and the LISTEN connection)
      try (Connection c = DriverManager.getConnection(jdbc("app"), "postgres", ""); Statement s = c.createStatement();
           ResultSet rs = s.executeQuery("SELECT count(*), bool_and(s.ssl), "
               + "count(*) FILTER (WHERE a.application_name LIKE 'cachegate-leader %' AND s.ssl), "
               + "count(*) FILTER (WHERE a.application_name LIKE 'cachegate-listener %' AND s.ssl) "
               + "FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'cg'"
               // this gateway's sessions only: another test's stopped gateway may still have a backend exiting
               + " AND a.application_name LIKE '% " + config.instanceId() + "'")) {
        rs.next();
        assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(2);
        assertThat(rs.getBoolean(2)).as("all cg sessions use TLS").isTrue();
        assertThat(rs.getInt(3)).as("the leader's lock connection uses TLS").isEqualTo(1);
        assertThat(rs.getInt(4)).as("the LISTEN connection uses TLS").isEqualTo(1);
      }
      // the Vert.x Redis client authenticated as the URL's ACL user (the default user is off)
      String clients = redisAsCg(Request.cmd(Command.CLIENT).arg("LIST"));
      assertThat(clients.lines().filter(l -> l.contains("lib-name") || l.contains("cmd=")).toList()).isNotEmpty()
          .allMatch(l -> l.contains(" user=cg "));
      String key = redisAsCg(Request.cmd(Command.EXISTS).arg(ns + "product:7"));
      assertThat(key).isEqualTo("0");
    } finally {
      Await.get(g.stop());
    }
  }

  @Test
  void walCaptureOverVerifiedTls() throws Exception {
    superuser("ALTER ROLE cg WITH REPLICATION");
    for (String url : List.of(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=verify-full&sslrootcert=" + certs.ca),
        pgUrl("127.0.0.2", PG_PASSWORD_ENCODED, "sslmode=verify-ca&sslrootcert=" + certs.ca))) {
      GatewayConfig base = config(url, redisUrl("cg", REDIS_PASSWORD, redis.port), certs.ca.toString());
      GatewayConfig config = ConfigLoader.fromTree(base.raw().copy()
          .put("capture", base.raw().getJsonObject("capture").copy().put("mode", "wal")
              .put("wal", new JsonObject().put("slot", "tls_" + base.instanceId().replace("-", "_")))), Map.of());
      Gateway g = Await.get(Gateway.start(config, true));
      try {
        assertThat(call(g, "PUT", "/v1/entries/product:8", "{\"value\":8,\"ttl\":600}").statusCode()).isEqualTo(200);
        superuserIn("app", "UPDATE products SET price = price + 1 WHERE id = 8");
        Await.until("product:8 invalidated from the slot", 10_000, () -> get(g, "/v1/entries/product:8").statusCode() == 404);
        try (Connection c = DriverManager.getConnection(jdbc("app"), "postgres", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
                 + "WHERE a.application_name = 'cachegate-wal-" + config.instanceId() + "'")) {
          assertThat(rs.next()).as("the replication connection of " + url.replaceAll(":[^:@/]*@", ":***@")).isTrue();
          assertThat(rs.getBoolean(1)).as("the replication connection uses TLS").isTrue();
        }
      } finally {
        Await.get(g.stop());
      }
    }
  }

  @Test
  void verifyCaChecksTheChainButNotTheHostName() throws Exception {
    // 127.0.0.2 is not in the certificate: verify-ca connects, verify-full does not
    startsHealthy(pgUrl("127.0.0.2", PG_PASSWORD_ENCODED, "sslmode=verify-ca&sslrootcert=" + certs.ca));
    String refused = startFails(pgUrl("127.0.0.2", PG_PASSWORD_ENCODED, "sslmode=verify-full&sslrootcert=" + certs.ca));
    assertThat(refused).contains("PostgreSQL at 127.0.0.2:" + pg.getPort()).contains("certificate does not match host name 127.0.0.2");
  }

  // ---- refusals, PostgreSQL: start-up stops with one sentence ----

  @Test
  void postgresWithTheWrongCa() {
    String refused = startFails(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=verify-full&sslrootcert=" + certs.unrelatedCa));
    assertThat(refused).contains("PostgreSQL at localhost:" + pg.getPort()).contains("TLS certificate not trusted by the CA in sslrootcert");
  }

  @Test
  void postgresWithTheWrongPassword() {
    String refused = startFails(pgUrl("localhost", WRONG_PASSWORD, "sslmode=verify-full&sslrootcert=" + certs.ca));
    assertThat(refused).contains("PostgreSQL at localhost:" + pg.getPort()).contains("password authentication failed for user cg");
  }

  @Test
  void postgresRequiresTlsButSslmodeIsDisable() {
    String refused = startFails(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=disable"));
    assertThat(refused).contains("PostgreSQL at localhost:" + pg.getPort()).contains("server requires TLS: set sslmode=require or stricter");
  }

  @Test
  void postgresRequireEncryptsWithoutCheckingTheCertificate() throws Exception {
    // libpq's require: even a certificate no configured CA signed is accepted, but the line is encrypted
    startsHealthy(pgUrl("127.0.0.2", PG_PASSWORD_ENCODED, "sslmode=require"));
    // and with sslrootcert the chain is checked, as libpq does
    String refused = startFails(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=require&sslrootcert=" + certs.unrelatedCa));
    assertThat(refused).contains("TLS certificate not trusted by the CA in sslrootcert");
  }

  // ---- refusals, Redis: the gateway stays down (503) and /health says why ----

  @Test
  void redisWithTheWrongCa() throws Exception {
    String reason = redisDown(redisUrl("cg", REDIS_PASSWORD, redis.port), certs.unrelatedCa.toString());
    assertThat(reason).contains("Redis at localhost:" + redis.port).contains("TLS certificate not trusted by the CA in redis.tls.caFile");
  }

  @Test
  void redisWithAHostNameTheCertificateDoesNotList() throws Exception {
    String reason = redisDown(redisUrl("cg", REDIS_PASSWORD, redisOther.port), certs.ca.toString());
    assertThat(reason).contains("Redis at localhost:" + redisOther.port).contains("certificate does not match host name localhost");
  }

  @Test
  void redisWithTheWrongPassword() throws Exception {
    String reason = redisDown(redisUrl("cg", WRONG_PASSWORD, redis.port), certs.ca.toString());
    assertThat(reason).contains("Redis at localhost:" + redis.port).contains("password authentication failed for user cg");
  }

  @Test
  void redisPlainUrlAgainstItsTlsPort() throws Exception {
    String reason = redisDown("redis://cg:" + REDIS_PASSWORD + "@localhost:" + redis.port, "");
    assertThat(reason).contains("Redis at localhost:" + redis.port).contains("use rediss://");
  }

  // ---- helpers ----

  private static String pgUrl(String host, String password, String params) {
    return "postgresql://cg:" + password + "@" + host + ":" + pg.getPort() + "/app?" + params;
  }

  /** A gateway on this PostgreSQL URL and the TLS Redis comes up healthy (then stops). */
  private static void startsHealthy(String postgresUrl) throws Exception {
    Gateway g = Await.get(Gateway.start(config(postgresUrl, redisUrl("cg", REDIS_PASSWORD, redis.port), certs.ca.toString()), true));
    try {
      assertThat(get(g, "/health").statusCode()).isEqualTo(200);
    } finally {
      Await.get(g.stop());
    }
  }

  private static String redisUrl(String user, String password, int port) {
    return "rediss://" + user + ":" + password + "@localhost:" + port;
  }

  private static GatewayConfig config(String postgresUrl, String redisUrl, String caFile) {
    JsonObject tree = ConfigLoader.readYaml(Path.of("config", "gateway.yaml"));
    int n = GATEWAYS.incrementAndGet();
    tree.getJsonObject("http").put("port", 0).put("instances", 1);
    tree.getJsonObject("redis").put("url", redisUrl).put("namespace", "tls" + n + ":")
        .put("tls", new JsonObject().put("caFile", caFile));
    tree.getJsonObject("postgres").put("url", postgresUrl);
    tree.getJsonObject("cache").put("instances", 1);
    tree.put("auth", new JsonObject().put("enabled", false));
    tree.put("instance", new JsonObject().put("id", "tls-" + n));
    return ConfigLoader.fromTree(tree, Map.of());
  }

  /** Starts a gateway that must not come up; the start-up failure's message, checked for secrets. */
  private static String startFails(String postgresUrl) {
    GatewayConfig config = config(postgresUrl, redisUrl("cg", REDIS_PASSWORD, redis.port), certs.ca.toString());
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(() -> {
      try {
        Gateway g = Await.get(Gateway.start(config, false));
        Await.get(g.stop());
      } catch (Throwable t) {
        caught[0] = t;
        throw t;
      }
    }).as("a gateway must not start against " + postgresUrl.replaceAll(":[^:@/]*@", ":***@")).isNotNull();
    String message = caught[0].getMessage();
    System.out.println("TlsIT start-up refused: " + message);
    assertNoSecret(message);
    assertThat(caught[0].getStackTrace()).as("a refusal carries no stack trace of its own").isEmpty();
    return message;
  }

  /** Starts a gateway whose Redis refuses it: /health must be 503; the Redis reason, checked for secrets. */
  private static String redisDown(String redisUrl, String caFile) throws Exception {
    GatewayConfig config = config(pgUrl("localhost", PG_PASSWORD_ENCODED, "sslmode=verify-full&sslrootcert=" + certs.ca), redisUrl, caFile);
    Gateway g = Await.get(Gateway.start(config, true));
    try {
      HttpResponse<String> health = get(g, "/health");
      assertThat(health.statusCode()).isEqualTo(503);
      assertNoSecret(health.body());
      JsonObject body = new JsonObject(health.body());
      assertThat(body.getJsonObject("redis").getBoolean("up")).isFalse();
      assertThat(body.getJsonObject("postgres").getBoolean("up")).isTrue();
      String reason = body.getJsonObject("redis").getString("error");
      System.out.println("TlsIT /health redis reason: " + reason);
      // a request answers 503 with the same reason
      HttpResponse<String> put = call(g, "PUT", "/v1/entries/k", "{\"value\":1}");
      assertThat(put.statusCode()).isEqualTo(503);
      assertNoSecret(put.body());
      return reason;
    } finally {
      Await.get(g.stop());
    }
  }

  private static void assertNoSecret(String text) {
    assertThat(text).doesNotContain(PG_PASSWORD).doesNotContain(PG_PASSWORD_ENCODED).doesNotContain(REDIS_PASSWORD)
        .doesNotContain(WRONG_PASSWORD).doesNotContain("Exception").doesNotContain("\tat ");
  }

  private static HttpResponse<String> get(Gateway g, String path) {
    return call(g, "GET", path, null);
  }

  private static HttpResponse<String> call(Gateway g, String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.port() + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(method + " " + path + ": " + e, e);
    }
  }

  /** One command on the TLS Redis as cg, with a client of the test's own (not the gateway's). */
  private static String redisAsCg(Request r) {
    Vertx v = Vertx.vertx();
    try {
      // a client of the test's own, with the password percent-encoded (Vert.x reads a raw '+' as a space)
      Redis client = Redis.createClient(v, new RedisOptions().setConnectionString(redisUrl("cg", REDIS_PASSWORD.replace("+", "%2B"), redis.port))
          .setNetClientOptions(new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("HTTPS")
              .setTrustOptions(new PemTrustOptions().addCertPath(certs.ca.toString()))));
      return Await.get(client.send(r)).toString();
    } finally {
      Await.get(v.close());
    }
  }

  private static String jdbc(String db) {
    // as the superuser, which pg_hba lets in without TLS (the gateway's role cannot)
    return "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db + "?sslmode=disable";
  }

  private static void superuser(String... statements) throws Exception {
    superuserIn("postgres", statements);
  }

  private static void superuserIn(String db, String... statements) {
    try (Connection c = DriverManager.getConnection(jdbc(db), "postgres", ""); Statement s = c.createStatement()) {
      for (String st : statements) s.execute(st);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
