package io.cachegate.cache;

import io.cachegate.bus.Addresses;
import io.cachegate.capture.CaptureStats;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.metrics.StatsSeries;
import io.cachegate.stream.StreamStats;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * This instance's self-report, every {@code instance.reportIntervalMs}: a sample of its figures into the
 * {@link StatsSeries} (the dashboard's charts), and a line in {@code cg:{cg}:instances} (leader or
 * not, clients, connections, subscriptions) so that any instance can list them all
 * ({@link Addresses#INSTANCES}, {@code GET /v1/instances}) with each one's streamed position from
 * {@code cg:{cg}:tails}. An instance that stopped reporting drops out of the list after three
 * intervals; its line is deleted by a reader a minute later.
 */
public final class InstancesVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(InstancesVerticle.class);
  static final long FORGET_MS = 60_000;
  private static final long HASH_TTL_MS = 120_000;

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final CaptureStats capture;
  private final StreamStats stream;
  private final StatsSeries series;
  private final ClusterNodes nodes;
  private Redis redis;
  private String key;
  private String tails;
  private long timer;

  public InstancesVerticle(GatewayConfig config, GatewayMetrics metrics, CaptureStats capture, StreamStats stream,
                           StatsSeries series, ClusterNodes nodes) {
    this.config = config;
    this.metrics = metrics;
    this.capture = capture;
    this.stream = stream;
    this.series = series;
    this.nodes = nodes;
  }

  @Override
  public Future<?> start() {
    redis = RedisFactory.create(vertx, config.redis(), 1, "cachegate-redis-instances-" + config.instanceId(), nodes);
    key = RedisKeys.INSTANCES.in(config.redis().namespace());
    tails = RedisKeys.TAILS.in(config.redis().namespace());
    vertx.eventBus().<Object>localConsumer(Addresses.INSTANCES, this::list);
    beat();
    timer = vertx.setPeriodic(config.reportIntervalMs(), id -> beat());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    // gone at once from the others' lists rather than after LIVE_MS
    return send(Request.cmd(Command.HDEL).arg(key).arg(config.instanceId())).otherwiseEmpty()
        .transform(ar -> redis.close());
  }

  private void beat() {
    long now = System.currentTimeMillis();
    CaptureStats.Snapshot c = capture.snapshot();
    boolean wal = config.capture().wal();
    long backlog = !c.leader() ? -1 : wal ? c.walLagBytes() : c.outboxDepth();
    series.sample(now, metrics.counts().notices(), backlog, wal ? "walLagBytes" : "outboxDepth");
    StreamStats.Snapshot s = stream.snapshot();
    JsonObject self = new JsonObject().put("id", config.instanceId()).put("leader", c.leader())
        .put("clients", s.clients()).put("connections", s.connections()).put("subscriptions", s.subscriptions())
        .put("captureMode", config.capture().enabled() ? (wal ? "wal" : "outbox") : "disabled").put("at", now);
    send(Request.cmd(Command.HSET).arg(key).arg(config.instanceId()).arg(self.encode()))
        .compose(r -> send(Request.cmd(Command.PEXPIRE).arg(key).arg(HASH_TTL_MS)))
        .onFailure(err -> log.debug("instance report not recorded: {}", err.getMessage()));
  }

  /** The live instances, each with its streamed position (ms of the last notice it streamed, or null). */
  private void list(Message<Object> msg) {
    long now = System.currentTimeMillis();
    send(Request.cmd(Command.HVALS).arg(key)).compose(values -> {
      List<JsonObject> live = new ArrayList<>();
      List<String> stale = new ArrayList<>();
      for (Response v : values) {
        JsonObject o;
        try {
          o = new JsonObject(v.toString());
        } catch (RuntimeException e) {
          continue; // not a report of this version: ignored, and left to the hash's expiry
        }
        long at = o.getLong("at", 0L);
        if (now - at <= 3 * config.reportIntervalMs()) live.add(o);
        else if (now - at > FORGET_MS) stale.add(o.getString("id", ""));
      }
      if (!stale.isEmpty()) {
        Request hdel = Request.cmd(Command.HDEL).arg(key);
        stale.forEach(hdel::arg);
        send(hdel).onFailure(err -> log.debug("stale instance reports not deleted: {}", err.getMessage()));
      }
      if (live.isEmpty()) return Future.succeededFuture(new JsonArray());
      Request scores = Request.cmd(Command.ZMSCORE).arg(tails);
      live.forEach(o -> scores.arg(o.getString("id", "")));
      return send(scores).map(positions -> {
        JsonArray out = new JsonArray();
        for (int i = 0; i < live.size(); i++) {
          Response p = positions.get(i);
          JsonObject o = live.get(i).put("positionMs", p == null ? null : p.toLong()).put("self", config.instanceId().equals(live.get(i).getString("id")));
          out.add(o);
        }
        return out;
      });
    }).onSuccess(msg::reply).onFailure(err -> msg.fail(io.cachegate.model.ErrorCode.UNAVAILABLE.busCode(), "Redis: " + err.getMessage()));
  }

  private Future<Response> send(Request r) {
    return redis.send(r).timeout(config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS);
  }
}
