package io.cachegate.cache;

import io.cachegate.model.NoticeIds;
import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.HistoryReset;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.bus.Messages.Notices;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Tails {@code cg:notices} with a blocking XREAD on a dedicated connection and publishes each entry,
 * in stream order, on {@link Addresses#NOTICE_APPENDED}. Every instance runs one, so every instance
 * streams every notice whichever instance wrote it.
 *
 * <p>Owns the read position. On a lost connection it reconnects with backoff and resumes after the
 * last entry it published. Redis losing its data is detected through {@code cg:epoch}, a random value
 * set once per Redis data set: when it changes, the history this instance streamed is gone, so it
 * publishes {@link Addresses#NOTICE_RESET} and reads the new stream from its beginning.
 */
public final class NoticeTailVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(NoticeTailVerticle.class);
  private static final int BLOCK_MS = 2000;
  /** A tail that has not reported its position for this long no longer holds back the history trim. */
  public static final long TAIL_TTL_MS = 30_000;
  private static final long BEAT_MS = 1000;

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final Backoff backoff;
  private final ClusterNodes nodes;
  private Redis client;
  private RedisConnection conn;
  private String streamKey;
  private String epochKey;
  private String trimmedKey;
  private String epoch;   // the cg:epoch value this position belongs to; null before the first sync
  private String lastId;  // stream id of the last published entry
  private final StreamEntries.Reader reader = new StreamEntries.Reader(); // on this verticle's event loop only
  private boolean stopped;
  private RedisScripts scripts;
  private long lastBeat;
  private long beatTimer = -1;

  public NoticeTailVerticle(GatewayConfig config, GatewayMetrics metrics, ClusterNodes nodes) {
    this.config = config;
    this.nodes = nodes;
    this.metrics = metrics;
    this.backoff = new Backoff(50, config.redis().reconnectMaxDelayMs());
  }

  @Override
  public Future<?> start() {
    streamKey = RedisKeys.NOTICES.in(config.redis().namespace());
    epochKey = RedisKeys.EPOCH.in(config.redis().namespace());
    trimmedKey = RedisKeys.TRIMMED.in(config.redis().namespace());
    client = RedisFactory.create(vertx, config.redis(), 2, "cachegate-redis-tail-" + config.instanceId(), nodes);
    scripts = new RedisScripts(config.redis().commandTimeoutMs());
    return sync().recover(err -> {
      log.warn("notice stream not reachable at start ({}); retrying in the background",
          ConnectionErrors.explain(RedisFactory.endpoint(config.redis()), err));
      retry();
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(beatTimer);
    return client.close();
  }

  /** Connects, checks the epoch, fixes the position, and starts reading. */
  private Future<Void> sync() {
    return client.connect()
        .timeout(config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS)
        .compose(c -> {
          conn = c;
          c.exceptionHandler(err -> log.debug("notice tail connection error: {}", err.getMessage()));
          String own = lastId == null ? "0-0" : lastId; // is this tail's last entry still there (a failover may lose it)
          return c.batch(java.util.List.of(
              Request.cmd(Command.SET).arg(epochKey).arg(UUID.randomUUID().toString()).arg("NX"),
              Request.cmd(Command.GET).arg(epochKey),
              Request.cmd(Command.XREVRANGE).arg(streamKey).arg("+").arg("-").arg("COUNT").arg(1),
              Request.cmd(Command.GET).arg(trimmedKey),
              Request.cmd(Command.XRANGE).arg(streamKey).arg(own).arg(own)))
              .timeout(config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS);
        })
        .map(rs -> {
          String current = rs.get(1).toString();
          Response newest = rs.get(2);
          if (epoch == null) {
            // first sync: older notices are history, served by `since`; on an emptied stream, start
            // after what the trim removed (not a gap for this instance, which streamed none of it)
            lastId = newest.size() == 0 ? "0-0" : newest.get(0).get(0).toString();
            Response trimmed = rs.get(3);
            if (trimmed != null && NoticeIds.compareStreamIds(trimmed.toString(), lastId) > 0) lastId = trimmed.toString();
          } else if (!epoch.equals(current)) {
            log.warn("Redis lost the notice history (epoch changed); clients are told to reset");
            lastId = "0-0";
            vertx.eventBus().publish(Addresses.NOTICE_RESET, new HistoryReset("notice history lost (Redis data reset)"));
          } else if (lostOnFailover(rs.get(4), rs.get(3))) {
            // a replica promoted without the last entries this instance streamed: Redis acknowledged
            // writes it then lost, invalidations among them; what clients hold may be stale
            String now = newest(rs.get(2), rs.get(3));
            log.warn("the notice stream no longer holds {}, the last notice this instance streamed (a failover lost it; "
                + "now at {}); clients are told to reset", lastId, now);
            lastId = now;
            vertx.eventBus().publish(Addresses.NOTICE_RESET, new HistoryReset("notice history lost (Redis failover)"));
          }
          epoch = current;
          backoff.reset();
          read();
          return null;
        });
  }

  /** This tail's last entry is gone from the stream, and not because the trim removed it. */
  private boolean lostOnFailover(Response own, Response trimmed) {
    if (lastId == null || "0-0".equals(lastId) || (own != null && own.size() > 0)) return false;
    return trimmed == null || NoticeIds.compareStreamIds(trimmed.toString(), lastId) < 0;
  }

  /** The stream's newest entry id, or the last trimmed one when that is later (or the stream is empty). */
  private static String newest(Response newest, Response trimmed) {
    String id = newest == null || newest.size() == 0 ? "0-0" : newest.get(0).get(0).toString();
    if (trimmed != null && NoticeIds.compareStreamIds(trimmed.toString(), id) > 0) id = trimmed.toString();
    return id;
  }

  /**
   * One blocking XREAD, and right after it on the same connection the id of the last entry the trim
   * ever removed ({@code cg:trimmed}). If that is past this tail's position, entries it had not
   * streamed were trimmed (history capped by {@code stream.historyHardMaxLen}, or this instance was
   * silent too long to hold the trim back): its clients are told to reset before anything newer.
   */
  private void read() {
    if (stopped) return;
    conn.batch(java.util.List.of(
            Request.cmd(Command.XREAD).arg("COUNT").arg(1000).arg("BLOCK").arg(BLOCK_MS).arg("STREAMS").arg(streamKey).arg(lastId),
            Request.cmd(Command.GET).arg(trimmedKey)))
        .timeout(BLOCK_MS + config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(res -> {
          try {
            handleRead(res);
          } catch (RuntimeException e) { // a malformed entry or cg:trimmed must not end the read loop
            log.error("notice tail could not handle a read; reconnecting", e);
            retry();
            return;
          }
          beat();
          read();
        })
        .onFailure(err -> {
          if (stopped) return;
          log.warn("notice tail lost Redis ({}); reconnecting", ConnectionErrors.explain(RedisFactory.endpoint(config.redis()), err));
          retry();
        });
  }

  /** One read's entries, after a reset if entries this tail had not streamed were trimmed meanwhile. */
  private void handleRead(java.util.List<Response> res) {
    String trimmed = res.get(1) == null ? null : res.get(1).toString();
    boolean gap = trimmed != null && NoticeIds.compareStreamIds(trimmed, lastId) > 0;
    if (gap) {
      log.warn("notices this instance had not streamed were trimmed (up to {}, read up to {}); clients are told to reset",
          trimmed, lastId);
      vertx.eventBus().publish(Addresses.NOTICE_RESET, new HistoryReset("notices were trimmed before this instance streamed them"));
    }
    if (res.get(0) != null) publish(res.get(0).get(0).get(1));
    if (gap && NoticeIds.compareStreamIds(trimmed, lastId) > 0) lastId = trimmed; // everything up to it is gone
  }

  /**
   * Reports this instance's position (cg:tails), so the history trim never removes a notice it has
   * not streamed yet. Throttled; on the pooled connection, since the tail's own one is blocked in XREAD.
   */
  private void beat() {
    if (stopped || lastId == null) return;
    long now = System.currentTimeMillis();
    if (now - lastBeat < BEAT_MS) {
      // a trailing beat, so the last position of a burst is reported within BEAT_MS, not after the
      // next XREAD returns (up to BLOCK_MS later): the trim waits for it
      if (beatTimer < 0) beatTimer = vertx.setTimer(BEAT_MS - (now - lastBeat), t -> {
        beatTimer = -1;
        beat();
      });
      return;
    }
    lastBeat = now;
    String ms = lastId.substring(0, lastId.indexOf('-'));
    String ns = config.redis().namespace();
    scripts.run(client, RedisScripts.Script.TAIL_BEAT, java.util.List.of(RedisKeys.TAILS.in(ns), RedisKeys.TAILBEAT.in(ns)),
            java.util.List.of(config.instanceId(), ms))
        .onFailure(err -> log.debug("tail position not recorded: {}", err.getMessage()));
  }

  private void publish(Response entries) {
    List<Notice> notices = new ArrayList<>(entries.size());
    try {
      for (Response e : entries) {
        lastId = e.get(0).toString(); // past an entry that cannot be read, too: it is skipped, not retried forever
        notices.add(reader.toNotice(e));
      }
    } finally { // what was read before a bad entry still goes out
      if (!notices.isEmpty()) {
        metrics.noticesStreamed(notices.size());
        vertx.eventBus().publish(Addresses.NOTICE_APPENDED, new Notices(notices));
      }
    }
  }

  private void retry() {
    if (conn != null) conn.close();
    conn = null;
    if (stopped) return;
    vertx.setTimer(backoff.next(), t -> sync().onFailure(err -> retry()));
  }
}
