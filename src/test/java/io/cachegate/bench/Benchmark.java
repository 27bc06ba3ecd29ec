package io.cachegate.bench;

import io.cachegate.testing.RedisCluster;
import io.cachegate.testing.RedisServerProcess;
import io.cachegate.testing.Await;
import io.cachegate.testing.GatewayProcess;
import io.cachegate.testing.TestServices;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The performance benchmark (docs/performance.md). Starts an embedded PostgreSQL and Redis, runs the
 * gateway as its own process in external mode (so its heap and CPU are its own), and measures each
 * figure next to a baseline measured in the same run (docs/performance.md has the list):
 * <ol>
 *   <li>latency: commit to client at 1,000 changes/s with 1,000 clients, vs raw NOTIFY to a bare listener;</li>
 *   <li>overhead: writer TPS on a watched table and pgbench TPC-B on watched tables, vs unwatched, vs a
 *       per-row pg_notify trigger, and with nobody draining;</li>
 *   <li>rest: DELETE under wrk vs a bare Vert.x HTTP server doing DEL + XADD, with CPU per request;</li>
 *   <li>throughput: REST single-key vs raw DEL, batch keys/s vs pipelined DEL (closed loops);</li>
 *   <li>fanout: notices/s and frames/s to N subscribed clients vs a bare Vert.x broadcast, with CPU per frame;</li>
 *   <li>memory: heap and RSS per idle subscribed client vs bare Vert.x WebSocket connections;</li>
 *   <li>drain: outbox rows invalidated per second from a backlog, cold and warm;</li>
 *   <li>wal: writer TPS in wal mode vs a bare pg_recvlogical, with CPU per change;</li>
 *   <li>cluster: the throughput phases on a 3-master Redis Cluster vs one Redis.</li>
 * </ol>
 * Prints a table and JSON (also written to target/benchmark.json). Bounded in time; stops every
 * process it started. Options: --seconds N (per timed phase), --latency-clients, --fanout-clients,
 * --memory-clients a,b, --backlog, --only name,name (latency, overhead, rest, throughput, fanout, memory, drain, wal, cluster).
 */
public final class Benchmark {

  private final Map<String, String> opts;
  private final JsonObject results = new JsonObject();
  private final List<String[]> table = new ArrayList<>();
  private final Vertx vertx = Vertx.vertx();
  private String db;
  private String jdbc;
  private String ns;
  private GatewayProcess gateway;
  /** pgbench's TPC-B tables, unwatched (a database of their own); the watched ones are in {@link #db}. */
  private String tpcbPlainDb;

  private Benchmark(Map<String, String> opts) {
    this.opts = opts;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    Benchmark b = new Benchmark(opts);
    try {
      b.run();
    } finally {
      b.close();
    }
    System.exit(0);
  }

  private int intOpt(String name, int dflt) {
    return Integer.parseInt(opts.getOrDefault(name, Integer.toString(dflt)));
  }

  private boolean wanted(String name) {
    String only = opts.get("only");
    return only == null || List.of(only.split(",")).contains(name);
  }

