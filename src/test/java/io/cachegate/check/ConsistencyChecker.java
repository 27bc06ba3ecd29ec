package io.cachegate.check;

import io.cachegate.it.Await;
import io.cachegate.it.TestGateway;
import io.cachegate.it.TestRedis;
import io.cachegate.it.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The consistency checker: writers change rows of a watched table, readers fill the cache through the
 * REST API with fill leases, and WebSocket clients follow the rows' tags, while faults are injected:
 * the listener's connection is killed, Redis is stopped and restarted (with its data), and the leading
 * instance is stopped abruptly (its clients reconnect elsewhere with {@code since}). After the writes
 * stop and the gateways settle it checks every row:
 * <ol>
 *   <li>no entry in Redis is older than the row's last committed change;</li>
 *   <li>every client following one of the row's tags (before or after the change) heard a notice
 *       naming that tag after the change began to commit, or a {@code reset}.</li>
 * </ol>
 * Seeded and bounded in time. {@link #main} runs a longer check (see docs/reliability.md).
 */
public final class ConsistencyChecker {

  public record Result(long changes, long fills, long staleRefused, long audits, List<String> faults, List<String> violations) {
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
  private final List<String> faults = new CopyOnWriteArrayList<>();
  private final List<TestGateway> gateways = new CopyOnWriteArrayList<>();
  private final java.util.Set<TestGateway> stopped = ConcurrentHashMap.newKeySet();
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
      TestGateway gw = live().get(group % live().size());
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

  private List<TestGateway> live() {
    return gateways.stream().filter(g -> !stopped.contains(g)).toList();
  }

  public Result run() throws Exception {
    db = TestServices.newDatabase();
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE accounts (id bigint PRIMARY KEY, v bigint NOT NULL, grp int NOT NULL)");
      st.execute("INSERT INTO accounts SELECT i, 0, i % " + GROUPS + " FROM generate_series(1, " + ROWS + ") i");
    }
    Vertx vertx = Vertx.vertx();
    clientVertx = vertx;
    WebSocketClient wsc = vertx.createWebSocketClient();
    List<Client> clients = new ArrayList<>();
    try (TestRedis redis = new TestRedis(true)) {
      JsonObject cfg = new JsonObject()
          .put("redis", new JsonObject().put("url", redis.url()).put("commandTimeoutMs", 500).put("reconnectMaxDelayMs", 500))
          .put("capture", new JsonObject().put("leaderPollMs", 200).put("reconnectMinDelayMs", 50).put("reconnectMaxDelayMs", 500)
              .put("heartbeatMs", 500).put("heartbeatTimeoutMs", 1000)
              .put("tables", new JsonObject().put("accounts", new JsonObject()
                  .put("keys", new JsonArray().add("acct:{id}")).put("tags", new JsonArray().add("grp:{grp}")))));
      TestGateway first = TestGateway.start(cfg, Map.of(), db);
      gateways.add(first);
      gateways.add(first.peer(cfg));
      for (int g = 0; g < GROUPS; g++) {
        Client cl = new Client(g);
        clients.add(cl);
        cl.connect(wsc);
      }
      Await.until("clients to subscribe", 10_000, () -> clients.stream().allMatch(cl -> cl.lastId != null));

      List<Thread> threads = new ArrayList<>();
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
      killListener();
      pauseUntil(start + 2 * step);
      auditPausedUntil = Long.MAX_VALUE; // nothing can be invalidated while Redis is away
      redis.stop();
      faults.add("redis-stopped@" + elapsed(start));
      pauseUntil(start + 2 * step + TimeUnit.SECONDS.toNanos(2));
      redis.start();
      faults.add("redis-restarted@" + elapsed(start));
      auditPausedUntil = System.nanoTime() + GRACE_NANOS;
      pauseUntil(start + 3 * step);
      killLeader(start);
      pauseUntil(start + TimeUnit.SECONDS.toNanos(writeSeconds));
      writing.set(false);
      for (Thread t : threads) t.join(30_000);

      settle(clients);
      List<String> violations = new ArrayList<>(auditViolations);
      violations.addAll(verify(clients, redis));
      return new Result(changes.get(), fills.get(), staleRefused.get(), audits.get(), faults, violations);
    } finally {
      // the clients go first, while their gateways still answer the close handshake; a client that
      // reconnected to a gateway in the middle of its shutdown used to hold wsc.close() past its timeout
      tearingDown = true;
      Await.get(wsc.close());
      for (TestGateway g : gateways) {
        try {
          g.close();
        } catch (RuntimeException ignored) {
          // the killed one is closed already
        }
      }
      Await.get(vertx.close());
    }
  }

  private static String elapsed(long start) {
    return String.format("%.1fs", (System.nanoTime() - start) / 1e9);
  }

  /** Paces the fault schedule; the checker is a load generator, this is not a synchronisation. */
  private static void pauseUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) TimeUnit.NANOSECONDS.sleep(left);
  }

  private void killListener() throws Exception {
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             + "WHERE application_name LIKE 'cachegate-listener %' AND datname = current_database()")) {
      rs.next();
      faults.add("listener-killed(" + rs.getInt(1) + ")");
    }
  }

  private void killLeader(long start) {
    for (TestGateway g : live()) {
      if (g.gateway.metrics().leader.get() == 1) {
        stopped.add(g);
        g.gateway.vertx().close(); // abrupt: its sockets drop, its PostgreSQL sessions end, its lock is released
        faults.add("leader-stopped(" + g.gateway.config().instanceId() + ")@" + elapsed(start));
        return;
      }
    }
    faults.add("no-leader-to-stop@" + elapsed(start));
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
          List<TestGateway> gws = live();
          if (gws.isEmpty()) continue;
          TestGateway gw = gws.get(rnd.nextInt(gws.size()));
          int id = 1 + rnd.nextInt(ROWS);
          TestGateway.Reply r;
          try {
            r = gw.call("GET", "/v1/entries/acct:" + id + (leases ? "?lease=true" : ""), null);
          } catch (IllegalStateException e) {
            continue; // that instance was just stopped
          }
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
        List<TestGateway> gws = live();
        if (gws.isEmpty()) continue;
        TestGateway gw = gws.get(0);
        int id = 1 + rnd.nextInt(ROWS);
        Response cached;
        try {
          cached = gw.redis(Request.cmd(Command.GET).arg(gw.namespace + "acct:" + id));
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
          Response again = gw.redis(Request.cmd(Command.GET).arg(gw.namespace + "acct:" + id));
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
    TestGateway gw = live().get(0);
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

  private List<String> verify(List<Client> clients, TestRedis redis) throws Exception {
    List<String> violations = new ArrayList<>();
    TestGateway gw = live().get(0);
    try (Connection c = DriverManager.getConnection(TestServices.jdbcUrlOf(db), "postgres", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, v FROM accounts ORDER BY id")) {
      while (rs.next()) {
        int id = rs.getInt(1);
        long v = rs.getLong(2);
        Response cached = gw.redis(Request.cmd(Command.GET).arg(gw.namespace + "acct:" + id));
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
    System.exit(r.violations().isEmpty() ? 0 : 1);
  }
}
