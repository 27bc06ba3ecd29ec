package io.cachegate.capture;

import io.cachegate.bus.Messages.Health;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * What the capture reports about itself: the gauges refreshed every {@code capture.statusIntervalMs}
 * and the {@code postgres} entry of {@code /health} (also read by {@code /v1/stats}).
 *
 * <p><b>Guarantees.</b> Read only: nothing here changes the outbox, the triggers or the lead. The outbox
 * depth, oldest pending age and NOTIFY queue use are measured by the leader and are -1 on a follower;
 * the drain rate and the trigger check are measured by every instance. A capture trigger that went
 * missing or was disabled after start-up is reported (gauge, {@code /health}, one log line whenever the
 * set changes), never put back behind the user's back: start-up puts them back. A measurement that
 * fails keeps the previous values. {@link #health()} never fails: PostgreSQL not answering is reported
 * as unhealthy with the reason.
 *
 * <p>Owned by one event loop; not thread-safe.
 */
final class CaptureStatus {

  private static final Logger log = LoggerFactory.getLogger(CaptureStatus.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final CaptureStats stats;
  private final Pool pool;
  private final ConnectionErrors.Endpoint endpoint;
  private final BooleanSupplier leader;
  private final BooleanSupplier listening;
  private final BooleanSupplier streaming;
  private final java.util.function.Supplier<String> modeProblem;
  /** The slot's last measurement (wal mode): null before the first, or when the slot is missing. */
  private JsonObject slot;
  private long timer = -1;
  private long lastRows;
  private long lastRowsAt = System.currentTimeMillis();
  private double drainRate;
  /** "table trigger" of each capture trigger last found missing or disabled (measure()). */
  private List<String> inactiveTriggers = List.of();

  /** {@code leader} and {@code listening} tell whether this instance leads and whether its LISTEN is in place. */
  CaptureStatus(Vertx vertx, GatewayConfig config, GatewayMetrics metrics, CaptureStats stats, Pool pool,
      ConnectionErrors.Endpoint endpoint,
      BooleanSupplier leader, BooleanSupplier listening, BooleanSupplier streaming, java.util.function.Supplier<String> modeProblem) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    this.stats = stats;
    this.pool = pool;
    this.endpoint = endpoint;
    this.leader = leader;
    this.listening = listening;
    this.streaming = streaming;
    this.modeProblem = modeProblem;
  }

  /** Measures every {@code capture.statusIntervalMs} from now on. */
  void start() {
    timer = vertx.setPeriodic(config.capture().statusIntervalMs(), id -> measure());
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  /** Outbox depth, lag and NOTIFY queue use, measured by the leader; the drain rate by every instance. */
  void measure() {
    long rows = metrics.counts().captureRows();
    long now = System.currentTimeMillis();
    drainRate = (rows - lastRows) * 1000.0 / Math.max(1, now - lastRowsAt);
    lastRows = rows;
    lastRowsAt = now;
    checkTriggers();
    if (config.capture().wal()) measureSlot();
    if (!leader.getAsBoolean()) {
      stats.outbox(-1, -1, -1);
      return;
    }
    pool.query(OutboxSchema.STATUS).execute().timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rs -> {
          Row r = rs.iterator().next();
          stats.outbox(r.getLong("depth"), r.getLong("oldest_ms"), r.getDouble("queue_usage"));
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
      stats.inactiveTriggers(0);
      return;
    }
    String[] tables = config.capture().tables().keySet().toArray(new String[0]);
    // in wal mode the publication plays the triggers' part: a table dropped and re-created leaves it
    Future<io.vertx.sqlclient.RowSet<Row>> query = config.capture().wal()
        ? pool.preparedQuery(io.cachegate.capture.wal.WalSchema.UNPUBLISHED)
            .execute(io.vertx.sqlclient.Tuple.tuple().addArrayOfString(tables).addString(config.capture().walPublication()))
        : pool.preparedQuery(OutboxSchema.INACTIVE_TRIGGERS).execute(OutboxSchema.inactiveTriggersOf(config.capture().tables().keySet()));
    query
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rows -> {
          List<String> found = new ArrayList<>();
          for (Row r : rows) found.add(config.capture().wal() ? r.getString("rel") + " (not in publication " + config.capture().walPublication() + ")"
              : r.getString("rel") + " " + r.getString("name"));
          if (!found.equals(inactiveTriggers)) {
            if (found.isEmpty()) log.info("capture triggers are all in place again");
            else if (config.capture().wal()) log.warn("watched tables missing from publication {}: {}; their writes are not captured until "
                + "they are back (restart the gateway to add them; docs/capture.md)", config.capture().walPublication(), found);
            else log.warn("capture triggers missing or disabled: {}; writes to these tables are not captured until they are back "
                + "(restart the gateway to reinstall them; docs/reliability.md, 'Writes that bypass capture')", found);
          }
          inactiveTriggers = List.copyOf(found);
          stats.inactiveTriggers(found.size());
        })
        .onFailure(err -> log.debug("capture triggers not checked: {}", err.getMessage()));
  }

  /** The replication slot's retained WAL and lag, its wal_status and whether a connection streams it. */
  private void measureSlot() {
    pool.preparedQuery(io.cachegate.capture.wal.WalSchema.SLOT_STATUS).execute(io.vertx.sqlclient.Tuple.of(config.capture().walSlot()))
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rows -> {
          if (rows.size() == 0) {
            slot = null;
            stats.wal(-1, -1);
            return;
          }
          Row r = rows.iterator().next();
          long retained = r.getLong("retained") == null ? -1 : r.getLong("retained");
          long lag = r.getLong("lag") == null ? -1 : r.getLong("lag");
          stats.wal(retained, lag);
          slot = new JsonObject().put("name", config.capture().walSlot()).put("retainedBytes", retained).put("lagBytes", lag)
              .put("walStatus", r.getString("wal_status")).put("active", r.getBoolean("active"))
              .put("maxLagBytes", config.capture().walMaxLagBytes());
        })
        .onFailure(err -> log.debug("replication slot not measured: {}", err.getMessage()));
  }

  /** The {@code postgres} health entry: healthy when PostgreSQL answers and, on the leader, LISTEN is in place. */
  Future<Health> health() {
    return pool.query(OutboxSchema.STATUS + ", " + OutboxSchema.LEADER).execute()
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .map(rows -> {
          Row r = rows.iterator().next();
          String leaderName = r.getString("leader");
          boolean leads = leader.getAsBoolean();
          boolean listens = listening.getAsBoolean();
          JsonObject d = new JsonObject()
              .put("instance", config.instanceId())
              .put("leader", leads)
              .put("leaderInstance", leaderName == null ? null : leaderName.substring(Leadership.SESSION_NAME.length()))
              .put("listening", listens)
              .put("outboxDepth", r.getLong("depth"))
              .put("oldestPendingMs", r.getLong("oldest_ms"))
              .put("notifyQueueUsage", r.getDouble("queue_usage"))
              .put("drainRatePerSec", Math.round(drainRate * 10) / 10.0)
              .put("reconnects", metrics.counts().reconnects())
              .put("inactiveTriggers", new JsonArray(inactiveTriggers))
              .put("mode", config.capture().wal() ? "wal" : "outbox");
          boolean up = !leads || listens;
          if (config.capture().wal()) {
            boolean streams = streaming.getAsBoolean();
            d.put("streaming", streams).put("slot", slot);
            long lag = slot == null ? -1 : slot.getLong("lagBytes", -1L);
            boolean lagging = lag > config.capture().walMaxLagBytes();
            if (lagging) d.put("problem", "replication slot " + config.capture().walSlot() + " is " + lag + " bytes behind (capture.wal.maxLagBytes "
                + config.capture().walMaxLagBytes() + "): the database server keeps that much WAL until the gateway catches up");
            // the leader also needs its replication stream; every instance reports a slot falling behind
            up = up && (!leads || streams) && !lagging && !(slot != null && "lost".equals(slot.getString("walStatus")));
          }
          String mismatch = modeProblem.get();
          if (mismatch != null) {
            d.put("problem", mismatch);
            up = false;
          }
          // a follower is healthy when PostgreSQL answers; the leader also needs its LISTEN
          return new Health("postgres", up, d);
        })
        .otherwise(err -> new Health("postgres", false, new JsonObject().put("instance", config.instanceId())
            .put("leader", leader.getAsBoolean()).put("listening", listening.getAsBoolean())
            .put("error", ConnectionErrors.explain(endpoint, err))));
  }
}