  private void run() throws Exception {
    System.out.println("cachegate benchmark: " + Runtime.getRuntime().availableProcessors() + " cores, "
        + System.getProperty("java.version") + ", " + java.time.Instant.now());
    setUp();
    if (wanted("latency")) latency();
    if (wanted("overhead")) overhead();
    if (wanted("rest")) rest();
    if (wanted("throughput")) throughput();
    if (wanted("fanout")) fanout();
    if (wanted("memory")) memory();
    if (wanted("drain")) drain();
    if (wanted("wal")) wal();
    if (wanted("cluster")) cluster();
    System.out.println();
    System.out.printf("%-44s %16s %16s %8s %s%n", "figure", "cachegate", "baseline", "ratio", "goal");
    for (String[] row : table) System.out.printf("%-44s %16s %16s %8s %s%n", (Object[]) row);
    System.out.println();
    System.out.println(results.encodePrettily());
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "benchmark.json"), results.encodePrettily());
  }

  /** Marks where a measured run begins (to line a profile up with it: docs/performance.md). */
  private static void measuring(String what, int seconds) {
    System.out.println("  measuring: " + what + (seconds > 0 ? " (" + seconds + " s)" : "") + " at " + java.time.LocalTime.now().withNano(0));
  }

  /** A figure without a baseline of its own. */
  private void info(String figure, String value, String goal) {
    table.add(new String[] {figure, value, "-", "-", goal});
  }

  private void row(String figure, double ours, double base, String unit, String goal, double ratio) {
    table.add(new String[] {figure, fmt(ours) + " " + unit, fmt(base) + " " + unit, String.format("%.2f", ratio), goal});
  }

  private static String fmt(double d) {
    return d >= 100 ? String.format("%,.0f", d) : String.format("%.2f", d);
  }

  // ---- set-up ----

  private void setUp() throws Exception {
    db = TestServices.newDatabase();
    jdbc = TestServices.jdbcUrlOf(db);
    ns = TestServices.uniqueNamespace();
    sql("CREATE TABLE lat (seq bigint PRIMARY KEY, grp int NOT NULL)",
        "CREATE TABLE raw_t (seq bigint PRIMARY KEY)",
        "CREATE TABLE w_plain (id bigint PRIMARY KEY, v bigint NOT NULL)",
        "CREATE TABLE w_watched (id bigint PRIMARY KEY, v bigint NOT NULL)",
        "CREATE TABLE w_notify (id bigint PRIMARY KEY, v bigint NOT NULL)",
        "INSERT INTO w_plain SELECT i, 0 FROM generate_series(1, 1000) i",
        "INSERT INTO w_watched SELECT i, 0 FROM generate_series(1, 1000) i",
        "INSERT INTO w_notify SELECT i, 0 FROM generate_series(1, 1000) i",
        "CREATE TABLE drain_t (id bigint PRIMARY KEY, v bigint NOT NULL)",
        "CREATE FUNCTION textbook_notify() RETURNS trigger LANGUAGE plpgsql AS "
            + "$$ BEGIN PERFORM pg_notify('bench_textbook', NEW.id::text); RETURN NEW; END $$",
        "CREATE TRIGGER textbook AFTER UPDATE ON w_notify FOR EACH ROW EXECUTE FUNCTION textbook_notify()");
    if (wanted("overhead")) {
      // pgbench's TPC-B tables: watched in the gateway's database (it installs their triggers at start),
      // unwatched in a database of their own on the same server
      tpcbPlainDb = TestServices.newDatabase();
      pgbench(db, "-i", "-q", "-s", Integer.toString(TPCB_SCALE));
      pgbench(tpcbPlainDb, "-i", "-q", "-s", Integer.toString(TPCB_SCALE));
    }
    gateway = startGateway();
  }

  /** pgbench's scale in the write phase: as many branches as writers, so they do not queue on one row. */
  private static final int TPCB_SCALE = 4;

  /** Runs Debian's pgbench against a database of this run's PostgreSQL; its output. */
  private static String pgbench(String postgresUrl, String... args) throws Exception {
    String dbName = postgresUrl.replaceFirst("^.*/", "").replaceFirst("\\?.*$", "");
    List<String> cmd = new ArrayList<>(List.of("/usr/lib/postgresql/15/bin/pgbench", "-h", "127.0.0.1",
        "-p", Integer.toString(TestServices.get().postgresPort()), "-U", "postgres"));
    cmd.addAll(List.of(args));
    cmd.add(dbName);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("pgbench " + args[0] + " said: " + out);
      return out;
    } finally {
      p.destroyForcibly(); // by its handle: pgbench is a child of this process
    }
  }

  /** TPC-B transactions per second: 4 clients, 2 threads, prepared statements, no vacuum (pgbench -i did it). */
  private static double tpcb(String postgresUrl, int seconds) throws Exception {
    String out = pgbench(postgresUrl, "-n", "-c", "4", "-j", "2", "-M", "prepared", "-T", Integer.toString(seconds));
    Matcher m = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)").matcher(out);
    if (!m.find()) throw new IllegalStateException("no tps in pgbench's output: " + out);
    return Double.parseDouble(m.group(1));
  }

  private GatewayProcess startGateway() throws Exception {
    Map<String, String> env = new HashMap<>();
    // every client here comes from one address, so the per-address limits meant for the internet are
    // lifted (the REST rate limit, and at most 1,000 streams per address)
    env.put("CACHEGATE_STREAM_MAX_SOCKETS_PER_ADDRESS", "1000000");
    env.put("CACHEGATE_HTTP_RATE_LIMIT_PER_SECOND", "10000000");
    env.put("CACHEGATE_HTTP_RATE_LIMIT_BURST", "10000000");
    // CACHEGATE_* variables of the benchmark's own environment reach the gateway (to try a setting)
    System.getenv().forEach((k, v) -> {
      if (k.startsWith("CACHEGATE_")) env.put(k, v);
    });
    env.put("CACHEGATE_REDIS_URL", TestServices.get().redisUrl());
    env.put("CACHEGATE_POSTGRES_URL", db);
    env.put("CACHEGATE_REDIS_NAMESPACE", ns);
    env.put("CACHEGATE_HTTP_PORT", "0");
    env.put("CACHEGATE_AUTH_ENABLED", "false");
    env.put("CACHEGATE_STREAM_MAX_NAMES_PER_SOCKET", "100000");
    JsonObject tables = new JsonObject()
        .put("lat", new JsonObject().put("keys", new JsonArray().add("lat:{grp}:{seq}")))
        .put("w_watched", new JsonObject().put("keys", new JsonArray().add("w:{id}")))
        .put("drain_t", new JsonObject().put("keys", new JsonArray().add("d:{id}")));
    if (tpcbPlainDb != null) {
      tables.put("pgbench_accounts", new JsonObject().put("keys", new JsonArray().add("acct:{aid}")))
          .put("pgbench_tellers", new JsonObject().put("keys", new JsonArray().add("teller:{tid}")))
          .put("pgbench_branches", new JsonObject().put("keys", new JsonArray().add("branch:{bid}")));
    }
    env.put("CACHEGATE_CAPTURE_TABLES", tables.encode());
    List<String> jvm = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseG1GC", "-Xlog:gc:file=target/gateway-gc.log"));
    // BENCH_GATEWAY_OPTS: more JVM options for the gateway, e.g. a flight recording
    String extra = System.getenv("BENCH_GATEWAY_OPTS");
    if (extra != null && !extra.isBlank()) jvm.addAll(List.of(extra.trim().split("\\s+")));
    GatewayProcess g = GatewayProcess.start(jvm, "io.cachegate.Main", List.of(), env);
    g.awaitListening();
    return g;
  }

  private void sql(String... statements) throws Exception {
    sqlIn(jdbc, statements);
  }

  private long outbox() throws Exception {
    try (Connection c = DriverManager.getConnection(jdbc, "postgres", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM cachegate.outbox")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Waits until the outbox is empty (the drain took every row). */
  private void awaitOutboxEmpty(String what, long timeoutMs) throws Exception {
    awaitTrue(jdbc, what, timeoutMs, "SELECT NOT EXISTS (SELECT 1 FROM cachegate.outbox)");
  }

  /**
   * Waits until {@code query} (one boolean) answers true, asking on one connection every 50 ms (a new
   * connection and a count every 10 ms had PostgreSQL forking about 50 backends a second, each
   * counting the whole table: a load on the machine that the drain figure then paid for).
   */
  private static void awaitTrue(String jdbcUrl, String what, long timeoutMs, String query) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
         PreparedStatement ask = c.prepareStatement(query)) {
      while (true) {
        try (ResultSet rs = ask.executeQuery()) {
          if (rs.next() && rs.getBoolean(1)) return;
        }
        if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
        Thread.sleep(50); // pacing between real checks; the loop ends on the condition
      }
    }
  }

  /** Bytes of WAL the replication slot {@code slot} has not confirmed yet, as a query. */
  private static String slotLag(String slot) {
    return "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '"
        + slot + "'";
  }

  /** Waits until the slot's reader confirmed all but the last megabyte of WAL. */
  private static void awaitSlotCaughtUp(String jdbcUrl, String what, String slot) throws Exception {
    awaitTrue(jdbcUrl, what, 60_000, "SELECT lag < 1000000 FROM (" + slotLag(slot) + ") AS s(lag)");
  }

  // ---- 1. latency ----

  private void latency() throws Exception {
    int clients = intOpt("latency-clients", 1000);
    int rate = intOpt("latency-rate", 1000);
    int seconds = intOpt("seconds", 10);
    int groups = 100;
    int total = rate * seconds;
    // each phase first runs unmeasured: the raw one warmSeconds (connection set-up), the gateway's until
    // its JIT is idle (SteadyState: compilation, first-time code paths in a freshly started gateway);
    // sequence numbers: raw warm-up, raw, gateway warm-up (at most MAX_SECONDS plus a round), gateway
    int warmSeconds = Math.min(3, seconds);
    int warm = rate * warmSeconds;
    long rawBase = warm;
    long oursWarmBase = warm + total;
    long oursBase = oursWarmBase + (long) rate * (SteadyState.MAX_SECONDS + SteadyState.ROUND_SECONDS);
    AtomicLongArray commitStart = new AtomicLongArray((int) (oursBase + total + 2));

    // baseline: raw NOTIFY in the writing transaction, to a bare LISTEN connection
    Histogram raw = new ConcurrentHistogram(3);
    PgConnection listener = Await.get(PgConnection.connect(vertx, PgConnectOptions.fromUri(db)));
    listener.notificationHandler(n -> {
      long seq = Long.parseLong(n.getPayload());
      if (seq > rawBase) raw.recordValue(Math.max(0, System.nanoTime() - commitStart.get((int) seq)) / 1000);
    });
    Await.get(listener.query("LISTEN bench_raw").execute());
    Change rawChange = (c, seq) -> {
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO raw_t VALUES (?)");
           PreparedStatement note = c.prepareStatement("SELECT pg_notify('bench_raw', ?)")) {
        ins.setLong(1, seq);
        ins.executeUpdate();
        note.setString(1, Long.toString(seq));
        note.executeQuery().close();
      }
    };
    writeAtRate(rate, warmSeconds, 0, rawChange, commitStart);
    long[] cpu = machineCpu();
    writeAtRate(rate, seconds, rawBase, rawChange, commitStart);
    Await.until("raw notifications", 30_000, () -> raw.getTotalCount() >= total);
    double rawBusy = busySince(cpu);
    Histogram rawCommits = commitTimes;
    Await.get(listener.close());

    // cachegate: an INSERT into a watched table, to the invalidate frame at each subscribed client
    Histogram ours = new ConcurrentHistogram(3);
    Histogram streamPart = new ConcurrentHistogram(3); // notice appended in Redis -> frame at the client
    WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(clients + 10));
    List<WebSocket> sockets = connect(wsc, gateway.port(), clients,
        i -> new JsonObject().put("type", "subscribe").put("prefixes", new JsonArray().add("lat:" + (i % groups) + ":")),
        t -> {
          long now = System.nanoTime();
          JsonObject f = new JsonObject(t);
          if (!"invalidate".equals(f.getString("type"))) return;
          String first = f.getJsonArray("keys").getString(0);
          if (Long.parseLong(first.substring(first.lastIndexOf(':') + 1)) > oursBase) streamPart.recordValue(Math.max(0, System.currentTimeMillis() - f.getLong("at")));
          for (Object k : f.getJsonArray("keys")) {
            String key = (String) k;
            long seq = Long.parseLong(key.substring(key.lastIndexOf(':') + 1));
            if (seq > oursBase) ours.recordValue(Math.max(0, now - commitStart.get((int) seq)) / 1000);
          }
        });
    long expected = (long) total * (clients / groups);
    Change oursChange = (c, seq) -> {
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO lat VALUES (?, ?)")) {
        ins.setLong(1, seq);
        ins.setInt(2, (int) (seq % groups));
        ins.executeUpdate();
      }
    };
    AtomicLong warmedTo = new AtomicLong(oursWarmBase);
    SteadyState.Warmed warmed = SteadyState.warm(List.of(gateway.process.pid()), s -> {
      writeAtRate(rate, s, warmedTo.get(), oursChange, commitStart);
      warmedTo.addAndGet((long) rate * s);
    });
    System.out.println("  latency warm-up: gateway " + warmed.describe());
    measuring("latency, gateway", seconds);
    cpu = machineCpu();
    long gatewayCpu0 = GatewayProcess.cpuMillis(gateway.process.pid());
    writeAtRate(rate, seconds, oursBase, oursChange, commitStart);
    Await.until("gateway frames", 60_000, () -> ours.getTotalCount() >= expected);
    double oursBusy = busySince(cpu);
    long gatewayCpu = GatewayProcess.cpuMillis(gateway.process.pid()) - gatewayCpu0;
    closeAll(sockets);

    JsonObject o = new JsonObject()
        .put("changesPerSec", rate).put("clients", clients).put("changes", total).put("warmUpSeconds", warmed.seconds())
        .put("cachegate", percentiles(ours)).put("rawNotify", percentiles(raw))
        .put("commitMsRawPhase", percentiles(rawCommits)).put("commitMsGatewayPhase", percentiles(commitTimes))
        .put("appendToClientMs", new JsonObject().put("p50", streamPart.getValueAtPercentile(50))
            .put("p99", streamPart.getValueAtPercentile(99)))
        .put("machineBusyPercent", new JsonObject().put("rawPhase", rawBusy).put("gatewayPhase", oursBusy))
        .put("gatewayCpuMsPer1000Changes", gatewayCpu * 1000.0 / total).put("gatewayCpuMsPer1000Frames", gatewayCpu * 1000.0 / expected);
    results.put("latency", o);
    row("latency p50 commit->client (ms)", ours.getValueAtPercentile(50) / 1000.0, raw.getValueAtPercentile(50) / 1000.0, "ms",
        "<= 5x raw p50", (double) ours.getValueAtPercentile(50) / Math.max(1, raw.getValueAtPercentile(50)));
    row("latency p99 (ms)", ours.getValueAtPercentile(99) / 1000.0, raw.getValueAtPercentile(99) / 1000.0, "ms",
        "< 20 ms", (double) ours.getValueAtPercentile(99) / Math.max(1, raw.getValueAtPercentile(99)));
    row("latency p99.9 (ms)", ours.getValueAtPercentile(99.9) / 1000.0, raw.getValueAtPercentile(99.9) / 1000.0, "ms",
        "", (double) ours.getValueAtPercentile(99.9) / Math.max(1, raw.getValueAtPercentile(99.9)));
    // the whole machine (writers, clients, PostgreSQL, Redis, gateway): a saturated machine explains tails
    row("machine CPU busy in the latency phase", oursBusy, rawBusy, "%", "", oursBusy / Math.max(0.01, rawBusy));
    // the raw baseline's listener lives in this JVM, beside the writers and clients: no figure of its own
    info("gateway CPU per 1,000 changes captured", fmt(gatewayCpu * 1000.0 / total) + " ms",
        "(info; " + fmt(gatewayCpu * 1000.0 / expected) + " ms per 1,000 frames)");
  }

  /** Busy and total jiffies of all CPUs, from /proc/stat (zeros where there is none). */
  private static long[] machineCpu() {
    try {
      String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      // user nice system idle iowait irq softirq steal (guest and guest_nice are already in user and nice)
      for (int i = 1; i < Math.min(f.length, 9); i++) total += Long.parseLong(f[i]);
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {total - idle, total};
    } catch (Exception e) {
      return new long[] {0, 0};
    }
  }

  /** Percent of all CPUs busy since {@code start}. */
  private static double busySince(long[] start) {
    long[] now = machineCpu();
    return 100.0 * (now[0] - start[0]) / Math.max(1, now[1] - start[1]);
  }

  private static JsonObject percentiles(Histogram h) {
    return new JsonObject().put("samples", h.getTotalCount())
        .put("p50ms", h.getValueAtPercentile(50) / 1000.0).put("p99ms", h.getValueAtPercentile(99) / 1000.0)
        .put("p999ms", h.getValueAtPercentile(99.9) / 1000.0).put("maxMs", h.getMaxValue() / 1000.0);
  }

  @FunctionalInterface
  private interface Change {
    void apply(Connection c, long seq) throws Exception;
  }

  /** 4 writers, each a quarter of the rate, each change its own transaction; seq from base + 1. */
  /** How long the writers' commits took, in the phase last run: a commit stall delays every notice after it. */
  private Histogram commitTimes = new ConcurrentHistogram(3);

  private void writeAtRate(int rate, int seconds, long base, Change change, AtomicLongArray commitStart) throws Exception {
    commitTimes = new ConcurrentHistogram(3);
    int writers = 4;
    long perWriterNanos = 1_000_000_000L * writers / rate;
    AtomicLong next = new AtomicLong(base);
    long end = base + (long) rate * seconds;
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      threads.add(new Thread(() -> {
        try (Connection c = DriverManager.getConnection(jdbc, "postgres", "")) {
          c.setAutoCommit(false);
          long due = System.nanoTime();
          long seq;
          while ((seq = next.incrementAndGet()) <= end) {
            due += perWriterNanos;
            LockSupport.parkNanos(due - System.nanoTime()); // pacing the offered load
            change.apply(c, seq);
            long cs = System.nanoTime();
            commitStart.set((int) seq, cs);
            c.commit();
            commitTimes.recordValue((System.nanoTime() - cs) / 1000);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) t.join();
  }

  // ---- 2. write overhead ----

  private void overhead() throws Exception {
    int seconds = Math.max(3, intOpt("seconds", 10) / 2);
    PgConnection textbookListener = Await.get(PgConnection.connect(vertx, PgConnectOptions.fromUri(db)));
    Await.get(textbookListener.query("LISTEN bench_textbook").execute());
    double plain1 = tps("w_plain", seconds);
    SteadyState.Warmed warmed = SteadyState.warm(List.of(gateway.process.pid()), s -> tps("w_watched", s));
    if (!warmed.steady()) System.out.println("  write overhead warm-up: gateway " + warmed.describe());
    measuring("write TPS, watched table", seconds);
    double watched = tps("w_watched", seconds);
    double textbook = tps("w_notify", seconds);
    double plain2 = tps("w_plain", seconds);
    Await.get(textbookListener.close());
    double plain = (plain1 + plain2) / 2;
    awaitOutboxEmpty("the outbox to drain", 60_000);
    results.put("writeOverhead", new JsonObject().put("writers", 4).put("plainTps", plain).put("watchedTps", watched)
        .put("textbookNotifyTps", textbook).put("watchedRatio", watched / plain).put("textbookRatio", textbook / plain)
        .put("synchronousCommit", "on"));
    row("write TPS watched/unwatched", watched, plain, "tps", ">= 0.85", watched / plain);
    row("write TPS per-row pg_notify/unwatched", textbook, plain, "tps", "(to beat)", textbook / plain);

    // pgbench's TPC-B (three UPDATEs, a SELECT and an INSERT per transaction) with its accounts, tellers
    // and branches watched, vs the same tables unwatched in another database; the history table is an
    // append-only log, which nobody caches, so it is not watched
    double tpcbPlain1 = tpcb(tpcbPlainDb, seconds);
    SteadyState.Warmed tpcbWarm = SteadyState.warm(List.of(gateway.process.pid()), s -> tpcb(db, s));
    if (!tpcbWarm.steady()) System.out.println("  TPC-B warm-up: gateway " + tpcbWarm.describe());
    measuring("TPC-B, watched tables", seconds);
    double tpcbWatched = tpcb(db, seconds);
    double tpcbPlain2 = tpcb(tpcbPlainDb, seconds);
    double tpcbPlain = (tpcbPlain1 + tpcbPlain2) / 2;
    results.getJsonObject("writeOverhead").put("tpcb", new JsonObject().put("scale", TPCB_SCALE).put("clients", 4)
        .put("plainTps", tpcbPlain).put("watchedTps", tpcbWatched).put("watchedRatio", tpcbWatched / tpcbPlain));
    row("pgbench TPC-B TPS watched/unwatched", tpcbWatched, tpcbPlain, "tps", ">= 0.75", tpcbWatched / tpcbPlain);

    // the same writes with nobody draining (the gateway stopped): what the triggers and the outbox rows
    // cost the writers alone, which is all they would pay with the gateway and Redis on other cores;
    // the difference to the watched figures is the drain's share of this machine's two cores
    gateway.close();
    sql("UPDATE cachegate.wake SET idle = false"); // as a busy drainer leaves it: no NOTIFY wake-ups, as in the watched runs
    double triggersOnly = tps("w_watched", seconds);
    double tpcbTriggersOnly = tpcb(db, seconds);
    gateway = startGateway();
    awaitOutboxEmpty("the outbox to drain after the runs without a gateway", 300_000);
    results.getJsonObject("writeOverhead").put("triggersOnlyTps", triggersOnly).put("triggersOnlyRatio", triggersOnly / plain);
    results.getJsonObject("writeOverhead").getJsonObject("tpcb").put("triggersOnlyTps", tpcbTriggersOnly)
        .put("triggersOnlyRatio", tpcbTriggersOnly / tpcbPlain);
    row("  the same, nobody draining (triggers alone)", triggersOnly, plain, "tps", "(info)", triggersOnly / plain);
    row("  TPC-B, nobody draining (triggers alone)", tpcbTriggersOnly, tpcbPlain, "tps", "(info)", tpcbTriggersOnly / tpcbPlain);
  }

  private double tps(String table, int seconds) throws Exception {
    return tps(jdbc, table, seconds);
  }

  private double tps(String jdbcUrl, String table, int seconds) throws Exception {
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      threads.add(new Thread(() -> {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
             PreparedStatement up = c.prepareStatement("UPDATE " + table + " SET v = v + 1 WHERE id = ?")) {
          while (System.nanoTime() < end) {
            up.setLong(1, 1 + ThreadLocalRandom.current().nextInt(1000));
            up.executeUpdate();
            done.incrementAndGet();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    long start = System.nanoTime();
    threads.forEach(Thread::start);
    for (Thread t : threads) t.join();
    return done.get() / ((System.nanoTime() - start) / 1e9);
  }

  // ---- 3. invalidation throughput ----

  private void throughput() throws Exception {
    int seconds = Math.max(3, intOpt("seconds", 10) / 2);
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(50));
    double rest = warmedLoop(gateway.process.pid(), 50, seconds, n -> http.request(HttpMethod.DELETE, gateway.port(), "127.0.0.1", "/v1/entries/t:" + n)
        .compose(req -> req.send()).compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() != 200) throw new IllegalStateException("status " + resp.statusCode());
          return null;
        })));
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(TestServices.get().redisUrl()).setMaxPoolSize(50)
        .setMaxPoolWaiting(1000));
    double raw = warmedLoop(0, 50, seconds, n -> redis.send(Request.cmd(Command.DEL).arg(ns + "t:" + n)).mapEmpty());

    int batch = 1000;
    double restBatches = warmedLoop("batch invalidations", gateway.process.pid(), 4, seconds, n -> {
      JsonArray keys = new JsonArray();
      for (int i = 0; i < batch; i++) keys.add("b:" + n + ":" + i);
      return http.request(HttpMethod.POST, gateway.port(), "127.0.0.1", "/v1/invalidations")
          .compose(req -> req.send(Buffer.buffer(new JsonObject().put("keys", keys).encode())))
          .compose(resp -> resp.body().map(b -> {
            if (resp.statusCode() != 200) throw new IllegalStateException("status " + resp.statusCode() + " " + b);
            return null;
          }));
    });
    double rawBatches = warmedLoop(0, 4, seconds, n -> {
      List<Request> dels = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) dels.add(Request.cmd(Command.DEL).arg(ns + "b:" + n + ":" + i));
      return redis.batch(dels).mapEmpty();
    });
    Await.get(redis.close());
    Await.get(http.close());
    results.put("throughput", new JsonObject()
        .put("restSingleKeyPerSec", rest).put("rawDelPerSec", raw).put("connections", 50)
        .put("restBatchKeysPerSec", restBatches * batch).put("pipelinedDelKeysPerSec", rawBatches * batch).put("batchSize", batch));
    row("REST single-key invalidations/s (50 conn)", rest, raw, "/s", "(info: vs raw DEL)", rest / raw);
    row("batch invalidation keys/s", restBatches * batch, rawBatches * batch, "keys/s", ">= 0.3", restBatches / rawBatches);
  }

  // ---- 3a. REST under wrk, against a bare Vert.x HTTP -> Redis (DEL + XADD) server ----

  /** What one wrk run measured, and the CPU time the server process spent meanwhile. */
  private record WrkRun(double perSec, long requests, long errors, double p50Ms, double p99Ms, long cpuMs, SteadyState.Warmed warmed) {
    double cpuMsPer1000() {
      return requests == 0 ? 0 : cpuMs * 1000.0 / requests;
    }
  }

  /**
   * {@code DELETE /v1/entries/KEY} with distinct keys from 50 connections (wrk, 2 threads), against the
   * gateway and against {@link BareRestServer} on the same Redis, each after a warm-up; the servers' CPU
   * time comes from /proc. wrk shares the cores with the server, equally in both runs.
   */
  private void rest() throws Exception {
    int seconds = Math.max(5, intOpt("seconds", 10));
    Path script = Path.of("target", "wrk-delete.lua");
    Files.createDirectories(script.getParent());
    Files.writeString(script, """
        local n = 0
        local prefix = "w" .. tostring(math.random(1, 1000000000)) .. ":"
        request = function()
          n = n + 1
          return wrk.format("DELETE", "/v1/entries/" .. prefix .. n)
        end
        """);
    int barePort = freePort();
    GatewayProcess bare = GatewayProcess.start(List.of("-Xmx1g", "-XX:+UseG1GC"), BareRestServer.class.getName(),
        List.of(Integer.toString(barePort), TestServices.get().redisUrl(), ns), Map.of());
    try {
      bare.awaitListening();
      WrkRun floor = wrk(bare, barePort, script, seconds);
      WrkRun ours = wrk(gateway, gateway.port(), script, seconds);
      results.put("rest", new JsonObject().put("connections", 50).put("seconds", seconds)
          .put("gatewayPerSec", ours.perSec()).put("barePerSec", floor.perSec())
          .put("gatewayP50Ms", ours.p50Ms()).put("gatewayP99Ms", ours.p99Ms()).put("bareP50Ms", floor.p50Ms()).put("bareP99Ms", floor.p99Ms())
          .put("gatewayCpuMsPer1000", ours.cpuMsPer1000()).put("bareCpuMsPer1000", floor.cpuMsPer1000())
          .put("gatewayErrors", ours.errors()).put("bareErrors", floor.errors())
          .put("gatewayWarmUpSeconds", ours.warmed().seconds()).put("bareWarmUpSeconds", floor.warmed().seconds()));
      System.out.println("  REST warm-up: gateway " + ours.warmed().describe() + "; bare " + floor.warmed().describe());
      row("REST DELETE/s, wrk 50 conn, vs bare DEL+XADD", ours.perSec(), floor.perSec(), "/s", ">= 0.6", ours.perSec() / floor.perSec());
      row("  p99 latency", ours.p99Ms(), floor.p99Ms(), "ms", "(info)", ours.p99Ms() / floor.p99Ms());
      row("  server CPU per 1,000 invalidations", ours.cpuMsPer1000(), floor.cpuMsPer1000(), "ms", "(lower is better)",
          ours.cpuMsPer1000() / floor.cpuMsPer1000());
    } finally {
      bare.close();
    }
  }

  private WrkRun wrk(GatewayProcess server, int port, Path script, int seconds) throws Exception {
    // warm-up until the server's JIT is idle (SteadyState), then the measured run
    SteadyState.Warmed warmed = SteadyState.warm(List.of(server.process.pid()), s -> runWrk(port, script, s));
    measuring("REST under wrk, pid " + server.process.pid(), seconds);
    long cpu0 = GatewayProcess.cpuMillis(server.process.pid());
    String out = runWrk(port, script, seconds);
    long cpu = GatewayProcess.cpuMillis(server.process.pid()) - cpu0;
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
    Matcher total = Pattern.compile("([0-9]+) requests in").matcher(out);
    Matcher bad = Pattern.compile("Non-2xx or 3xx responses:\\s+([0-9]+)").matcher(out);
    Matcher errs = Pattern.compile("Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)").matcher(out);
    if (!rps.find() || !total.find()) throw new IllegalStateException("wrk said: " + out);
    long errors = bad.find() ? Long.parseLong(bad.group(1)) : 0;
    if (errs.find()) for (int i = 1; i <= 4; i++) errors += Long.parseLong(errs.group(i));
    return new WrkRun(Double.parseDouble(rps.group(1)), Long.parseLong(total.group(1)), errors,
        percentile(out, "50%"), percentile(out, "99%"), cpu, warmed);
  }

  /** A latency percentile of wrk's --latency table, in ms. */
  private static double percentile(String out, String which) {
    Matcher m = Pattern.compile("\\s" + Pattern.quote(which) + "\\s+([0-9.]+)(us|ms|s)").matcher(out);
    if (!m.find()) return -1;
    double v = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
  }

  private static String runWrk(int port, Path script, int seconds) throws Exception {
    Process p = new ProcessBuilder("wrk", "-t2", "-c50", "-d" + seconds + "s", "--latency", "-s", script.toString(),
        "http://127.0.0.1:" + port).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) throw new IllegalStateException("wrk did not finish");
      return out;
    } finally {
      p.destroyForcibly(); // by its handle: wrk is a child of this process
    }
  }

  /** One measured burst of a phase; its length in seconds. */
  @FunctionalInterface
  private interface Burst {
    double run() throws Exception;
  }

  @FunctionalInterface
  private interface Op {
    Future<Void> run(long n);
  }

  /**
   * Like {@link #closedLoop}, after the same load unmeasured until the JIT of this JVM (the client)
   * and of {@code server} (a gateway's pid, or 0 for none) is idle: pools, first-time paths, compilation.
   */
  private double warmedLoop(long server, int concurrency, int seconds, Op op) throws Exception {
    return warmedLoop("closed loop", server, concurrency, seconds, op);
  }

  private double warmedLoop(String what, long server, int concurrency, int seconds, Op op) throws Exception {
    List<Long> pids = server == 0 ? List.of(ProcessHandle.current().pid()) : List.of(server, ProcessHandle.current().pid());
    SteadyState.Warmed w = SteadyState.warm(pids, s -> closedLoop(concurrency, s, op));
    if (!w.steady()) System.out.println("  closed-loop warm-up: " + w.describe());
    measuring(what, seconds);
    return closedLoop(concurrency, seconds, op);
  }

  /** {@code concurrency} loops, each issuing the next operation when the last completes; ops/s. */
  private double closedLoop(int concurrency, int seconds, Op op) {
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
    AtomicLong seq = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> p = Promise.promise();
      loops.add(p.future());
      vertx.runOnContext(v -> step(op, seq, done, failed, firstFailure, end, p));
    }
    Await.get(Future.all(loops).timeout(seconds + 60L, TimeUnit.SECONDS));
    if (failed.get() > 0) System.out.println("  (" + failed.get() + " operations failed; the first: " + firstFailure.get() + ")");
    return done.get() / ((System.nanoTime() - start) / 1e9);
  }

  private void step(Op op, AtomicLong seq, AtomicLong done, AtomicLong failed, java.util.concurrent.atomic.AtomicReference<String> firstFailure,
                    long end, Promise<Void> p) {
    if (System.nanoTime() >= end) {
      p.tryComplete();
      return;
    }
    op.run(seq.incrementAndGet()).onComplete(ar -> {
      if (ar.succeeded()) done.incrementAndGet();
      else if (failed.incrementAndGet() == 1) firstFailure.set(String.valueOf(ar.cause()));
      step(op, seq, done, failed, firstFailure, end, p);
    });
  }

  // ---- 4. fan-out ----

  private void fanout() throws Exception {
    int clients = intOpt("fanout-clients", 10_000);
    int notices = intOpt("fanout-notices", 50);
    AtomicLong frames = new AtomicLong();
    WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(clients + 10));
    List<WebSocket> sockets = connect(wsc, gateway.port(), clients,
        i -> new JsonObject().put("type", "subscribe").put("tags", new JsonArray().add("fan")),
        t -> {
          if (t.startsWith("{\"type\":\"invalidate\"")) frames.incrementAndGet();
        });
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(4));
    String body = new JsonObject().put("tags", new JsonArray().add("fan")).put("reason", "fan-out").encode();
    long expected = (long) notices * clients;
    // one burst: the notices, then every frame at every client; warmed up by whole bursts (SteadyState)
    Burst burst = () -> {
      long before = frames.get();
      long start = System.nanoTime();
      for (int i = 0; i < notices; i++) {
        Await.get(http.request(HttpMethod.POST, gateway.port(), "127.0.0.1", "/v1/invalidations")
            .compose(req -> req.send(Buffer.buffer(body))).compose(r -> r.body()));
      }
      Await.until("every fan-out frame", 300_000, () -> frames.get() >= before + expected);
      return (System.nanoTime() - start) / 1e9;
    };
    SteadyState.Warmed oursWarm = SteadyState.warm(List.of(gateway.process.pid(), ProcessHandle.current().pid()), x -> burst.run());
    measuring("fan-out, gateway", 0);
    long oursCpu0 = GatewayProcess.cpuMillis(gateway.process.pid());
    double oursSecs = burst.run();
    double oursCpuPer1000 = (GatewayProcess.cpuMillis(gateway.process.pid()) - oursCpu0) * 1000.0 / expected;
    closeAll(sockets);

    // baseline: a bare Vert.x broadcast of frames of the same size
    int size = 190;
    int barePort = freePort();
    GatewayProcess bare = GatewayProcess.start(List.of("-Xmx1g"), BareWsServer.class.getName(), List.of(Integer.toString(barePort)), Map.of());
    double bareSecs;
    double bareCpuPer1000;
    try {
      bare.await(Pattern.compile("^bare listening"));
      AtomicLong bareFrames = new AtomicLong();
      List<WebSocket> bareSockets = connect(wsc, barePort, clients, i -> null, t -> bareFrames.incrementAndGet());
      Burst bareBurst = () -> {
        long before = bareFrames.get();
        long bstart = System.nanoTime();
        Await.get(http.request(HttpMethod.POST, barePort, "127.0.0.1", "/broadcast?n=" + notices + "&size=" + size)
            .compose(req -> req.send()).compose(r -> r.body()));
        Await.until("every bare frame", 300_000, () -> bareFrames.get() >= before + expected);
        return (System.nanoTime() - bstart) / 1e9;
      };
      SteadyState.Warmed bareWarm = SteadyState.warm(List.of(bare.process.pid(), ProcessHandle.current().pid()), x -> bareBurst.run());
      System.out.println("  fan-out warm-up: gateway " + oursWarm.describe() + "; bare " + bareWarm.describe());
      long bareCpu0 = GatewayProcess.cpuMillis(bare.process.pid());
      bareSecs = bareBurst.run();
      bareCpuPer1000 = (GatewayProcess.cpuMillis(bare.process.pid()) - bareCpu0) * 1000.0 / expected;
      closeAll(bareSockets);
    } finally {
      bare.close();
    }
    Await.get(http.close());
    double oursRate = notices / oursSecs;
    double bareRate = notices / bareSecs;
    results.put("fanout", new JsonObject().put("clients", clients).put("notices", notices)
        .put("noticesPerSec", oursRate).put("framesPerSec", expected / oursSecs)
        .put("bareNoticesPerSec", bareRate).put("bareFramesPerSec", expected / bareSecs)
        .put("cpuMsPer1000Frames", oursCpuPer1000).put("bareCpuMsPer1000Frames", bareCpuPer1000));
    row("fan-out notices/s to " + clients + " clients", oursRate, bareRate, "/s", ">= 0.95", oursRate / bareRate);
    row("fan-out frames/s", expected / oursSecs, expected / bareSecs, "/s", "", oursRate / bareRate);
    row("  server CPU per 1,000 frames", oursCpuPer1000, bareCpuPer1000, "ms", "(lower is better)", oursCpuPer1000 / bareCpuPer1000);
  }

  // ---- 5. memory ----

  private void memory() throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String s : opts.getOrDefault("memory-clients", "10000,18000").split(",")) sizes.add(Integer.parseInt(s));
    int max = sizes.stream().mapToInt(Integer::intValue).max().orElse(0);
    WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(max + 10));
    JsonObject out = new JsonObject();
    int barePort = freePort();
    GatewayProcess bare = GatewayProcess.start(List.of("-Xmx2g", "-XX:+UseG1GC"), BareWsServer.class.getName(),
        List.of(Integer.toString(barePort)), Map.of());
    try {
      bare.await(Pattern.compile("^bare listening"));
      // resident memory hardly shrinks once grown, so each size's RSS is counted from the process's RSS
      // before its first client, with the n clients open (after a full GC, as the heap)
      heapAfterGc(gateway.process.pid());
      heapAfterGc(bare.process.pid());
      long gRss0 = rssBytes(gateway.process.pid());
      long bRss0 = rssBytes(bare.process.pid());
      Map<String, long[]> h0 = classHistogram(gateway.process.pid());
      Map<String, long[]> bareH0 = classHistogram(bare.process.pid());
      for (int n : sizes) {
        long g0 = heapAfterGc(gateway.process.pid());
        List<WebSocket> ours = connect(wsc, gateway.port(), n,
            i -> new JsonObject().put("type", "subscribe").put("keys", new JsonArray().add("mem:" + i)), t -> { });
        long g1 = heapAfterGc(gateway.process.pid());
        Map<String, double[]> oursGrown = n == sizes.get(0) ? grownPerClient(gateway.process.pid(), h0, n) : null;
        double rssOurs = (rssBytes(gateway.process.pid()) - gRss0) / (double) n;
        closeAll(ours);
        long b0 = heapAfterGc(bare.process.pid());
        List<WebSocket> bares = connect(wsc, barePort, n, i -> null, t -> { });
        long b1 = heapAfterGc(bare.process.pid());
        if (oursGrown != null) histogramDiff(oursGrown, grownPerClient(bare.process.pid(), bareH0, n), n);
        double rssBare = (rssBytes(bare.process.pid()) - bRss0) / (double) n;
        closeAll(bares);
        double perOurs = (g1 - g0) / (double) n;
        double perBare = (b1 - b0) / (double) n;
        out.put(Integer.toString(n), new JsonObject().put("bytesPerClient", perOurs).put("bareBytesPerClient", perBare)
            .put("rssBytesPerClient", rssOurs).put("bareRssBytesPerClient", rssBare));
        row("RSS per idle subscribed client @" + n, rssOurs, rssBare, "B", "(reported)", rssOurs / rssBare);
        row("heap per idle subscribed client @" + n, perOurs, perBare, "B", "<= 1.1x", perOurs / perBare);
      }
    } finally {
      bare.close();
    }
    results.put("memory", out.put("note", "50,000 clients cannot be opened here: the per-process open-file limit is "
        + "20,000 (hard), for the server as for the client"));
  }

  private static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

  /** Instances and bytes by class in another JVM (jcmd GC.class_histogram, which collects first). */
  private static Map<String, long[]> classHistogram(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
    Map<String, long[]> out = new HashMap<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        Matcher m = HISTO_LINE.matcher(line);
        if (m.find()) out.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    p.waitFor();
    return out;
  }

  /** Per class, bytes and instances per client that a JVM's heap grew by since {@code before}. */
  private static Map<String, double[]> grownPerClient(long pid, Map<String, long[]> before, int clients) throws Exception {
    Map<String, double[]> out = new HashMap<>();
    classHistogram(pid).forEach((cls, v) -> {
      long[] b = before.getOrDefault(cls, new long[2]);
      out.put(cls, new double[] {(v[1] - b[1]) / (double) clients, (v[0] - b[0]) / (double) clients});
    });
    return out;
  }

  /**
   * The memory figure's profile: per class, what the gateway's heap holds per idle client more than
   * the bare server's (target/memory-histogram.txt; the largest differences printed).
   */
  private static void histogramDiff(Map<String, double[]> ours, Map<String, double[]> bare, int clients) throws Exception {
    java.util.Set<String> classes = new java.util.TreeSet<>(ours.keySet());
    classes.addAll(bare.keySet());
    List<String> rows = new ArrayList<>(classes);
    java.util.function.ToDoubleFunction<String> diff = c -> ours.getOrDefault(c, new double[2])[0] - bare.getOrDefault(c, new double[2])[0];
    rows.sort((x, y) -> Double.compare(Math.abs(diff.applyAsDouble(y)), Math.abs(diff.applyAsDouble(x))));
    StringBuilder text = new StringBuilder(String.format("%10s %10s %10s %9s %9s  %s (heap growth per client with %d idle clients)%n",
        "B gateway", "B bare", "B diff", "n gateway", "n bare", "class", clients));
    for (String c : rows) {
      double[] o = ours.getOrDefault(c, new double[2]);
      double[] b = bare.getOrDefault(c, new double[2]);
      if (Math.abs(o[0]) < 0.5 && Math.abs(b[0]) < 0.5) continue;
      text.append(String.format("%10.1f %10.1f %10.1f %9.2f %9.2f  %s%n", o[0], b[0], o[0] - b[0], o[1], b[1], c));
    }
    Files.writeString(Path.of("target", "memory-histogram.txt"), text);
    System.out.println("  memory: the largest differences per client, gateway vs bare (all of them in target/memory-histogram.txt)");
    text.toString().lines().limit(16).forEach(l -> System.out.println("    " + l));
  }

  private static final Pattern USED = Pattern.compile("used (\\d+)K");
  private static final Pattern VM_RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");

  /** Resident memory of a process, from /proc/PID/status. */
  private static long rssBytes(long pid) throws Exception {
    Matcher m = VM_RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
    if (!m.find()) throw new IllegalStateException("no VmRSS for " + pid);
    return Long.parseLong(m.group(1)) * 1024;
  }

  /** Heap in use after a full GC of another JVM, read with jcmd. */
  private static long heapAfterGc(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    for (int i = 0; i < 2; i++) new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
    Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher m = USED.matcher(text);
    if (!m.find()) throw new IllegalStateException("no heap figure in: " + text);
    return Long.parseLong(m.group(1)) * 1024;
  }

  // ---- 6. drain ----

  private void drain() throws Exception {
    int backlog = intOpt("backlog", 100_000);
    gateway.close(); // nobody drains while the backlog is written
    sql("INSERT INTO drain_t SELECT i, 0 FROM generate_series(1, " + backlog + ") i ON CONFLICT DO NOTHING",
        "DELETE FROM cachegate.outbox");
    sql("UPDATE drain_t SET v = v + 1");
    long waiting = outbox();
    long t0 = System.nanoTime();
    gateway = startGateway();
    long listening = System.nanoTime();
    measuring("drain", 0);
    long cpu0 = GatewayProcess.cpuMillis(gateway.process.pid());
    long left = outbox();
    awaitOutboxEmpty("the backlog to drain", 300_000);
    double secs = (System.nanoTime() - listening) / 1e9;
    double cpuPer1000 = (GatewayProcess.cpuMillis(gateway.process.pid()) - cpu0) * 1000.0 / Math.max(1, left);
    double rate = left / secs;
    // the same backlog again for the gateway now warm: one UPDATE of every row, so its outbox rows
    // all become visible at its commit (a leader that was cut off from Redis, or a follower taking over)
    long warmCpu0 = GatewayProcess.cpuMillis(gateway.process.pid());
    sql("UPDATE drain_t SET v = v + 1");
    long committed = System.nanoTime();
    measuring("drain, warm gateway, from the commit", 0);
    awaitOutboxEmpty("the second backlog to drain", 300_000);
    double warmSecs = (System.nanoTime() - committed) / 1e9;
    double warmCpuPer1000 = (GatewayProcess.cpuMillis(gateway.process.pid()) - warmCpu0) * 1000.0 / waiting;
    results.put("drain", new JsonObject().put("backlog", waiting).put("leftWhenListening", left)
        .put("seconds", secs).put("rowsPerSec", rate).put("startSeconds", (listening - t0) / 1e9).put("gatewayCpuMsPer1000Rows", cpuPer1000)
        .put("warm", new JsonObject().put("seconds", warmSecs).put("rowsPerSec", waiting / warmSecs).put("gatewayCpuMsPer1000Rows", warmCpuPer1000)));
    info("drain rows/s (backlog " + waiting + ")", fmt(rate) + " /s", ">= 20,000/s");
    // a just-started gateway: its JIT's work is in this figure (the drain is what it does first)
    info("  gateway CPU per 1,000 rows drained", fmt(cpuPer1000) + " ms", "(info; cold JVM)");
    info("drain rows/s, the gateway warm", fmt(waiting / warmSecs) + " /s", "(info)");
    info("  gateway CPU per 1,000 rows drained", fmt(warmCpuPer1000) + " ms", "(info; warm JVM)");
  }

  // ---- 7. capture modes: what each costs the writers ----

  /**
   * Writer TPS (4 writers, single-row UPDATEs, synchronous commit) in the same run: unwatched; watched by
   * the outbox (the main gateway's triggers); watched through a logical slot read by a bare
   * {@code pg_recvlogical} (the floor for any WAL reader on this machine: the decoder shares the cores);
   * watched by a gateway in wal mode. WAL mode runs on a database of its own (a gateway group owns its
   * database's capture); the floor runs before that gateway starts, so only one decoder runs at a time.
   */
  private void wal() throws Exception {
    int seconds = Math.max(3, intOpt("seconds", 10) / 2);
    String db2 = TestServices.newDatabase();
    String jdbc2 = TestServices.jdbcUrlOf(db2);
    try (Connection c = DriverManager.getConnection(jdbc2, "postgres", ""); Statement st = c.createStatement()) {
      for (String t : List.of("w_plain2", "w_floor", "w_wal")) {
        st.execute("CREATE TABLE " + t + " (id bigint PRIMARY KEY, v bigint NOT NULL)");
        st.execute("INSERT INTO " + t + " SELECT i, 0 FROM generate_series(1, 1000) i");
      }
      st.execute("CREATE PUBLICATION bench_floor FOR TABLE w_floor");
      st.execute("SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')");
    }
    double plainA = tps(jdbc2, "w_plain2", seconds);
    SteadyState.Warmed outboxWarm = SteadyState.warm(List.of(gateway.process.pid()), s -> tps("w_watched", s));
    double outbox = tps("w_watched", seconds);
    String dbName = db2.replaceFirst("^.*/", "").replaceFirst("\\?.*$", "");
    Process recv = new ProcessBuilder("/usr/lib/postgresql/15/bin/pg_recvlogical", "-h", "127.0.0.1",
        "-p", Integer.toString(TestServices.get().postgresPort()), "-U", "postgres", "-d", dbName, "--slot", "bench_floor", "--start",
        "-o", "proto_version=1", "-o", "publication_names=bench_floor", "-f", "/dev/null")
        .redirectErrorStream(true).redirectOutput(Path.of("target", "pg_recvlogical.log").toFile()).start();
    double floor;
    double floorCpuPer1000;
    try {
      Await.until("pg_recvlogical streaming", 20_000, () -> scalarIn(jdbc2, "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg_recvlogical'") == 1);
      long recvCpu0 = GatewayProcess.cpuMillis(recv.pid());
      long floorChanges0 = scalarIn(jdbc2, "SELECT sum(v) FROM w_floor");
      floor = tps(jdbc2, "w_floor", seconds);
      awaitSlotCaughtUp(jdbc2, "pg_recvlogical to catch up", "bench_floor");
      long floorChanges = scalarIn(jdbc2, "SELECT sum(v) FROM w_floor") - floorChanges0;
      floorCpuPer1000 = floorChanges == 0 ? -1 : (GatewayProcess.cpuMillis(recv.pid()) - recvCpu0) * 1000.0 / floorChanges;
    } finally {
      recv.destroy();
      if (!recv.waitFor(10, TimeUnit.SECONDS)) recv.destroyForcibly();
    }
    sqlIn(jdbc2, "SELECT pg_drop_replication_slot('bench_floor')");
    Map<String, String> env = new HashMap<>();
    env.put("CACHEGATE_REDIS_URL", TestServices.get().redisUrl());
    env.put("CACHEGATE_POSTGRES_URL", db2);
    env.put("CACHEGATE_REDIS_NAMESPACE", ns + "wal:");
    env.put("CACHEGATE_HTTP_PORT", "0");
    env.put("CACHEGATE_AUTH_ENABLED", "false");
    env.put("CACHEGATE_CAPTURE_MODE", "wal");
    env.put("CACHEGATE_CAPTURE_WAL_SLOT", "bench_wal_" + dbName);
    env.put("CACHEGATE_CAPTURE_TABLES", new JsonObject().put("w_wal", new JsonObject().put("keys", new JsonArray().add("w:{id}"))).encode());
    double walTps;
    long walLag;
    double walCpuPer1000;
    List<String> walJvm = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseG1GC"));
    String walExtra = System.getenv("BENCH_WAL_GATEWAY_OPTS"); // e.g. a flight recording of the wal gateway
    if (walExtra != null && !walExtra.isBlank()) walJvm.addAll(List.of(walExtra.trim().split("\\s+")));
    try (GatewayProcess walGateway = GatewayProcess.start(walJvm, "io.cachegate.Main", List.of(), env)) {
      walGateway.awaitListening();
      // warm-up: the just-started JVM's compilations would be counted against it
      SteadyState.Warmed walWarm = SteadyState.warm(List.of(walGateway.process.pid()), s -> tps(jdbc2, "w_wal", s));
      System.out.println("  capture warm-up: outbox gateway " + outboxWarm.describe() + "; wal gateway " + walWarm.describe());
      measuring("write TPS, wal mode", seconds);
      long cpu0 = GatewayProcess.cpuMillis(walGateway.process.pid());
      long changes0 = scalarIn(jdbc2, "SELECT sum(v) FROM w_wal");
      walTps = tps(jdbc2, "w_wal", seconds);
      awaitSlotCaughtUp(jdbc2, "the wal gateway to catch up", "bench_wal_" + dbName);
      long cpu = GatewayProcess.cpuMillis(walGateway.process.pid()) - cpu0;
      long changes = scalarIn(jdbc2, "SELECT sum(v) FROM w_wal") - changes0;
      walCpuPer1000 = changes == 0 ? -1 : cpu * 1000.0 / changes;
      walLag = scalarIn(jdbc2, slotLag("bench_wal_" + dbName));
    }
    sqlIn(jdbc2, "SELECT pg_drop_replication_slot('bench_wal_" + dbName + "')");
    double plainB = tps(jdbc2, "w_plain2", seconds);
    double plain = (plainA + plainB) / 2;
    results.put("captureModes", new JsonObject().put("writers", 4).put("unwatchedTps", plain).put("outboxTps", outbox)
        .put("pgRecvlogicalTps", floor).put("walTps", walTps).put("walVsFloor", walTps / floor).put("walVsUnwatched", walTps / plain)
        .put("outboxVsUnwatched", outbox / plain).put("walLagBytesAfterCatchUp", walLag)
        .put("walGatewayCpuMsPer1000Changes", walCpuPer1000).put("pgRecvlogicalCpuMsPer1000Changes", floorCpuPer1000));
    row("wal gateway CPU per 1,000 changes", walCpuPer1000, floorCpuPer1000, "ms", "(info: vs pg_recvlogical)", walCpuPer1000 / floorCpuPer1000);
    row("write TPS wal / pg_recvlogical floor", walTps, floor, "tps", ">= 0.95", walTps / floor);
    row("write TPS wal / unwatched", walTps, plain, "tps", "(info)", walTps / plain);
    row("write TPS outbox / unwatched (same run)", outbox, plain, "tps", "(info)", outbox / plain);
    row("write TPS pg_recvlogical / unwatched", floor, plain, "tps", "(info)", floor / plain);
  }

  /**
   * The throughput phases (single-key, batch, tag) against a 3-master Redis Cluster and, in the same
   * run, against one Redis of the same build (Debian's redis-server): each through a gateway of its
   * own with the same settings, capture off. The one-Redis figure is the baseline.
   */
  private void cluster() throws Exception {
    int seconds = Math.max(3, intOpt("seconds", 10) / 2);
    JsonObject out = new JsonObject();
    double[] one;
    double[] three;
    try (RedisServerProcess single = RedisServerProcess.plain()) {
      one = throughputOn(single.url(), false, seconds);
    }
    try (RedisCluster c = new RedisCluster(3, 0)) {
      three = throughputOn(c.url(), true, seconds);
    }
    String[] names = {"singleKeyPerSec", "batchKeysPerSec", "tagInvalidationsPerSec"};
    for (int i = 0; i < 3; i++) out.put(names[i], new JsonObject().put("cluster", three[i]).put("oneRedis", one[i]));
    results.put("cluster", out.put("masters", 3).put("connections", 50).put("batchSize", 1000).put("keysPerTag", 20));
    row("cluster: single-key invalidations/s", three[0], one[0], "/s", "(info) vs one Redis", three[0] / one[0]);
    row("cluster: batch invalidation keys/s", three[1], one[1], "keys/s", "(info) vs one Redis", three[1] / one[1]);
    row("cluster: tag invalidations/s (20 keys)", three[2], one[2], "/s", "(info) vs one Redis", three[2] / one[2]);
  }

  /** single-key DELETEs/s, batch keys/s, tag invalidations/s through a gateway on {@code redisUrl}. */
  private double[] throughputOn(String redisUrl, boolean cluster, int seconds) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("CACHEGATE_REDIS_URL", redisUrl);
    env.put("CACHEGATE_REDIS_MODE", cluster ? "cluster" : "standalone");
    env.put("CACHEGATE_POSTGRES_URL", db);
    env.put("CACHEGATE_CAPTURE_ENABLED", "false");
    env.put("CACHEGATE_HTTP_PORT", "0");
    env.put("CACHEGATE_AUTH_ENABLED", "false");
    env.put("CACHEGATE_HTTP_RATE_LIMIT_PER_SECOND", "10000000");
    env.put("CACHEGATE_HTTP_RATE_LIMIT_BURST", "10000000");
    try (GatewayProcess g = GatewayProcess.start(List.of("-Xmx512m", "-XX:+UseG1GC"), "io.cachegate.Main", List.of(), env)) {
      g.awaitListening();
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(50));
      try {
        double single = warmedLoop(g.process.pid(), 50, seconds, n -> call(http, g.port(), HttpMethod.DELETE, "/v1/entries/t:" + n, null));
        double batches = warmedLoop(g.process.pid(), 4, seconds, n -> {
          JsonArray keys = new JsonArray();
          for (int i = 0; i < 1000; i++) keys.add("b:" + n + ":" + i);
          return call(http, g.port(), HttpMethod.POST, "/v1/invalidations", new JsonObject().put("keys", keys));
        });
        // 100 tags of 20 keys each (spread over the slots), invalidated round robin; refilled as they go
        List<Future<Void>> fills = new ArrayList<>();
        for (int t = 0; t < 100; t++) {
          for (int k = 0; k < 20; k++) {
            fills.add(call(http, g.port(), HttpMethod.PUT, "/v1/entries/tag" + t + ":" + k,
                new JsonObject().put("value", k).put("tags", new JsonArray().add("bt:" + t))));
          }
        }
        Await.get(Future.all(fills).timeout(60, TimeUnit.SECONDS));
        double tags = warmedLoop(g.process.pid(), 50, seconds, n -> call(http, g.port(), HttpMethod.POST, "/v1/invalidations",
                new JsonObject().put("tags", new JsonArray().add("bt:" + (n % 100))))
            .compose(v -> call(http, g.port(), HttpMethod.PUT, "/v1/entries/tag" + (n % 100) + ":" + (n % 20),
                new JsonObject().put("value", n).put("tags", new JsonArray().add("bt:" + (n % 100))))));
        return new double[] {single, batches * 1000, tags};
      } finally {
        Await.get(http.close());
      }
    }
  }

  private static Future<Void> call(HttpClient http, int port, HttpMethod method, String path, JsonObject body) {
    return http.request(method, port, "127.0.0.1", path)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body.encode())))
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() != 200) throw new IllegalStateException(method + " " + path + ": " + resp.statusCode() + " " + b);
          return null;
        }));
  }

  private static void sqlIn(String jdbcUrl, String... statements) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", ""); Statement st = c.createStatement()) {
      for (String s : statements) st.execute(s);
    }
  }

  private static long scalarIn(String jdbcUrl, String query) {
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      return Long.MAX_VALUE;
    }
  }

  // ---- clients ----

  /**
   * Opens n sockets (200 handshakes in flight); each sends its subscribe (if any) and the method waits
   * for every {@code subscribed} reply, so nothing sent afterwards can miss a client.
   */
  private List<WebSocket> connect(WebSocketClient wsc, int port, int n, java.util.function.IntFunction<JsonObject> subscribe,
                                  java.util.function.Consumer<String> onText) {
    List<WebSocket> out = new ArrayList<>(n);
    AtomicLong subscribed = new AtomicLong();
    long asked = 0;
    for (int from = 0; from < n; from += 200) {
      List<Future<WebSocket>> batch = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + 200); i++) {
        JsonObject sub = subscribe.apply(i);
        if (sub != null) asked++;
        batch.add(wsc.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/v1/stream"))
            .map(ws -> {
              ws.textMessageHandler(t -> {
                if (t.startsWith("{\"type\":\"subscribed\"")) subscribed.incrementAndGet();
                else onText.accept(t);
              });
              if (sub != null) ws.writeTextMessage(sub.encode());
              return ws;
            }));
      }
      Await.get(Future.all(batch));
      batch.forEach(f -> out.add(f.result()));
    }
    long want = asked;
    Await.until("every subscribe to be confirmed", 120_000, () -> subscribed.get() >= want);
    return out;
  }

  private void closeAll(List<WebSocket> sockets) {
    List<Future<Void>> closing = new ArrayList<>();
    for (WebSocket ws : sockets) closing.add(ws.close());
    Await.get(Future.join(closing).otherwiseEmpty());
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private void close() {
    if (gateway != null) gateway.close();
    Await.get(vertx.close());
  }
}
