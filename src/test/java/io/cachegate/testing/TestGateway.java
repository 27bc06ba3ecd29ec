package io.cachegate.testing;

import io.cachegate.Gateway;
import io.cachegate.config.ConfigLoader;
import io.cachegate.config.GatewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.cachegate.cache.RedisKeys;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real gateway for one test class: the shipped config/gateway.yaml plus overrides, its own fresh
 * database (with the demo tables) and its own Redis namespace, HTTP on a free port. Also gives the
 * test real clients: HTTP, WebSocket, Redis and JDBC.
 */
public final class TestGateway implements AutoCloseable {

  private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();
  public final Gateway gateway;
  public final String namespace;
  public final String postgresUrl;
  private final Vertx clientVertx = Vertx.vertx();
  // held in a field: Vert.x closes a client that becomes unreachable, even during a handshake
  private final io.vertx.core.http.WebSocketClient wsClient = clientVertx.createWebSocketClient();
  private final Redis redis;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestGateway(Gateway gateway, String namespace, String postgresUrl) {
    this.gateway = gateway;
    this.namespace = namespace;
    this.postgresUrl = postgresUrl;
    // the gateway's own client factory: on a cluster, commands are routed by slot (KEYS asks every master)
    this.redis = io.cachegate.cache.RedisFactory.create(clientVertx, gateway.config().redis(), 4, "test-client-" + INSTANCES.incrementAndGet(),
        gateway.clusterNodes());
  }

  public static TestGateway start() {
    return start(new JsonObject(), Map.of());
  }

  /** {@code overrides}: a config tree merged over the shipped file; {@code env}: environment for the loader. */
  public static TestGateway start(JsonObject overrides, Map<String, String> env) {
    return start(overrides, env, TestServices.newDatabase());
  }

  /** On a given database (a test's own PostgreSQL, or a proxy in front of it). */
  public static TestGateway start(JsonObject overrides, Map<String, String> env, String db) {
    return start(overrides, env, db, TestServices.uniqueNamespace());
  }

  /** On a given database and Redis namespace: a later gateway on what an earlier, stopped one left. */
  public static TestGateway start(JsonObject overrides, Map<String, String> env, String db, String ns) {
    GatewayConfig config = config(overrides, env, ns, db);
    return new TestGateway(Await.get(Gateway.start(config, true)), ns, db);
  }

  /** Another gateway on the same database and namespace (several instances). */
  public TestGateway peer(JsonObject overrides) {
    GatewayConfig config = config(overrides, Map.of(), namespace, postgresUrl);
    return new TestGateway(Await.get(Gateway.start(config, false)), namespace, postgresUrl);
  }

  static GatewayConfig config(JsonObject overrides, Map<String, String> env, String ns, String db) {
    JsonObject tree = ConfigLoader.readYaml(Path.of("config", "gateway.yaml"));
    tree.getJsonObject("http").put("port", 0).put("instances", 2);
    tree.getJsonObject("redis").put("url", TestServices.get().redisUrl()).put("namespace", ns)
        .put("mode", TestServices.get().redisCluster() ? "cluster" : "standalone");
    tree.getJsonObject("postgres").put("url", db);
    tree.put("auth", new JsonObject().put("enabled", false));
    tree.getJsonObject("capture").put("pollIntervalMs", 500).put("mode", captureMode())
        .put("wal", tree.getJsonObject("capture").getJsonObject("wal").copy().put("slot", slotFor(db)));
    tree.put("instance", new JsonObject().put("id", "test-" + ns.replace(":", "") + "-" + INSTANCES.incrementAndGet()));
    tree = tree.mergeIn(overrides, true);
    JsonObject tables = overrides.getJsonObject("capture", new JsonObject()).getJsonObject("tables");
    if (tables != null) tree.getJsonObject("capture").put("tables", tables); // rules are replaced, not merged
    Map<String, String> environment = new HashMap<>(env);
    return ConfigLoader.fromTree(tree, environment);
  }

  /** The capture mode of this test run: {@code cachegate.test.captureMode} (pom.xml runs the capture tests in both). */
  public static String captureMode() {
    return System.getProperty("cachegate.test.captureMode", "outbox");
  }

  public static boolean walMode() {
    return "wal".equals(captureMode());
  }

  /** Slot names are the server's, not the database's: one per test database. */
  public static String slotFor(String postgresUrl) {
    String path = postgresUrl.replaceFirst("^[a-z]+://[^/]*/", "").replaceFirst("\\?.*$", "");
    return ("cg_" + path).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
  }

  public int port() {
    return gateway.port();
  }

  // ---- HTTP ----

