package io.cachegate.check;

import io.cachegate.capture.CaptureVerticle;
import io.cachegate.capture.OutboxSchema;
import io.cachegate.testing.Await;
import io.cachegate.testing.GatewayProcess;
import io.cachegate.testing.OpenApiCheck;
import io.cachegate.testing.RedisCluster;
import io.cachegate.testing.RedisServerProcess;
import io.cachegate.testing.TestGateway;
import io.cachegate.testing.TestRedis;
import io.cachegate.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The consistency checker: writers change rows of a watched table, readers fill the cache through the
 * REST API with fill leases, and WebSocket clients follow the rows' tags, while faults are injected:
 * the listener's connection is killed, Redis is stopped and restarted (with its data), and the leading
 * instance is killed with SIGKILL (it runs in a process of its own; its clients reconnect elsewhere with
 * {@code since}). Each fault is checked to have happened, on real state (PostgreSQL's sessions and
 * locks, each instance's {@code /health}), and its entry in the result says what was observed; a fault
 * that was not observed is {@link Fault#happened() not happened}, and the run has not proved anything
 * about it. After the writes stop and the gateways settle it checks every row:
 * <ol>
 *   <li>no entry in Redis is older than the row's last committed change;</li>
 *   <li>every client following one of the row's tags (before or after the change) heard a notice
 *       naming that tag after the change began to commit, or a {@code reset}.</li>
 * </ol>
 * Seeded and bounded in time. {@link #main} runs a longer check (see docs/reliability.md).
 */
public final class ConsistencyChecker {

  /**
   * One injected fault: what was done, when (seconds into the writes), and what was observed of it.
   * {@code happened} is false when the observation did not confirm it (the entry then says why).
   */
  public record Fault(String name, String at, boolean happened, String observed) {
    @Override
    public String toString() {
      return name + "(" + (happened ? "" : "NOT OBSERVED: ") + observed + ")@" + at;
    }
  }

  public record Result(long changes, long fills, long staleRefused, long audits, List<Fault> faults, List<String> violations) {
    /** The faults whose effect was not observed. */
    public List<Fault> missedFaults() {
      return faults.stream().filter(f -> !f.happened()).toList();
    }

    @Override
    public String toString() {
      return "consistency: changes=" + changes + " fills=" + fills + " staleFillsRefused=" + staleRefused + " audits=" + audits
          + " faults=" + faults + " violations=" + violations.size()
          + (violations.isEmpty() ? "" : " first=" + violations.subList(0, Math.min(5, violations.size())));
    }
  }

  private record Change(long version, int oldGroup, int newGroup, long commitStartNanos) {}

  static final int ROWS = 200;
  static final int GROUPS = 4;
  /** The application's work between reading a row and filling the cache: the stale-set race window. */
  static final long FILL_WORK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** Per writer; rows then change about every 2.7 s, so a stale entry outlives the grace and is seen. */
  static final long WRITES_PER_SEC = 75;
  /** How long a committed change may take to reach Redis before a cached older value counts as stale. */
  static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(1500);

  private final long seed;
  private final long writeSeconds;
  private final Map<Integer, Change> lastChange = new ConcurrentHashMap<>();
  /** row -> version -> when its commit began; the auditor reads it to date a cached value's staleness. */
  private final Map<Integer, java.util.concurrent.ConcurrentSkipListMap<Long, Long>> commits = new ConcurrentHashMap<>();
  private final List<String> auditViolations = new CopyOnWriteArrayList<>();
  private final AtomicLong audits = new AtomicLong();
  private volatile long auditPausedUntil = Long.MIN_VALUE; // nanoTime may be negative
  private final AtomicLong changes = new AtomicLong();
  private final AtomicLong fills = new AtomicLong();
  private final AtomicLong staleRefused = new AtomicLong();
  private final List<Fault> faults = new CopyOnWriteArrayList<>();
  /** REST answers 503 the readers got (Redis unreachable), to tell how the outage looked to clients. */
  private final AtomicLong unavailable = new AtomicLong();
  private final List<Instance> gateways = new CopyOnWriteArrayList<>();
  private final java.util.Set<Instance> stopped = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean writing = new AtomicBoolean(true);
  /** Set before the clients and gateways are closed: no client reconnects from then on. */
  private volatile boolean tearingDown;
  private volatile Vertx clientVertx;

  private void reconnectTimer(Runnable connect) {
    clientVertx.setTimer(50, t -> {
      if (!tearingDown) connect.run();
    });
  }
  private String db;
  /** The Redis namespace both instances share. */
  private String ns;
  /** A Redis client for the auditor and the verdicts: the in-JVM instance's, which is never killed. */
  private TestGateway redisReader;

  private final boolean leases;

  /** {@code leases=false} fills without leases: the stale-set race the checker must then catch. */
  public ConsistencyChecker(long seed, long writeSeconds, boolean leases) {
    this.seed = seed;
    this.writeSeconds = writeSeconds;
    this.leases = leases;
  }

  /** One client following one group's tag, reconnecting to a live instance with since. */
  private final class Client {
    final int group;
    final List<long[]> heard = new CopyOnWriteArrayList<>(); // {receivedNanos}
    final List<Long> resets = new CopyOnWriteArrayList<>();
    final List<String> sentinels = new CopyOnWriteArrayList<>();
    volatile String lastId;
    volatile WebSocket ws;

    Client(int group) {
      this.group = group;
    }

    void connect(WebSocketClient wsc) {
      Instance gw = live().get(group % live().size());
      wsc.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gw.port()).setURI("/v1/stream"))
          .onSuccess(w -> {
            ws = w;
            w.textMessageHandler(t -> {
              JsonObject f = new JsonObject(t);
              switch (f.getString("type")) {
                case "invalidate" -> {
                  lastId = f.getString("id");
                  if (f.getJsonArray("tags").contains("grp:" + group)) heard.add(new long[] {System.nanoTime()});
                  f.getJsonArray("keys").forEach(k -> {
                    if (((String) k).startsWith("sentinel:")) sentinels.add((String) k);
                  });
                }
                case "reset" -> resets.add(System.nanoTime());
                case "subscribed" -> lastId = f.getString("position");
                default -> { }
              }
            });
            w.closeHandler(v -> {
              if (!tearingDown && (writing.get() || !live().isEmpty())) connect(wsc);
            });
            JsonObject sub = new JsonObject().put("type", "subscribe").put("tags", new JsonArray().add("grp:" + group))
                .put("prefixes", new JsonArray().add("sentinel:"));
            if (lastId != null) sub.put("since", lastId);
            w.writeTextMessage(sub.encode());
          })
          .onFailure(err -> {
            // not at once: a refused connect would otherwise spin until a live instance answers
            if (!tearingDown) reconnectTimer(() -> connect(wsc));
          });
    }

    boolean heardAfter(long nanos) {
      for (long[] h : heard) if (h[0] > nanos) return true;
      for (long r : resets) if (r > nanos) return true;
      return false;
    }
  }

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * One gateway instance as the checker sees it: in this JVM ({@code inJvm}), or in a process of its own
   * ({@code process}), which the leader fault kills with SIGKILL.
   */
  private static final class Instance {
    final String id;
    final TestGateway inJvm;
    final GatewayProcess process;
    final int port;

    Instance(String id, TestGateway inJvm, GatewayProcess process, int port) {
      this.id = id;
      this.inJvm = inJvm;
      this.process = process;
      this.port = port;
    }

    int port() {
      return port;
    }

    /** As {@link TestGateway#call}: every answer is checked against openapi.json; a failed request throws. */
    TestGateway.Reply call(String method, String path, String body) {
      if (inJvm != null) return inJvm.call(method, path, body);
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(10))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) b.header("Content-Type", "application/json");
      try {
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        OpenApiCheck.get().check(method, path, r);
        return new TestGateway.Reply(r.statusCode(), r.body(), r);
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(method + " " + path + ": " + e, e);
      }
    }

    TestGateway.Reply put(String key, JsonObject body) {
      return call("PUT", "/v1/entries/" + key, body.encode());
    }

    TestGateway.Reply post(String path, JsonObject body) {
      return call("POST", path, body.encode());
    }

    /** {@code GET /health}'s body (200 or 503), or an empty object when the instance does not answer. */
    JsonObject health() {
      try {
        return call("GET", "/health", null).json();
      } catch (RuntimeException e) {
        return new JsonObject();
      }
    }

    /** Whether this instance says Redis is up (null: no answer). */
    Boolean redisUp() {
      JsonObject r = health().getJsonObject("redis");
      return r == null ? null : r.getBoolean("up");
    }

    /**
     * The metric cachegate.capture.reconnects: from the registry in this JVM; for a process, from
     * {@code health} (its /health reports the same counter).
     */
    long reconnects(JsonObject health) {
      if (inJvm != null) return inJvm.gateway.metrics().count("cachegate.capture.reconnects");
      return health.getJsonObject("postgres", new JsonObject()).getLong("reconnects", -1L);
    }

    @Override
    public String toString() {
      return id + (process != null ? " (own process)" : " (this JVM)");
    }
  }

  private List<Instance> live() {
    return gateways.stream().filter(g -> !stopped.contains(g)).toList();
  }

  public Result run() throws Exception {
    db = TestServices.newDatabase();
    ns = TestServices.uniqueNamespace();
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, v bigint NOT NULL, grp int NOT NULL)");
      st.execute("INSERT INTO accounts SELECT i, 0, i % " + GROUPS + " FROM generate_series(1, " + ROWS + ") i");
    }
    Vertx vertx = Vertx.vertx();
    clientVertx = vertx;
    WebSocketClient wsc = vertx.createWebSocketClient();
    List<Client> clients = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    // its own Redis, which it stops and restarts; on the cluster leg the shared cluster, whose notice-log
    // master it fails over to its replica instead
    RedisCluster cluster = TestServices.get().cluster();
    TestRedis redis = cluster == null ? new TestRedis(true) : null;
    String redisUrl = cluster == null ? redis.url() : cluster.url();
    GatewayProcess process = null;
    try (Connection control = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", "")) {
      // the instance that leads runs in a process of its own, so that it can be killed with SIGKILL; it
      // starts alone, so it takes the lead, and the in-JVM instance starts once it holds the lock, as a
      // follower (C1 only: the process starts faster and takes less CPU from the run; 15 s of load
      // does not need C2)
      String processId = "test-" + ns.replace(":", "") + "-process";
      GatewayProcess started = GatewayProcess.start(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), "io.cachegate.Main", List.of(),
          processEnv(redisUrl, cluster != null, processId));
      process = started;
      Await.until("the process instance to hold the leader lock", 60_000, () -> {
        if (!started.process.isAlive()) throw new AssertionError("the process instance exited " + started.process.exitValue());
        return (CaptureVerticle.LEADER_NAME + processId).equals(lockHolderName(control));
      });
      JsonObject cfg = new JsonObject()
          .put("redis", new JsonObject().put("url", redisUrl).put("namespace", ns)
              .put("commandTimeoutMs", 500).put("reconnectMaxDelayMs", 500))
          .put("capture", new JsonObject().put("leaderPollMs", 200).put("reconnectMinDelayMs", 50).put("reconnectMaxDelayMs", 500)
              .put("heartbeatMs", 500).put("heartbeatTimeoutMs", 1000)
              .put("tables", new JsonObject().put("accounts", new JsonObject()
                  .put("keys", new JsonArray().add("acct:{id}")).put("tags", new JsonArray().add("grp:{grp}")))));
      redisReader = TestGateway.start(cfg, Map.of(), db);
      gateways.add(new Instance(processId, null, process, process.awaitListening()));
      gateways.add(new Instance(redisReader.gateway.config().instanceId(), redisReader, null, redisReader.port()));
      for (int g = 0; g < GROUPS; g++) {
        Client cl = new Client(g);
        clients.add(cl);
        cl.connect(wsc);
      }
      Await.until("clients to subscribe", 10_000, () -> clients.stream().allMatch(cl -> cl.lastId != null));

      for (int w = 0; w < 2; w++) threads.add(new Thread(writer(new Random(seed * 31 + w)), "writer-" + w));
      for (int r = 0; r < 2; r++) threads.add(new Thread(reader(new Random(seed * 17 + r)), "reader-" + r));
      threads.add(new Thread(auditor(new Random(seed * 7)), "auditor"));
      for (Thread t : threads) {
        // a checker thread that dies must fail the check, not shrink it silently
        t.setUncaughtExceptionHandler((th, err) -> auditViolations.add("checker thread " + th.getName() + " failed: " + err));
        t.start();
      }

      long start = System.nanoTime();
      long step = TimeUnit.SECONDS.toNanos(writeSeconds) / 5;
      pauseUntil(start + step);
      killListener(control, start);
      pauseUntil(start + 2 * step);
      if (cluster == null) stopRedis(redis, start, start + 2 * step + TimeUnit.SECONDS.toNanos(2));
      else failOver(cluster, start);
      pauseUntil(start + 3 * step);
      killLeader(control, start);
      pauseUntil(start + TimeUnit.SECONDS.toNanos(writeSeconds));
      writing.set(false);
      for (Thread t : threads) t.join(30_000);

      settle(clients);
      List<String> violations = new ArrayList<>(auditViolations);
      violations.addAll(verify(clients));
      return new Result(changes.get(), fills.get(), staleRefused.get(), audits.get(), List.copyOf(faults), violations);
    } finally {
      // nothing it started outlives the run, whatever failed: the load first, then the clients, while
      // their gateways still answer the close handshake (a client that reconnected to a gateway in the
      // middle of its shutdown used to hold wsc.close() past its timeout), the gateways, Redis last
      writing.set(false);
      tearingDown = true;
      try {
        for (Thread t : threads) t.join(30_000);
        Await.get(wsc.close());
      } finally {
        try {
          if (redisReader != null) redisReader.close();
        } finally {
          try {
            if (process != null) process.close(); // returns at once when it was SIGKILLed
          } finally {
            try {
              Await.get(vertx.close());
            } finally {
              if (redis != null) redis.close();
            }
          }
        }
      }
    }
  }

  /** The process instance's configuration: the in-JVM instance's, as environment variables. */
  private Map<String, String> processEnv(String redisUrl, boolean cluster, String instanceId) {
    Map<String, String> env = new HashMap<>();
    env.put("CACHEGATE_INSTANCE_ID", instanceId);
    env.put("CACHEGATE_HTTP_PORT", "0");
    env.put("CACHEGATE_HTTP_INSTANCES", "2");
    env.put("CACHEGATE_AUTH_ENABLED", "false");
    env.put("CACHEGATE_REDIS_URL", redisUrl);
    if (cluster) env.put("CACHEGATE_REDIS_MODE", "cluster");
    env.put("CACHEGATE_REDIS_NAMESPACE", ns);
    env.put("CACHEGATE_REDIS_COMMAND_TIMEOUT_MS", "500");
    env.put("CACHEGATE_REDIS_RECONNECT_MAX_DELAY_MS", "500");
    env.put("CACHEGATE_POSTGRES_URL", db);
    env.put("CACHEGATE_CAPTURE_POLL_INTERVAL_MS", "500");
    env.put("CACHEGATE_CAPTURE_LEADER_POLL_MS", "200");
    env.put("CACHEGATE_CAPTURE_RECONNECT_MIN_DELAY_MS", "50");
    env.put("CACHEGATE_CAPTURE_RECONNECT_MAX_DELAY_MS", "500");
    env.put("CACHEGATE_CAPTURE_HEARTBEAT_MS", "500");
    env.put("CACHEGATE_CAPTURE_HEARTBEAT_TIMEOUT_MS", "1000");
    env.put("CACHEGATE_CAPTURE_MODE", TestGateway.captureMode());
    env.put("CACHEGATE_CAPTURE_WAL_SLOT", TestGateway.slotFor(db));
    env.put("CACHEGATE_CAPTURE_TABLES", "{\"accounts\": {\"keys\": [\"acct:{id}\"], \"tags\": [\"grp:{grp}\"]}}");
    return env;
  }

  private static String elapsed(long start) {
    return String.format("%.1fs", (System.nanoTime() - start) / 1e9);
  }

  /** Paces the fault schedule; the checker is a load generator, this is not a synchronisation. */
  private static void pauseUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) TimeUnit.NANOSECONDS.sleep(left);
  }

  /**
   * Polls real state until {@code condition} holds, for {@code timeoutMs} at most (a check that throws
   * counts as not yet): the milliseconds it took, or -1 when it never held.
   */
  private static long observe(String what, long timeoutMs, BooleanSupplier condition) {
    long t0 = System.nanoTime();
    try {
      Await.until(what, timeoutMs, () -> {
        try {
          return condition.getAsBoolean();
        } catch (RuntimeException e) {
          return false;
        }
      });
      return (System.nanoTime() - t0) / 1_000_000;
    } catch (AssertionError e) {
      return -1;
    }
  }

  /** The application_name of the session holding the leader lock now (pg_locks), or null. */
  private static String lockHolderName(Connection control) {
    return sqlString(control, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        + "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        + "AND ((l.classid::bigint << 32) | l.objid::bigint) = " + OutboxSchema.LEADER_LOCK + " LIMIT 1");
  }

  /** The instance whose lock session holds the leader lock now, or null. */
  private Instance lockHolder(Connection control) {
    String name = lockHolderName(control);
    for (Instance g : gateways) if ((CaptureVerticle.LEADER_NAME + g.id).equals(name)) return g;
    return null;
  }

  /** The pids of this database's sessions with this application_name. */
  private static List<Integer> sessions(Connection control, String applicationName) {
    try (PreparedStatement ps = control.prepareStatement(
        "SELECT pid FROM pg_stat_activity WHERE application_name = ? AND datname = current_database() ORDER BY pid")) {
      ps.setString(1, applicationName);
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) pids.add(rs.getInt(1));
      }
      return pids;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sqlString(Connection control, String query) {
    try (Statement st = control.createStatement(); ResultSet rs = st.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Ends the leader's LISTEN session(s) with pg_terminate_backend. Happened when at least one session was
   * ended (gone from pg_stat_activity), and the leader LISTENs again: a new session of that name, its
   * reconnect metric grown, and its /health saying it listens.
   */
  private void killListener(Connection control, long start) {
    String at = elapsed(start);
    Instance leader = lockHolder(control);
    if (leader == null) {
      faults.add(new Fault("listener-killed", at, false, "no instance holds the leader lock"));
      return;
    }
    String name = CaptureVerticle.LISTENER_NAME + leader.id;
    long reconnectsBefore = leader.reconnects(leader.health());
    List<Integer> ended = new ArrayList<>();
    try (PreparedStatement ps = control.prepareStatement("SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
        + "WHERE application_name = ? AND datname = current_database()")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) if (rs.getBoolean(2)) ended.add(rs.getInt(1));
      }
    } catch (java.sql.SQLException e) {
      faults.add(new Fault("listener-killed", at, false, "pg_terminate_backend failed: " + e.getMessage()));
      return;
    }
    if (ended.isEmpty()) {
      faults.add(new Fault("listener-killed", at, false, "0 sessions named '" + name + "' ended"));
      return;
    }
    long goneMs = observe("the killed listener sessions to end", 2_000,
        () -> sessions(control, name).stream().noneMatch(ended::contains));
    String what = ended.size() + " session" + (ended.size() == 1 ? "" : "s") + " " + ended + " of " + leader.id;
    if (goneMs < 0) {
      faults.add(new Fault("listener-killed", at, false, what + " signalled but still in pg_stat_activity after 2 s"));
      return;
    }
    List<Integer> fresh = new ArrayList<>();
    long[] reconnectsAfter = {reconnectsBefore};
    long relistenMs = observe("the leader to LISTEN again", 2_500, () -> {
      List<Integer> now = sessions(control, name);
      now.removeAll(ended);
      JsonObject health = leader.health();
      reconnectsAfter[0] = leader.reconnects(health);
      if (now.isEmpty() || reconnectsAfter[0] <= reconnectsBefore
          || !health.getJsonObject("postgres", new JsonObject()).getBoolean("listening", false)) return false;
      fresh.addAll(now);
      return true;
    });
    if (relistenMs < 0) {
      faults.add(new Fault("listener-killed", at, false, what + " ended, but no re-LISTEN within 2.5 s (reconnects "
          + reconnectsBefore + " -> " + reconnectsAfter[0] + ", sessions now " + sessions(control, name) + ")"));
    } else {
      faults.add(new Fault("listener-killed", at, true, what + " ended; re-LISTENed as " + fresh + " after " + relistenMs
          + " ms, reconnects " + reconnectsBefore + " -> " + reconnectsAfter[0]));
    }
  }

  /**
   * Stops Redis until {@code until}, then starts it again (with its data). The stop happened when every
   * live instance's /health says Redis is down; the restart when every one says it is up again.
   */
  private void stopRedis(TestRedis redis, long start, long until) throws InterruptedException {
    List<Instance> gws = live();
    String stoppedAt = elapsed(start);
    auditPausedUntil = Long.MAX_VALUE; // nothing can be invalidated while Redis is away
    long unavailableBefore = unavailable.get();
    redis.stop();
    long[] saidDown = {0};
    long downMs = observe("every instance to report Redis down", 1_500, () -> {
      saidDown[0] = gws.stream().filter(g -> Boolean.FALSE.equals(g.redisUp())).count();
      return saidDown[0] == gws.size();
    });
    String downSaid = saidDown[0] + "/" + gws.size();
    pauseUntil(until);
    long refused = unavailable.get() - unavailableBefore;
    redis.start();
    String restartedAt = elapsed(start);
    auditPausedUntil = System.nanoTime() + GRACE_NANOS;
    faults.add(new Fault("redis-stopped", stoppedAt, downMs >= 0,
        (downMs >= 0 ? "down on /health of " + downSaid + " instances after " + downMs + " ms"
            : "/health said down on only " + downSaid + " instances within 1.5 s")
            + ", " + refused + " requests answered 503"));
    long[] saidUp = {0};
    long upMs = observe("every instance to report Redis up again", 5_000, () -> {
      saidUp[0] = gws.stream().filter(g -> Boolean.TRUE.equals(g.redisUp())).count();
      return saidUp[0] == gws.size();
    });
    // "came back" means something only after it was seen down
    faults.add(new Fault("redis-restarted", restartedAt, downMs >= 0 && upMs >= 0,
        (upMs >= 0 ? "up on /health of " : "after 5 s up on /health of only ") + saidUp[0] + "/" + gws.size() + " instances"
            + (upMs >= 0 ? " after " + upMs + " ms" : "") + (downMs >= 0 ? "" : ", but it was never seen down")));
  }

  /**
   * On a cluster: the replica of the master that holds the notice log takes over (CLUSTER FAILOVER, no
   * write lost); happened when it reports role:master and every live instance says Redis is up after.
   */
  private void failOver(RedisCluster cluster, long start) {
    String at = elapsed(start);
    long unavailableBefore = unavailable.get();
    RedisServerProcess master = cluster.masterOf(io.cachegate.cache.SlotTags.slot(io.cachegate.cache.RedisKeys.NOTICES.in(ns)));
    RedisServerProcess replica = cluster.replicasOf(master).get(0);
    String reply = RedisCluster.info(replica.port, "CLUSTER FAILOVER");
    long promotedMs = observe("the replica to take over", 10_000,
        () -> RedisCluster.info(replica.port, "INFO replication").contains("role:master"));
    long upMs = observe("every instance to report Redis up", 10_000,
        () -> live().stream().allMatch(g -> Boolean.TRUE.equals(g.redisUp())));
    faults.add(new Fault("redis-failover", at, promotedMs >= 0 && upMs >= 0, "replica :" + replica.port + " of the notice log's master "
        + (promotedMs >= 0 ? "promoted after " + promotedMs + " ms" : "not promoted within 10 s") + " (CLUSTER FAILOVER: " + reply.trim()
        + "), " + (unavailable.get() - unavailableBefore) + " requests answered 503"));
  }

  /**
   * Kills the leading instance with SIGKILL: no graceful step-down, no unlock; PostgreSQL releases the
   * lock when the kernel closes the dead process's sockets. Happened when the process ended by SIGKILL
   * (exit 137), its sessions are gone, and the lock moved: pg_locks names the other instance's lock
   * session, and that instance leads (its metric and its /health's leaderInstance).
   */
  private void killLeader(Connection control, long start) throws InterruptedException {
    String at = elapsed(start);
    Instance leader = lockHolder(control);
    if (leader == null || leader.process == null) {
      faults.add(new Fault("leader-killed", at, false, leader == null ? "no instance holds the leader lock"
          : "the lock is held by " + leader + ", which cannot be killed with SIGKILL"));
      return;
    }
    Instance heir = live().stream().filter(g -> g != leader).findFirst().orElseThrow();
    stopped.add(leader);
    leader.process.kill9();
    boolean dead = !leader.process.process.isAlive();
    int exit = dead ? leader.process.process.exitValue() : -1;
    long movedMs = observe("the lock to move to " + heir.id, 10_000, () ->
        sessions(control, CaptureVerticle.LEADER_NAME + leader.id).isEmpty()
            && sessions(control, CaptureVerticle.LISTENER_NAME + leader.id).isEmpty()
            && lockHolder(control) == heir
            && heir.inJvm.gateway.capture().leader()
            && heir.id.equals(heir.health().getJsonObject("postgres", new JsonObject()).getString("leaderInstance")));
    String killed = leader.id + (dead ? " ended with exit " + exit + (exit == 137 ? " (SIGKILL)" : "") : " still alive");
    if (exit != 137) {
      faults.add(new Fault("leader-killed", at, false, killed));
    } else if (movedMs < 0) {
      Instance holder = lockHolder(control);
      faults.add(new Fault("leader-killed", at, false, killed + ", but the lock did not move to " + heir.id
          + " within 10 s (held by " + (holder == null ? "nobody" : holder.id) + ")"));
    } else {
      faults.add(new Fault("leader-killed", at, true, killed + "; lock moved to " + heir.id + " after " + movedMs + " ms"));
    }
  }

  private Runnable writer(Random rnd) {
    return () -> {
      try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", "");
           PreparedStatement up = c.prepareStatement(
               "UPDATE accounts a SET v = a.v + 1, grp = ? FROM accounts o WHERE a.id = ? AND o.id = a.id RETURNING a.v, o.grp")) {
        c.setAutoCommit(false);
        long paced = System.nanoTime();
        while (writing.get()) {
          paced += 1_000_000_000L / WRITES_PER_SEC;
          LockSupport.parkNanos(paced - System.nanoTime()); // load pacing
          int id = 1 + rnd.nextInt(ROWS);
          int grp = rnd.nextInt(10) == 0 ? rnd.nextInt(GROUPS) : -1; // sometimes move the row to another group
          try (PreparedStatement cur = c.prepareStatement("SELECT grp FROM accounts WHERE id = ? FOR UPDATE")) {
            cur.setLong(1, id);
            int old;
            try (ResultSet rs = cur.executeQuery()) {
              rs.next();
              old = rs.getInt(1);
            }
            int now = grp < 0 ? old : grp;
            up.setInt(1, now);
            up.setLong(2, id);
            long v;
            try (ResultSet rs = up.executeQuery()) {
              rs.next();
              v = rs.getLong(1);
            }
            long commitStart = System.nanoTime();
            c.commit();
            lastChange.merge(id, new Change(v, old, now, commitStart), (a, b) -> a.version() >= b.version() ? a : b);
            commits.computeIfAbsent(id, k -> new java.util.concurrent.ConcurrentSkipListMap<>()).put(v, commitStart);
            changes.incrementAndGet();
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private Runnable reader(Random rnd) {
    return () -> {
      try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", "");
           PreparedStatement sel = c.prepareStatement("SELECT v, grp FROM accounts WHERE id = ?")) {
        while (writing.get()) {
          List<Instance> gws = live();
          if (gws.isEmpty()) continue;
          Instance gw = gws.get(rnd.nextInt(gws.size()));
          int id = 1 + rnd.nextInt(ROWS);
          TestGateway.Reply r;
          try {
            r = gw.call("GET", "/v1/entries/acct:" + id + (leases ? "?lease=true" : ""), null);
          } catch (IllegalStateException e) {
            continue; // that instance was just stopped
          }
          if (r.status() == 503) unavailable.incrementAndGet();
          if (r.status() != 404 || (leases && !r.json().containsKey("lease"))) continue; // a hit, a held lease, or 503
          sel.setLong(1, id);
          long v;
          try (ResultSet rs = sel.executeQuery()) {
            rs.next();
            v = rs.getLong(1);
          }
          // the application's own work between reading the row and filling the cache (the race window)
          LockSupport.parkNanos(FILL_WORK_NANOS);
          TestGateway.Reply put;
          try {
            // not filed under grp:N: every change invalidates its group's tag, which would empty the cache
            JsonObject body = new JsonObject().put("value", v).put("ttl", 3600);
            if (leases) body.put("lease", r.json().getString("lease"));
            put = gw.put("acct:" + id, body);
          } catch (IllegalStateException e) {
            continue;
          }
          if (put.status() == 200) fills.incrementAndGet();
          else if (put.status() == 409) staleRefused.incrementAndGet();
          else if (put.status() == 503) unavailable.incrementAndGet();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  /**
   * While the run goes on: a cached value v of a row whose version v+1 began committing more than the
   * grace period ago is a stale entry that survived its invalidation (the stale-set race, or a lost
   * invalidation). Checked on random rows, outside the Redis outage and its grace period.
   */
  private Runnable auditor(Random rnd) {
    return () -> {
      while (writing.get()) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        if (System.nanoTime() < auditPausedUntil) continue;
        TestGateway gw = redisReader;
        int id = 1 + rnd.nextInt(ROWS);
        Response cached;
        try {
          cached = gw.redis(Request.cmd(Command.GET).arg(ns + "acct:" + id));
        } catch (RuntimeException e) {
          continue;
        }
        if (cached == null) continue;
        long v = Long.parseLong(cached.toString());
        var versions = commits.get(id);
        Long nextCommit = versions == null ? null : versions.get(v + 1);
        long now = System.nanoTime();
        if (nextCommit != null && now - nextCommit > GRACE_NANOS && now > auditPausedUntil) {
          // confirm: the entry still holds v now
          Response again = gw.redis(Request.cmd(Command.GET).arg(ns + "acct:" + id));
          if (again != null && Long.parseLong(again.toString()) == v) {
            auditViolations.add("acct:" + id + " still cached at version " + v + ", "
                + (now - nextCommit) / 1_000_000 + " ms after version " + (v + 1) + " began to commit");
          }
        }
        audits.incrementAndGet();
      }
    };
  }

  private void settle(List<Client> clients) {
    Instance gw = live().get(0);
    Await.until("the outbox to drain", 30_000, () -> {
      try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT count(*) FROM cachegate.outbox")) {
        rs.next();
        return rs.getLong(1) == 0;
      } catch (Exception e) {
        return false;
      }
    });
    // notices reach each client in order: once the sentinel arrives, everything before it has
    String sentinel = "sentinel:" + System.nanoTime();
    Await.until("Redis to accept the sentinel", 30_000,
        () -> gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add(sentinel))).status() == 200);
    Await.until("every client to hear the sentinel", 30_000, () -> clients.stream().allMatch(cl -> cl.sentinels.contains(sentinel)));
  }

  private List<String> verify(List<Client> clients) throws Exception {
    List<String> violations = new ArrayList<>();
    TestGateway gw = redisReader;
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, v FROM accounts ORDER BY id")) {
      while (rs.next()) {
        int id = rs.getInt(1);
        long v = rs.getLong(2);
        Response cached = gw.redis(Request.cmd(Command.GET).arg(ns + "acct:" + id));
        if (cached != null && Long.parseLong(cached.toString()) != v) {
          violations.add("acct:" + id + " cached " + cached + " but the row is at " + v);
        }
      }
    }
    for (Map.Entry<Integer, Change> e : lastChange.entrySet()) {
      Change ch = e.getValue();
      for (Client cl : clients) {
        if (cl.group != ch.oldGroup() && cl.group != ch.newGroup()) continue;
        if (!cl.heardAfter(ch.commitStartNanos())) {
          violations.add("client of grp:" + cl.group + " heard nothing after the last change of row " + e.getKey());
        }
      }
    }
    return violations;
  }

  /** The longer run: {@code --seconds N --seed S [--no-leases]}. */
  public static void main(String[] args) throws Exception {
    long seconds = 120;
    long seed = 1;
    boolean leases = true;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--seconds")) seconds = Long.parseLong(args[++i]);
      else if (args[i].equals("--seed")) seed = Long.parseLong(args[++i]);
      else if (args[i].equals("--no-leases")) leases = false;
    }
    Result r = new ConsistencyChecker(seed, seconds, leases).run();
    System.out.println(r);
    System.exit(r.violations().isEmpty() && r.missedFaults().isEmpty() ? 0 : 1);
  }
}
