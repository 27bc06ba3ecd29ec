package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.Health;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL boundary. Installs the outbox and triggers, LISTENs for the wake-up channel and the
 * foreign channels, and drains the outbox: a batch of rows is claimed and deleted in one transaction
 * ({@code DELETE ... RETURNING} under {@code FOR UPDATE SKIP LOCKED}), mapped by the rules, sent to the
 * CacheVerticle, and the transaction commits only after Redis acknowledged; on any failure it rolls
 * back and the rows wait for the next drain. NOTIFY only wakes the drain: it also runs on a poll timer
 * and after every (re)connect of the listener, so nothing depends on a notification arriving.
 *
 * <p>Runs on one event loop and owns the drain state (one drain at a time, plus a "run again" flag),
 * the pool and the subscriber. The listener's connection never runs a transaction.
 */
public final class CaptureVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(CaptureVerticle.class);
  /** The {@code application_name} of the LISTEN connection, so operators (and tests) can find it. */
  public static final String LISTENER_NAME = "cachegate-listener";

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final ChangeMapper mapper;
  private final Backoff listenBackoff;
  private Pool pool;
  private PgSubscriber subscriber;
  private MessageConsumer<Object> healthConsumer;
  private long pollTimer = -1;
  private boolean draining;
  private boolean drainAgain;
  private boolean listening;
  private boolean stopped;
  private Future<Void> currentDrain = Future.succeededFuture();

  public CaptureVerticle(GatewayConfig config, GatewayMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.mapper = new ChangeMapper(config.capture().tables());
    this.listenBackoff = new Backoff(config.capture().reconnectMinDelayMs(), config.capture().reconnectMaxDelayMs());
  }

  @Override
  public Future<?> start() {
    PgConnectOptions connect = PgConnectOptions.fromUri(config.postgres().url());
    connect.addProperty("application_name", "cachegate");
    PgConnectOptions listen = new PgConnectOptions(connect).addProperty("application_name", LISTENER_NAME);
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.postgres().poolSize()).setName("cachegate-capture"))
        .connectingTo(connect)
        .using(vertx)
        .build();
    healthConsumer = vertx.eventBus().consumer(Addresses.CAPTURE_HEALTH, msg -> health().onComplete(ar -> msg.reply(ar.result())));
    return healthConsumer.completion()
        .compose(v -> OutboxSchema.install(pool, config.capture().wakeupChannel(), config.capture().tables()))
        .onSuccess(v -> {
          subscriber = PgSubscriber.subscriber(vertx, listen)
              .reconnectPolicy(attempt -> {
                listening = false;
                metrics.captureReconnect();
                return listenBackoff.next(); // never gives up: a negative delay would drop every channel
              });
          subscriber.channel(config.capture().wakeupChannel())
              .subscribeHandler(v2 -> onListening())
              .handler(payload -> drain());
          for (String channel : config.postgres().channels()) {
            subscriber.channel(channel).handler(payload -> foreign(channel, payload));
          }
          connectListener();
          pollTimer = vertx.setPeriodic(config.capture().pollIntervalMs(), id -> drain());
        });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(pollTimer);
    Future<Void> closing = subscriber == null ? Future.succeededFuture() : subscriber.close();
    return closing.transform(ar -> currentDrain).transform(ar -> pool.close());
  }

  private void connectListener() {
    if (stopped) return;
    subscriber.connect().onFailure(err -> {
      // PgSubscriber retries only after a connection was lost; the first connect is ours to retry
      log.warn("cannot LISTEN yet ({}); retrying", err.getMessage());
      vertx.setTimer(listenBackoff.next(), t -> connectListener());
    });
  }

  private void onListening() {
    listening = true;
    listenBackoff.reset();
    log.info("listening on {} and {}", config.capture().wakeupChannel(), config.postgres().channels());
    drain(); // whatever committed while we were away is in the outbox
  }

  /** Runs a drain now, or once more after the running one. */
  private void drain() {
    if (stopped) return;
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

  private Future<Void> drainBatches() {
    return drainBatch().compose(n -> n >= config.capture().batchSize() && !stopped ? drainBatches() : Future.succeededFuture());
  }

  /** Claims, invalidates and deletes one batch; the number of rows claimed. */
  private Future<Integer> drainBatch() {
    return pool.withTransaction(conn -> conn.preparedQuery(OutboxSchema.CLAIM)
        .execute(Tuple.of(config.capture().batchSize()))
        .compose(rows -> invalidate(rows).map(rows.size())));
  }

  private Future<Void> invalidate(RowSet<Row> rows) {
    List<Invalidation> invalidations = new ArrayList<>();
    for (Row r : rows) {
      Invalidation inv = mapper.map(r.getString("tbl"), r.getString("op"), json(r, "old_row"), json(r, "new_row"));
      if (inv != null) invalidations.add(inv);
      else log.debug("outbox row {} of {} maps to nothing; skipped", r.getLong("id"), r.getString("tbl"));
    }
    if (invalidations.isEmpty()) return Future.succeededFuture();
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(config.redis().commandTimeoutMs() * 2);
    return vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(invalidations), opts)
        .onSuccess(reply -> metrics.captureRows(rows.size()))
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
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(config.redis().commandTimeoutMs() * 2);
    vertx.eventBus().request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(List.of(inv)), opts)
        .onFailure(err -> log.error("a payload on channel {} could not be applied (NOTIFY is not durable; "
            + "use the outbox for guaranteed capture): {}", channel, err.getMessage()));
  }

  private Future<Health> health() {
    return pool.query(OutboxSchema.STATUS).execute()
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .map(rows -> {
          Row r = rows.iterator().next();
          JsonObject d = new JsonObject().put("listening", listening)
              .put("outboxDepth", r.getLong("depth")).put("oldestPendingMs", r.getLong("oldest_ms"));
          return new Health("postgres", listening, d);
        })
        .otherwise(err -> new Health("postgres", false,
            new JsonObject().put("listening", listening).put("error", String.valueOf(err.getMessage()))));
  }
}