  public record Reply(int status, String body, HttpResponse<String> raw) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  public Reply call(String method, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      OpenApiCheck.get().check(method, path, r); // every REST answer must be one openapi.json describes
      return new Reply(r.statusCode(), r.body(), r);
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(method + " " + path + ": " + e, e);
    }
  }

  public Reply put(String key, JsonObject body) {
    return call("PUT", "/v1/entries/" + key, body.encode());
  }

  public Reply post(String path, JsonObject body) {
    return call("POST", path, body.encode());
  }

  // ---- WebSocket ----

  public TestSocket socket(String... headers) {
    return socketAt("/v1/stream", headers);
  }

  /** A socket on a given URI (with a query string, say ?token=...). */
  public TestSocket socketAt(String uri, String... headers) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port()).setURI(uri);
    for (int i = 0; i + 1 < headers.length; i += 2) o.addHeader(headers[i], headers[i + 1]);
    return new TestSocket(Await.get(wsClient.connect(o)));
  }

  /** The HTTP status a refused WebSocket handshake got. */
  public int socketRejected(String... headers) {
    return socketRejectedAt("/v1/stream", headers);
  }

  /** A refused handshake's status and JSON body ({@code status} added), to see why it was refused. */
  public JsonObject socketRefusalAt(String uri, String... headers) {
    JsonObject r = socketRefusalOrNull(uri, headers);
    if (r == null) throw new AssertionError("the handshake was accepted");
    return r;
  }

  /** A refused handshake's body, as {@link #socketRefusalAt}; null when the handshake is accepted (then closed). */
  public JsonObject socketRefusalOrNull(String uri, String... headers) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port()).setURI(uri);
    for (int i = 0; i + 1 < headers.length; i += 2) o.addHeader(headers[i], headers[i + 1]);
    try {
      Await.get(Await.get(wsClient.connect(o)).close());
      return null;
    } catch (io.vertx.core.http.UpgradeRejectedException e) {
      return new JsonObject(e.getBody().toString()).put("status", e.getStatus());
    }
  }

  public int socketRejectedAt(String uri, String... headers) {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port()).setURI(uri);
    for (int i = 0; i + 1 < headers.length; i += 2) o.addHeader(headers[i], headers[i + 1]);
    try {
      Await.get(wsClient.connect(o));
    } catch (io.vertx.core.http.UpgradeRejectedException e) {
      return e.getStatus();
    }
    throw new AssertionError("the handshake was accepted");
  }

  // ---- Redis and PostgreSQL, read directly ----

  public boolean exists(String key) {
    return Await.get(redis.send(Request.cmd(Command.EXISTS).arg(namespace + key))).toInteger() == 1;
  }

  /**
   * The namespace's keys other than those that live as long as the gateway by design (docs/architecture.md,
   * "State in Redis"): the version counters (one per slot in use), the epoch, the notice log and what
   * the trim keeps (the notice tails' positions and heartbeats, written by every running instance about
   * once a second, the instances' reports, and the last trimmed id). What remains must expire with the entries.
   */
  public List<String> transientKeys() {
    Response r = Await.get(redis.send(Request.cmd(Command.KEYS).arg(namespace + "*")));
    java.util.Set<String> fixed = java.util.Set.of(RedisKeys.EPOCH.name(), RedisKeys.NOTICES.name(), RedisKeys.TAILS.name(),
        RedisKeys.TAILBEAT.name(), RedisKeys.TRIMMED.name(), RedisKeys.INSTANCES.name());
    List<String> out = new java.util.ArrayList<>();
    for (Response k : r) {
      String name = k.toString().substring(namespace.length());
      if (!name.startsWith(RedisKeys.VERSION.name()) && !fixed.contains(name)) out.add(name);
    }
    return out;
  }

  public Response redis(Request r) {
    return Await.get(redis.send(r));
  }

  /**
   * The Redis keys of this gateway's namespace, for "nothing was written" checks: all but the notice
   * tails' position and heartbeat, which every running instance writes about once a second by itself
   * (a check that ran past the first heartbeat saw them appear and failed).
   */
  public long keyCount() {
    Response r = Await.get(redis.send(Request.cmd(Command.KEYS).arg(namespace + "*")));
    java.util.Set<String> own = java.util.Set.of(RedisKeys.TAILS.in(namespace),
        RedisKeys.TAILBEAT.in(namespace));
    long n = 0;
    for (Response k : r) if (!own.contains(k.toString())) n++;
    return n;
  }

  public Connection jdbc() {
    try {
      return DriverManager.getConnection(TestServices.jdbcUrlOf(postgresUrl), "postgres", "");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row of a query on this gateway's database, as text (null when no row). */
  public String query(String sql) {
    try (Connection c = jdbc(); Statement s = c.createStatement(); java.sql.ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  public void sql(String... statements) {
    try (Connection c = jdbc(); Statement s = c.createStatement()) {
      for (String st : statements) s.execute(st);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      Await.get(gateway.stop());
    } finally {
      redis.close();
      clientVertx.close();
    }
  }
}
