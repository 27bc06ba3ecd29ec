package io.cachegate.capture;

import io.cachegate.config.GatewayConfig;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Which instance leads the capture: the one holding the session advisory lock
 * {@link OutboxSchema#LEADER_LOCK}.
 *
 * <p><b>Guarantees.</b> A leader steps down as soon as its lock connection closes or does not answer a
 * heartbeat (every {@code capture.heartbeatMs}) within {@code capture.heartbeatTimeoutMs}, so it stops
 * believing it leads soon after PostgreSQL may have released its lock. Two leaders for that short
 * while are possible and safe (see {@link ChangeSource}). A free lead is taken by a follower within
 * {@code capture.leaderPollMs}; when a leader's process dies PostgreSQL releases the lock at once, and
 * server-side keepalives on the lock session bound the case of a vanished host. Before competing, an
 * instance ends its own stale lock and listener sessions (same instance id, left half-open by a silent
 * network), never another instance's.
 *
 * <p>The gain callback runs each time this instance becomes the leader, the lose callback each time it
 * stops being the leader (losing its lock, or stopping), always in that alternation; the lock
 * connection is closed only after the lose callback's future completed.
 *
 * <p>Owned by one event loop; not thread-safe.
 */
final class Leadership {

  private static final Logger log = LoggerFactory.getLogger(Leadership.class);
  /** The {@code application_name} prefix of the leader's lock connection; the instance id follows. */
  static final String SESSION_NAME = "cachegate-leader ";

  private final Vertx vertx;
  private final GatewayConfig config;
  private final CaptureStats stats;
  private final PgConnectOptions connect;
  private final ConnectionErrors.Endpoint endpoint;
  private final Supplier<Future<Void>> onGain;
  private final Supplier<Future<Void>> onLose;
  private PgConnection lockConn;
  private long pollTimer = -1;
  private long heartbeatTimer = -1;
  private boolean leader;
  private boolean acquiring;
  private boolean stopped;
  private boolean steppingDown; // the lose callback and the lock connection's close are still running
  private boolean eligible = true; // false: this instance must not lead (see ModeGuard)

  /**
   * @param onGain called on becoming the leader; its future (which must not fail) ends the attempt
   *     that won the lead, so {@link #start()} completes only when it did
   * @param onLose called on losing the lead; the lock connection is closed once its future completed
   */
  Leadership(Vertx vertx, GatewayConfig config, CaptureStats stats, PgConnectOptions connect,
      ConnectionErrors.Endpoint endpoint, Supplier<Future<Void>> onGain, Supplier<Future<Void>> onLose) {
    this.vertx = vertx;
    this.config = config;
    this.stats = stats;
    this.connect = connect;
    this.endpoint = endpoint;
    this.onGain = onGain;
    this.onLose = onLose;
  }

  /**
   * Tries for the lead once, then every {@code capture.leaderPollMs}. Completes when this instance is a
   * follower, or a leader whose gain callback completed (a lone instance is ready when it says so).
   */
  Future<Void> start() {
    return tryLead().onSuccess(v -> pollTimer = vertx.setPeriodic(config.capture().leaderPollMs(), id -> tryLead()));
  }

  /** Stops competing and steps down if leading; completes once the lose callback and the lock connection are done. */
  Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(pollTimer);
    return leader ? stepDown("stopping") : Future.succeededFuture();
  }

  /** Whether this instance may lead; one that may not and leads steps down now, saying why. */
  void eligible(boolean may, String why) {
    eligible = may;
    if (!may && leader) stepDown(why);
  }

  /** Whether this instance believes it holds the lead now. */
  boolean isLeader() {
    return leader;
  }

  /** Tries for the lead once; completes when this instance is a follower or a leader whose gain callback completed. */
  private Future<Void> tryLead() {
    // not while a step-down runs: its lock connection still holds the (re-entrant) lock, and the
    // lose callback must finish before a gain callback starts
    if (leader || acquiring || stopped || steppingDown || !eligible) return Future.succeededFuture();
    acquiring = true;
    PgConnectOptions named = new PgConnectOptions(connect)
        .addProperty("application_name", SESSION_NAME + config.instanceId())
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
        .compose(c -> endStaleSessions(c, c.processId(), SESSION_NAME + config.instanceId(),
            NotifyListener.SESSION_NAME + config.instanceId()).map(c));
    return conn.compose(c -> c.preparedQuery("SELECT pg_try_advisory_lock($1)").execute(Tuple.of(OutboxSchema.LEADER_LOCK)))
        .timeout(config.capture().heartbeatTimeoutMs(), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          acquiring = false;
          if (ar.failed()) {
            log.debug("cannot try for the capture lead: {}", ConnectionErrors.explain(endpoint, ar.cause()));
            closeLockConn();
          } else if (ar.result().iterator().next().getBoolean(0)) {
            if (!stopped) return lead();
            closeLockConn(); // won while stopping: closing the session releases the lock at once
          }
          return Future.succeededFuture();
        });
  }

  private Future<Void> lead() {
    leader = true;
    stats.leader(true);
    log.info("instance {} leads the capture", config.instanceId());
    heartbeatTimer = vertx.setPeriodic(config.capture().heartbeatMs(), id -> heartbeat());
    return onGain.get();
  }

  private Future<Void> stepDown(String why) {
    if (!leader) return Future.succeededFuture();
    log.warn("instance {} gives up the capture lead: {}", config.instanceId(), why);
    leader = false;
    steppingDown = true;
    stats.leader(false);
    vertx.cancelTimer(heartbeatTimer);
    return onLose.get().transform(ar -> closeLockConn()).onComplete(ar -> steppingDown = false);
  }

  private Future<Void> closeLockConn() {
    PgConnection c = lockConn;
    lockConn = null;
    return c == null ? Future.succeededFuture() : c.close().otherwise(err -> null);
  }

  /** The lock connection must answer in time; a silent one means the lead is no longer certain. */
  private void heartbeat() {
    if (!leader) return;
    PgConnection lc = lockConn;
    if (lc != null) {
      lc.query("SELECT 1").execute().timeout(config.capture().heartbeatTimeoutMs(), TimeUnit.MILLISECONDS)
          .onFailure(err -> stepDown("lock connection heartbeat failed: " + err.getMessage()));
    }
  }

  /**
   * Ends this instance's sessions with these application names, all but {@code keepPid}: left
   * half-open by a silent network, they would hold the lock and the NOTIFY queue forever. They are
   * this instance's own, so another instance is never touched.
   */
  static Future<Void> endStaleSessions(SqlClient on, int keepPid, String... names) {
    return on.preparedQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            + "WHERE application_name = ANY($1) AND pid <> $2")
        .execute(Tuple.of(names, keepPid))
        .map(rs -> {
          long n = rs.iterator().next().getLong(0);
          if (n > 0) log.warn("ended {} stale session(s) of this instance ({})", n, String.join(", ", names));
          return null;
        });
  }
}
