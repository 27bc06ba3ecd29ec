package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.RedisState;
import io.cachegate.config.ConfigException;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.PostgresUrl;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.capture.wal.WalSchema;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL boundary. Every instance installs the schema (idempotently) and competes for the
 * capture lead; the leader alone listens and hands committed changes to the cache.
 *
 * <p>This verticle only wires the parts, each of which states its own guarantees:
 * {@link Leadership} (who leads), {@link ChangeSource} as {@link OutboxDrainer} (committed changes,
 * at least once, acknowledged only after Redis applied them), {@link NotifyListener} (the leader's
 * LISTEN connection: outbox wake-ups and foreign channels), {@link ForeignChannels} (best-effort
 * payloads on {@code postgres.channels}) and {@link CaptureStatus} (gauges and {@code /health}).
 * Gaining the lead starts the listener and the drainer; losing it stops them. On stop, the lead is
 * given up and the drain in flight finishes (or rolls back) before the pool closes.
 *
 * <p>Runs on one event loop, which owns all of this state.
 */
public final class CaptureVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(CaptureVerticle.class);

  /** The {@code application_name} prefix of the LISTEN connection; the instance id follows. */
  public static final String LISTENER_NAME = NotifyListener.SESSION_NAME;
  /** The {@code application_name} prefix of the leader's lock connection; the instance id follows. */
  public static final String LEADER_NAME = Leadership.SESSION_NAME;

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final CaptureStats stats;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private Pool pool;
  private Leadership leadership;
  private NotifyListener listener;
  private OutboxDrainer drainer;
  private WalSource wal; // wal mode only
  private LeftoverSlot leftover; // outbox mode: a slot an earlier wal mode left
  private ModeGuard modeGuard;
  private long modeTimer = -1;
  private CaptureStatus status;

  public CaptureVerticle(GatewayConfig config, GatewayMetrics metrics, CaptureStats stats) {
    this.config = config;
    this.metrics = metrics;
    this.stats = stats;
    this.mapper = new ChangeMapper(config.capture().tables());
    this.bus = new DeliveryOptions().setSendTimeout(config.redis().commandTimeoutMs() * 2);
  }

  @Override
  public Future<?> start() {
    // host, credentials, sslmode and trust as postgres.url says (application_name "cachegate" unless it
    // names one); every copy below (lock, listener) keeps the TLS settings
    PostgresUrl url = config.postgres().parsed();
    ConnectionErrors.Endpoint endpoint = url.endpoint();
    PgConnectOptions connect = url.connectOptions();
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

    drainer = new OutboxDrainer(vertx, config, metrics, pool, mapper, bus);
    leftover = new LeftoverSlot(vertx, config, pool, mapper, bus);
    ForeignChannels foreign = new ForeignChannels(vertx, metrics, mapper, bus);
    listener = new NotifyListener(vertx, config, metrics, connect, endpoint, pool)
        // the first channel: its LISTEN is what "listening" means
        .channel(config.capture().wakeupChannel(), payload -> drainer.wake())
        // whatever committed while we were away is in the outbox
        .onListening(drainer::wake);
    for (String channel : config.postgres().channels()) {
      listener.channel(channel, payload -> foreign.accept(channel, payload));
    }
    leadership = new Leadership(vertx, config, stats, connect, endpoint, this::gainLead, this::loseLead);
    modeGuard = new ModeGuard(config, pool, leadership);
    status = new CaptureStatus(vertx, config, metrics, stats, pool, endpoint, leadership::isLeader, listener::listening,
        () -> wal != null && wal.isStreaming(), modeGuard::problem);

    consumers.add(vertx.eventBus().consumer(Addresses.CAPTURE_HEALTH, msg -> status.health().onComplete(ar -> msg.reply(ar.result()))));
    consumers.add(vertx.eventBus().<RedisState>consumer(Addresses.REDIS_STATE, m -> {
      drainer.redisAvailable(m.body().up());
      if (wal != null) wal.redisAvailable(m.body().up());
    }));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .compose(v -> install())
        // a refused connection stops start-up with one sentence (which server, why, the fix), not a trace
        // (the installer's own findings, such as a missing table or column, are configuration errors: exit 2)
        .recover(err -> Future.failedFuture(err instanceof ConfigException ? err : ConnectionErrors.refused(endpoint, err)))
        // the first try is part of the start, so a lone instance is ready (leading and listening) when it says so
        .compose(v -> leadership.start())
        .onSuccess(v -> {
          status.start();
          modeTimer = vertx.setPeriodic(config.capture().statusIntervalMs(), id -> modeGuard.check());
        });
  }

  @Override
  public Future<?> stop() {
    status.stop();
    vertx.cancelTimer(modeTimer);
    return leadership.stop().transform(ar -> drainer.stop()).transform(ar -> wal == null ? Future.succeededFuture() : wal.stop())
        .transform(ar -> pool.close());
  }

  /** Leading: listen, drain, and measure at once; completes once LISTEN is in place (or after a bounded wait). */
  private Future<Void> gainLead() {
    Future<Void> listening = listener.start();
    drainer.start(); // in wal mode too: rows an outbox-mode instance wrote (before a switch, during a rolling one)
    if (wal == null) {
      status.measure();
      // changes a slot from an earlier wal mode holds (the triggers are in place by now)
      leftover.start();
      return listening;
    }
    wal.start();
    // ready once the stream is open too, or after a bounded wait (it keeps trying; /health tells)
    Future<Void> streams = wal.streaming().timeout(config.postgres().queryTimeoutMs() * 2, TimeUnit.MILLISECONDS).otherwiseEmpty();
    return Future.all(listening, streams).onComplete(ar -> status.measure()).mapEmpty();
  }

  /** No longer leading: stop claiming (the batch in flight ends on its own) and close the LISTEN connection. */
  private Future<Void> loseLead() {
    drainer.stop();
    leftover.stop();
    Future<Void> walStopped = wal == null ? Future.succeededFuture() : wal.stop();
    return Future.all(walStopped, listener.stop()).mapEmpty();
  }

  /**
   * Outbox mode: the outbox and its triggers. Wal mode: the publication, the slot and replica
   * identities first, then the outbox schema without triggers (removing those of an outbox-mode
   * past), so no change falls between the two.
   */
  private Future<Void> install() {
    if (!config.capture().wal()) {
      return OutboxSchema.install(pool, config.capture().wakeupChannel(), config.capture().tables())
          .compose(v -> ModeGuard.record(pool, config));
    }
    return WalSchema.install(pool, config.capture())
        .compose(watched -> OutboxSchema.install(pool, config.capture().wakeupChannel(), Map.of())
            .compose(v -> WalSchema.installResyncTable(pool))
            .compose(v -> ModeGuard.record(pool, config))
            .map(v -> {
              wal = new WalSource(vertx, config, metrics, pool, mapper, bus, watched);
              return null;
            }));
  }
}
