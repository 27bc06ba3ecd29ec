package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The changes the capture triggers wrote to {@code cachegate.outbox}, as a {@link ChangeSource}.
 *
 * <p><b>Guarantees.</b> Those of {@link ChangeSource}: a batch of outbox rows is claimed and deleted in
 * one transaction that commits only after the cache replied that Redis applied the batch's
 * invalidations and appended their notices; on any failure the transaction rolls back and the rows
 * wait for the next drain. Rows are claimed with {@code SKIP LOCKED}, so two drainers at once never
 * both acknowledge a row. Progress is never tracked by "last id seen" (ids are not commit order): each
 * drain takes whatever rows exist.
 *
 * <p><b>Latency.</b> A drain runs on every {@link #wake()} (a NOTIFY on the wake-up channel, a LISTEN
 * back in place), on the {@code capture.pollIntervalMs} timer, when Redis is back and on start. A change
 * is therefore late by at most {@code capture.pollIntervalMs} if every wake-up was lost, never skipped.
 *
 * <p>Owned by one event loop; not thread-safe.
 */
final class OutboxDrainer implements ChangeSource {

  private static final Logger log = LoggerFactory.getLogger(OutboxDrainer.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final Pool pool;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private long pollTimer = -1;
  private boolean running;
  private boolean redisUp = true;
  private boolean draining;
  private boolean drainAgain;
  private boolean wakeIdle;        // what this drainer last told the triggers (cachegate.wake)
  private Future<Void> currentDrain = Future.succeededFuture();

  OutboxDrainer(Vertx vertx, GatewayConfig config, GatewayMetrics metrics, Pool pool, ChangeMapper mapper, DeliveryOptions bus) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    this.pool = pool;
    this.mapper = mapper;
    this.bus = bus;
  }

  @Override
  public void start() {
    running = true;
    wakeIdle = false; // unknown: the first empty drain sets it
    pollTimer = vertx.setPeriodic(config.capture().pollIntervalMs(), id -> wake());
    wake();
  }

  @Override
  public Future<Void> stop() {
    running = false;
    vertx.cancelTimer(pollTimer);
    return currentDrain.otherwiseEmpty();
  }

  @Override
  public void redisAvailable(boolean up) {
    redisUp = up;
    if (up) wake();
  }

  /** Changes may be waiting: runs a drain now, or once more after the running one. */
  void wake() {
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
        wake();
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
    return running && redisUp;
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
}
