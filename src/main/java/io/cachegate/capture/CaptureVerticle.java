package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.Health;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.RedisState;
import io.cachegate.config.ConfigException;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL boundary. Every instance installs the schema (idempotently) and competes for the
 * capture lead; the leader alone LISTENs and drains the outbox.
 *
 * <p><b>Leadership.</b> A session-level advisory lock ({@link OutboxSchema#LEADER_LOCK}) held on a
 * dedicated connection named {@code cachegate-leader <instance>}. Followers try to take it every
 * {@code capture.leaderPollMs}. When the leader's process dies its connection closes and PostgreSQL
 * releases the lock at once; server-side TCP keepalives on that session bound the case of a vanished
 * host. The leader heartbeats the lock connection and steps down as soon as it fails. Two drains at
 * once (a leader that has not yet noticed losing the lock) are safe: {@code SKIP LOCKED} gives each row
 * to one transaction, and a row is deleted only by a transaction that committed after Redis applied it.
 *
 * <p><b>Drain.</b> A batch is claimed and deleted in one transaction ({@code DELETE ... RETURNING} under
 * {@code FOR UPDATE SKIP LOCKED}), mapped by the rules, sent to the CacheVerticle, and committed only
 * after its reply; on any failure it rolls back and the rows wait. NOTIFY only wakes the drain: it also
 * runs on a poll timer and after every (re)connect of the listener. While Redis is down (as the
 * CacheVerticle announces on {@link Addresses#REDIS_STATE}) nothing is claimed; when it is back the
 * drain runs at once. The LISTEN connection is heartbeated and replaced when a heartbeat is slower
 * than {@code capture.heartbeatTimeoutMs} (a half-open connection), and it never runs a transaction.
 *
 * <p>Runs on one event loop, which owns all of this state.
 */
public final class CaptureVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(CaptureVerticle.class);
  /** The {@code application_name} prefix of the LISTEN connection; the instance id follows. */
  public static final String LISTENER_NAME = "cachegate-listener ";
  /** The {@code application_name} prefix of the leader's lock connection; the instance id follows. */
  public static final String LEADER_NAME = "cachegate-leader ";

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final ChangeMapper mapper;
  private final Backoff listenBackoff;
  private final DeliveryOptions bus;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private PgConnectOptions connect;
  private ConnectionErrors.Endpoint endpoint;
  private Pool pool;
  private PgConnection lockConn;
  private PgSubscriber subscriber;
  private long pollTimer = -1;
  private long leaderTimer = -1;
  private long heartbeatTimer = -1;
  private long statusTimer = -1;
  private boolean leader;
  private boolean acquiring;
  private boolean draining;
  private boolean drainAgain;
  private boolean listening;
  private boolean redisUp = true;
  private boolean wakeIdle;        // what this leader last told the triggers (cachegate.wake)
  private boolean stopped;
  private Future<Void> currentDrain = Future.succeededFuture();
  private static final int MAX_FOREIGN_PENDING = 10_000;
  private Future<Void> foreignChain = Future.succeededFuture();
  private int foreignPending;
  private long lastRows;
  private long lastRowsAt = System.currentTimeMillis();
  private double drainRate;
  /** "table trigger" of each capture trigger last found missing or disabled (measure()). */
  private List<String> inactiveTriggers = List.of();

  public CaptureVerticle(GatewayConfig config, GatewayMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.mapper = new ChangeMapper(config.capture().tables());
    this.listenBackoff = new Backoff(config.capture().reconnectMinDelayMs(), config.capture().reconnectMaxDelayMs());
    this.bus = new DeliveryOptions().setSendTimeout(config.redis().commandTimeoutMs() * 2);
  }

  @Override
  public Future<?> start() {
    // host, credentials, sslmode and trust as postgres.url says (application_name "cachegate" unless it
    // names one); every copy below (lock, listener) keeps the TLS settings
    io.cachegate.config.PostgresUrl url = config.postgres().parsed();
    endpoint = url.endpoint();
    connect = url.connectOptions();
    // a transaction whose client vanished is rolled back by the server, so its claimed rows come back
    connect.addProperty("idle_in_transaction_session_timeout", "60000");
    // The drain's DELETE need not wait for a WAL flush: if PostgreSQL crashed before flushing it, the
    // rows would come back and be invalidated again (a harmless repeat); Redis was already applied.
    connect.addProperty("synchronous_commit", "off");
    pool = PgBuilder.pool()
        // connections are recycled, so one left half-open by a silent network does not stay forever
        .with(new PoolOptions().setMaxSize(config.postgres().poolSize()).setName("cachegate-capture")
            .setIdleTimeout(30).setIdleTimeoutUnit(TimeUnit.SECONDS).setMaxLifetime(5).setMaxLifetimeUnit(TimeUnit.MINUTES))
        .connectingTo(connect)
        .using(vertx)
        .build();
    consumers.add(vertx.eventBus().consumer(Addresses.CAPTURE_HEALTH, msg -> health().onComplete(ar -> msg.reply(ar.result()))));
    consumers.add(vertx.eventBus().<RedisState>consumer(Addresses.REDIS_STATE, m -> {
      redisUp = m.body().up();
      if (redisUp) drain();
    }));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .compose(v -> OutboxSchema.install(pool, config.capture().wakeupChannel(), config.capture().tables()))
        // a refused connection stops start-up with one sentence (which server, why, the fix), not a trace
        // (the installer's own findings, such as a missing table or column, are configuration errors: exit 2)
        .recover(err -> Future.failedFuture(err instanceof ConfigException ? err : ConnectionErrors.refused(endpoint, err)))
        // the first try is part of the start, so a lone instance is ready (leading and listening) when it says so
        .compose(v -> tryLead())
        .onSuccess(v -> {
          leaderTimer = vertx.setPeriodic(config.capture().leaderPollMs(), id -> tryLead());
          statusTimer = vertx.setPeriodic(config.capture().statusIntervalMs(), id -> measure());
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(leaderTimer);
    vertx.cancelTimer(statusTimer);
    Future<Void> standing = leader ? stepDown("stopping") : Future.succeededFuture();
    return standing.transform(ar -> currentDrain).transform(ar -> pool.close());
  }

  // ---- leadership ----

  /** Tries for the lead once; completes when this instance is a follower or a listening leader. */
  private Future<Void> tryLead() {
    if (leader || acquiring || stopped) return Future.succeededFuture();
    acquiring = true;
    PgConnectOptions named = new PgConnectOptions(connect)
        .addProperty("application_name", LEADER_NAME + config.instanceId())
        // the server notices a vanished leader host in about 10 s instead of the OS default of hours
        .addProperty("tcp_keepalives_idle", "5").addProperty("tcp_keepalives_interval", "1")
        .addProperty("tcp_keepalives_count", "5");
    Future<PgConnection> conn = lockConn != null ? Future.succeededFuture(lockConn) : PgConnection.connect(vertx, named)
        .onSuccess(c -> {
          lockConn = c;
          c.closeHandler(v -> {
            if (lockConn == c) lockConn = null;
            if (leader) stepDown("lock connection closed");
          });
        })
        .compose(c -> endStaleSessions(c, c.processId(), LEADER_NAME + config.instanceId(), LISTENER_NAME + config.instanceId())
            .map(c));
    return conn.compose(c -> c.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(OutboxSchema.LEADER_LOCK)))
        .timeout(config.capture().heartbeatTimeoutMs(), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          acquiring = false;
          if (ar.failed()) {
            log.debug("cannot try for the capture lead: {}", ConnectionErrors.explain(endpoint, ar.cause()));
            closeLockConn();
          } else if (ar.result().iterator().next().getBoolean(0) && !stopped) {
            return lead();
          }
          return Future.succeededFuture();
        });
  }

  /** Becomes the leader; completes once LISTEN is in place (or after a bounded wait if it is not yet). */
  private Future<Void> lead() {
    leader = true;
    wakeIdle = false; // unknown: the first empty drain sets it
    metrics.leader.set(1);
    log.info("instance {} leads the capture", config.instanceId());
    subscriber = PgSubscriber.subscriber(vertx, new PgConnectOptions(connect)
            .addProperty("application_name", LISTENER_NAME + config.instanceId()))
        .reconnectPolicy(attempt -> {
          listening = false;
          metrics.captureReconnect();
          return listenBackoff.next(); // never gives up: a negative delay would drop every channel
        });
    io.vertx.core.Promise<Void> listeningOnce = io.vertx.core.Promise.promise();
    subscriber.channel(config.capture().wakeupChannel())
        .subscribeHandler(v -> {
          onListening();
          listeningOnce.tryComplete();
        })
        .handler(payload -> drain());
    for (String channel : config.postgres().channels()) {
      subscriber.channel(channel).handler(payload -> foreign(channel, payload));
    }
    connectListener(subscriber);
    pollTimer = vertx.setPeriodic(config.capture().pollIntervalMs(), id -> drain());
    heartbeatTimer = vertx.setPeriodic(config.capture().heartbeatMs(), id -> heartbeat());
    drain();
    measure();
    return listeningOnce.future().timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS).otherwiseEmpty();
  }

  private Future<Void> stepDown(String why) {
    if (!leader) return Future.succeededFuture();
    log.warn("instance {} gives up the capture lead: {}", config.instanceId(), why);
    leader = false;
    listening = false;
    metrics.leader.set(0);
    vertx.cancelTimer(pollTimer);
    vertx.cancelTimer(heartbeatTimer);
    PgSubscriber s = subscriber;
    subscriber = null;
    Future<Void> closing = s == null ? Future.succeededFuture() : s.close();
    return closing.transform(ar -> closeLockConn());
  }

  private Future<Void> closeLockConn() {
    PgConnection c = lockConn;
    lockConn = null;
    return c == null ? Future.succeededFuture() : c.close().otherwise(err -> null);
  }

  /** Both leader connections must answer in time; a silent one is replaced, not waited on for hours. */
  private void heartbeat() {
    if (!leader) return;
    long timeout = config.capture().heartbeatTimeoutMs();
    PgConnection lc = lockConn;
    if (lc != null) {
      lc.query("SELECT 1").execute().timeout(timeout, TimeUnit.MILLISECONDS)
          .onFailure(err -> stepDown("lock connection heartbeat failed: " + err.getMessage()));
    }
    PgSubscriber s = subscriber;
    PgConnection listen = s == null ? null : s.actualConnection();
    if (listen != null) {
      listen.query("SELECT 1").execute().timeout(timeout, TimeUnit.MILLISECONDS).onFailure(err -> {
        log.warn("listener heartbeat failed ({}); replacing the connection", err.getMessage());
        listening = false;
        listen.close(); // the subscriber reconnects, and resynchronises from the outbox on LISTEN
      });
    }
  }

  private void connectListener(PgSubscriber s) {
    if (stopped || s != subscriber) return;
    s.connect().onFailure(err -> {
      // PgSubscriber retries only after a connection was lost; the first connect is ours to retry
      log.warn("cannot LISTEN yet ({}); retrying", ConnectionErrors.explain(endpoint, err));
      vertx.setTimer(listenBackoff.next(), t -> connectListener(s));
    });
  }

  private void onListening() {
    listening = true;
    listenBackoff.reset();
    log.info("listening on {} and {}", config.capture().wakeupChannel(), config.postgres().channels());
    drain(); // whatever committed while we were away is in the outbox
    endStaleListeners();
  }

  /**
   * A LISTEN session left behind by a silent network never reads its notifications, and PostgreSQL
   * keeps the whole NOTIFY queue for it: end every listener session of this instance but the current.
   */
  private void endStaleListeners() {
    PgSubscriber s = subscriber;
    PgConnection current = s == null ? null : s.actualConnection();
    if (current == null) return;
    endStaleSessions(pool, current.processId(), LISTENER_NAME + config.instanceId())
        .onFailure(err -> log.debug("stale listeners not checked: {}", err.getMessage()));
  }

  /**
   * Ends this instance's sessions with these application names, all but {@code keepPid}: left
   * half-open by a silent network, they would hold the lock and the NOTIFY queue forever. They are
   * this instance's own, so another instance is never touched.
   */
  private Future<Void> endStaleSessions(SqlClient on, int keepPid, String... names) {
    return on.preparedQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            + "WHERE application_name = ANY($1) AND pid <> $2")
        .execute(Tuple.of(names, keepPid))
        .map(rs -> {
          long n = rs.iterator().next().getLong(0);
          if (n > 0) log.warn("ended {} stale session(s) of this instance ({})", n, String.join(", ", names));
          return null;
        });
  }

  // ---- drain ----

  /** Runs a drain now, or once more after the running one. */
  private void drain() {
    if (!canDrain()) return;
    if (draining) {
      drainAgain = true;
      return;
    }
    draining = true;
    drainAgain = false;
    currentDrain = drainBatches();
    currentDrain.onComplete(ar -> {
      draining = false;
      if (ar.failed()) {
        log.warn("outbox drain stopped ({}); rows stay in the outbox for the next attempt", ar.cause().getMessage());
      } else if (drainAgain) {
        drain();
      }
    });
  }

  /**
   * Drains until a batch comes back empty. While it runs the triggers are told not to NOTIFY (a busy
   * drainer finds their rows anyway); when the outbox is empty they are told to NOTIFY again, and the
   * outbox is read once more, for a change that saw "busy" but committed after the empty batch. A
   * change that committed after even that read waits for the next wake-up or the poll timer: late by at
   * most {@code capture.pollIntervalMs}, never lost.
   */
  private Future<Void> drainBatches() {
    if (!canDrain()) return Future.succeededFuture(); // may have changed during a linger
    return drainBatch().compose(n -> {
      if (!canDrain()) return Future.succeededFuture();
      if (n > 0) return markBusy().compose(v -> linger(n)).compose(v -> drainBatches());
      if (wakeIdle) return Future.succeededFuture();
      return pool.query(OutboxSchema.setIdle(true)).execute()
          .compose(v -> {
            wakeIdle = true;
            return drainBatch();
          })
          .compose(m -> m > 0 ? markBusy().compose(v -> drainBatches()) : Future.succeededFuture());
    });
  }

  private boolean canDrain() {
    return leader && redisUp && !stopped;
  }

  /** After a partial batch, a short wait lets a trickle of changes gather into the next batch. */
  private Future<Void> linger(int claimed) {
    long ms = config.capture().lingerMs();
    return claimed >= config.capture().batchSize() || ms == 0 ? Future.succeededFuture() : vertx.timer(ms).mapEmpty();
  }

  private Future<Void> markBusy() {
    if (!wakeIdle) return Future.succeededFuture();
    return pool.query(OutboxSchema.setIdle(false)).execute().map(v -> {
      wakeIdle = false;
      return null;
    });
  }

  /** Claims, invalidates and deletes one batch; the number of rows claimed. */
  private Future<Integer> drainBatch() {
    return pool.withTransaction(conn -> conn.preparedQuery(OutboxSchema.CLAIM)
            .execute(Tuple.of(config.capture().batchSize()))
            .compose(rows -> invalidate(rows).map(rows.size())))
        .timeout(config.postgres().queryTimeoutMs() + config.redis().commandTimeoutMs() * 2, TimeUnit.MILLISECONDS);
  }

  private Future<Void> invalidate(RowSet<Row> rows) {
    List<Invalidation> invalidations = new ArrayList<>();
    for (Row r : rows) {
      Invalidation inv = mapper.map(r.getString("tbl"), r.getString("op"), json(r, "old_row"), json(r, "new_row"));
      if (inv != null) invalidations.add(inv);
      else log.debug("outbox row {} of {} maps to nothing; skipped", r.getLong("id"), r.getString("tbl"));
    }
    if (invalidations.isEmpty()) return Future.succeededFuture();
    return vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(invalidations), bus)
        .onSuccess(reply -> {
          metrics.captureRows(rows.size());
          long now = System.currentTimeMillis();
          for (Row r : rows) {
            java.time.OffsetDateTime at = r.getOffsetDateTime("created_at");
            if (at != null) metrics.captureLag(now - at.toInstant().toEpochMilli());
          }
        })
        .mapEmpty();
  }

  private static JsonObject json(Row r, String column) {
    Object v = r.getValue(column);
    return v instanceof JsonObject o ? o : null;
  }

  private void foreign(String channel, String payload) {
    Invalidation inv;
    try {
      inv = mapper.mapForeign(channel, payload);
    } catch (IllegalArgumentException e) {
      metrics.captureBadPayload();
      log.warn("skipped a payload on channel {}: {} ({} bytes)", channel, e.getMessage(), payload.length());
      return;
    }
    if (foreignPending >= MAX_FOREIGN_PENDING) {
      metrics.captureBadPayload();
      log.error("dropped a payload on channel {}: {} payloads already wait for Redis", channel, foreignPending);
      return;
    }
    // applied one after another, so notices keep the order of the NOTIFYs (the cache verticles run in parallel)
    foreignPending++;
    foreignChain = foreignChain.transform(prev -> vertx.eventBus().request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(List.of(inv)), bus)
        .onComplete(ar -> foreignPending--)
        .onFailure(err -> log.error("a payload on channel {} could not be applied (NOTIFY is not durable; "
            + "use the outbox for guaranteed capture): {}", channel, err.getMessage()))
        .<Void>mapEmpty());
  }

  // ---- status ----

  /** Outbox depth, lag and NOTIFY queue use, measured by the leader; the drain rate by every instance. */
  private void measure() {
    long rows = metrics.counts().captureRows();
    long now = System.currentTimeMillis();
    drainRate = (rows - lastRows) * 1000.0 / Math.max(1, now - lastRowsAt);
    lastRows = rows;
    lastRowsAt = now;
    checkTriggers();
    if (!leader) {
      metrics.outboxDepth.set(-1);
      metrics.outboxOldestMs.set(-1);
      metrics.notifyQueuePpm.set(-1);
      return;
    }
    pool.query(OutboxSchema.STATUS).execute().timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rs -> {
          Row r = rs.iterator().next();
          metrics.outboxDepth.set(r.getLong("depth"));
          metrics.outboxOldestMs.set(r.getLong("oldest_ms"));
          metrics.notifyQueuePpm.set(Math.round(r.getDouble("queue_usage") * 1e6));
        })
        .onFailure(err -> log.debug("capture status not measured: {}", err.getMessage()));
  }

  /**
   * Every instance looks for capture triggers that went missing or were disabled after start-up
   * (they are not put back behind the user's back: a user may have disabled one on purpose for a
   * load; start-up puts them back). Logged when the set changes, counted in a gauge, shown in /health.
   */
  private void checkTriggers() {
    if (config.capture().tables().isEmpty()) {
      metrics.inactiveTriggers.set(0);
      return;
    }
    pool.preparedQuery(OutboxSchema.INACTIVE_TRIGGERS).execute(OutboxSchema.inactiveTriggersOf(config.capture().tables().keySet()))
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rows -> {
          List<String> found = new ArrayList<>();
          for (Row r : rows) found.add(r.getString("rel") + " " + r.getString("name"));
          if (!found.equals(inactiveTriggers)) {
            if (found.isEmpty()) log.info("capture triggers are all in place again");
            else log.warn("capture triggers missing or disabled: {}; writes to these tables are not captured until they are back "
                + "(restart the gateway to reinstall them; docs/reliability.md, 'Writes that bypass capture')", found);
          }
          inactiveTriggers = List.copyOf(found);
          metrics.inactiveTriggers.set(found.size());
        })
        .onFailure(err -> log.debug("capture triggers not checked: {}", err.getMessage()));
  }

  private Future<Health> health() {
    return pool.query(OutboxSchema.STATUS + ", " + OutboxSchema.LEADER).execute()
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .map(rows -> {
          Row r = rows.iterator().next();
          String leaderName = r.getString("leader");
          JsonObject d = new JsonObject()
              .put("instance", config.instanceId())
              .put("leader", leader)
              .put("leaderInstance", leaderName == null ? null : leaderName.substring(LEADER_NAME.length()))
              .put("listening", listening)
              .put("outboxDepth", r.getLong("depth"))
              .put("oldestPendingMs", r.getLong("oldest_ms"))
              .put("notifyQueueUsage", r.getDouble("queue_usage"))
              .put("drainRatePerSec", Math.round(drainRate * 10) / 10.0)
              .put("reconnects", metrics.counts().reconnects())
              .put("inactiveTriggers", new JsonArray(inactiveTriggers));
          // a follower is healthy when PostgreSQL answers; the leader also needs its LISTEN
          return new Health("postgres", !leader || listening, d);
        })
        .otherwise(err -> new Health("postgres", false, new JsonObject().put("instance", config.instanceId())
            .put("leader", leader).put("listening", listening).put("error", ConnectionErrors.explain(endpoint, err))));
  }
}
