package io.cachegate.capture;

import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.pubsub.PgChannel;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The leader's LISTEN connection (named {@code cachegate-listener <instance>}), shared by the outbox
 * wake-up channel and the foreign channels; it never runs a transaction.
 *
 * <p><b>Guarantees.</b> NOTIFY is not durable, so nothing here is: a payload sent while the connection
 * is down is lost, and the listener only promises to come back. While started it reconnects without
 * end (with backoff), replaces a connection whose heartbeat is not answered within
 * {@code capture.heartbeatTimeoutMs} (a half-open connection), and after every LISTEN in place runs the
 * listening callback, so a reader can look for what it missed. Once listening again it ends this
 * instance's other listener sessions: one left half-open would hold the server's whole NOTIFY queue.
 *
 * <p>Owned by one event loop; not thread-safe.
 */
final class NotifyListener {

  private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);
  /** The {@code application_name} prefix of the LISTEN connection; the instance id follows. */
  static final String SESSION_NAME = "cachegate-listener ";

  private final Vertx vertx;
  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final PgConnectOptions connect;
  private final ConnectionErrors.Endpoint endpoint;
  private final Pool pool;
  private final Backoff backoff;
  private final List<Map.Entry<String, Handler<String>>> channels = new ArrayList<>();
  private Runnable onListening = () -> { };
  private PgSubscriber subscriber;
  private long heartbeatTimer = -1;
  private boolean listening;

  /** {@code pool} is used to end stale listener sessions, never for the LISTEN itself. */
  NotifyListener(Vertx vertx, GatewayConfig config, GatewayMetrics metrics, PgConnectOptions connect,
      ConnectionErrors.Endpoint endpoint, Pool pool) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    this.connect = connect;
    this.endpoint = endpoint;
    this.pool = pool;
    this.backoff = new Backoff(config.capture().reconnectMinDelayMs(), config.capture().reconnectMaxDelayMs());
  }

  /**
   * Adds a channel (before {@link #start()}); its payloads go to {@code payloads}. The first channel
   * added is the one whose LISTEN counts as "listening".
   */
  NotifyListener channel(String name, Handler<String> payloads) {
    channels.add(Map.entry(name, payloads));
    return this;
  }

  /** Runs after every LISTEN in place: the first one and each after a reconnect. */
  NotifyListener onListening(Runnable callback) {
    this.onListening = callback;
    return this;
  }

  /** Whether LISTEN is in place now (false while connecting or reconnecting, and when stopped). */
  boolean listening() {
    return listening;
  }

  /** Connects and listens; completes once LISTEN is in place, or after {@code postgres.queryTimeoutMs} if it is not yet. Never fails. */
  Future<Void> start() {
    PgSubscriber s = PgSubscriber.subscriber(vertx, new PgConnectOptions(connect)
            .addProperty("application_name", SESSION_NAME + config.instanceId()))
        .reconnectPolicy(attempt -> {
          listening = false;
          metrics.captureReconnect();
          return backoff.next(); // never gives up: a negative delay would drop every channel
        });
    subscriber = s;
    Promise<Void> listeningOnce = Promise.promise();
    for (int i = 0; i < channels.size(); i++) {
      PgChannel channel = s.channel(channels.get(i).getKey());
      if (i == 0) {
        channel.subscribeHandler(v -> {
          listened();
          listeningOnce.tryComplete();
        });
      }
      channel.handler(channels.get(i).getValue());
    }
    connect(s);
    heartbeatTimer = vertx.setPeriodic(config.capture().heartbeatMs(), id -> heartbeat());
    return listeningOnce.future().timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS).otherwiseEmpty();
  }

  /** Stops listening and closes the connection; completes when it is closed. */
  Future<Void> stop() {
    listening = false;
    vertx.cancelTimer(heartbeatTimer);
    PgSubscriber s = subscriber;
    subscriber = null;
    return s == null ? Future.succeededFuture() : s.close();
  }

  private void connect(PgSubscriber s) {
    if (s != subscriber) return;
    s.connect().onFailure(err -> {
      // PgSubscriber retries only after a connection was lost; the first connect is ours to retry
      log.warn("cannot LISTEN yet ({}); retrying", ConnectionErrors.explain(endpoint, err));
      vertx.setTimer(backoff.next(), t -> connect(s));
    });
  }

  private void listened() {
    listening = true;
    backoff.reset();
    log.info("listening on {} and {}", config.capture().wakeupChannel(), config.postgres().channels());
    onListening.run();
    endStaleListeners();
  }

  /** The connection must answer in time; a silent one is replaced, not waited on for hours. */
  private void heartbeat() {
    PgSubscriber s = subscriber;
    PgConnection listen = s == null ? null : s.actualConnection();
    if (listen != null) {
      listen.query("SELECT 1").execute().timeout(config.capture().heartbeatTimeoutMs(), TimeUnit.MILLISECONDS).onFailure(err -> {
        log.warn("listener heartbeat failed ({}); replacing the connection", err.getMessage());
        listening = false;
        listen.close(); // the subscriber reconnects, and the listening callback runs again on LISTEN
      });
    }
  }

  /**
   * A LISTEN session left behind by a silent network never reads its notifications, and PostgreSQL
   * keeps the whole NOTIFY queue for it: end every listener session of this instance but the current.
   */
  private void endStaleListeners() {
    PgSubscriber s = subscriber;
    PgConnection current = s == null ? null : s.actualConnection();
    if (current == null) return;
    Leadership.endStaleSessions(pool, current.processId(), SESSION_NAME + config.instanceId())
        .onFailure(err -> log.debug("stale listeners not checked: {}", err.getMessage()));
  }
}
