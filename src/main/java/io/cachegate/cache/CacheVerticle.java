package io.cachegate.cache;

import io.cachegate.model.ErrorCode;
import io.cachegate.model.Names;
import io.cachegate.model.NoticeIds;
import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.GetQuery;
import io.cachegate.bus.Messages.GetResult;
import io.cachegate.bus.Messages.Health;
import io.cachegate.bus.Messages.HistoryQuery;
import io.cachegate.bus.Messages.HistoryResult;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.MetaQuery;
import io.cachegate.bus.Messages.MetaResult;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.bus.Messages.Outcome;
import io.cachegate.bus.Messages.PreviewQuery;
import io.cachegate.bus.Messages.PreviewResult;
import io.cachegate.bus.Messages.RecentQuery;
import io.cachegate.bus.Messages.RecentResult;
import io.cachegate.bus.Messages.PutCommand;
import io.cachegate.bus.Messages.PutResult;
import io.cachegate.bus.Messages.RedisState;
import io.cachegate.bus.Messages.TagQuery;
import io.cachegate.bus.Messages.TagResult;
import io.cachegate.bus.Messages.CacheStats;
import io.cachegate.bus.Messages.MultiGetQuery;
import io.cachegate.bus.Messages.MultiGetResult;
import io.cachegate.bus.Messages.StatsQuery;
import io.cachegate.bus.Messages.SuggestQuery;
import io.cachegate.bus.Messages.SuggestResult;
import io.cachegate.bus.Messages.Suggestion;
import io.cachegate.bus.Messages.TouchCommand;
import io.cachegate.bus.Messages.TouchResult;
import io.cachegate.cache.RedisScripts.Script;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.model.Targets;
import io.cachegate.support.Backoff;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The Redis boundary: the only verticle that reads or writes cache entries. Every operation is a Lua
 * script on one slot, or ordered steps of such scripts ({@link Steps}: PUT, invalidation, renewal),
 * the same on one Redis and on a cluster. Each instance runs on one event loop and owns its pooled Redis client, its
 * up/down state and its in-flight count (for a graceful stop).
 */
public final class CacheVerticle extends VerticleBase implements io.cachegate.bus.Hosted {

  private static final Logger log = LoggerFactory.getLogger(CacheVerticle.class);

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final SecureRandom random = new SecureRandom();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final Backoff rebuildBackoff;
  private final AdaptiveTtl adaptive;
  private final boolean housekeeping;
  private final boolean onBus;
  private final ClusterNodes nodes;
  private final Map<String, Function<Object, Future<?>>> handlers = new java.util.HashMap<>();
  private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();
  private final String poolName = "cachegate-redis-" + INSTANCES.incrementAndGet();
  private Redis redis;
  private RedisScripts scripts;
  private Steps steps;
  private String ns;
  private int inFlight;
  private long sweepTimer = -1;
  private long trimTimer = -1;
  private boolean up = true;       // false from a connection-level failure until a probe answers
  private String lastError = "";
  private ConnectionErrors.Endpoint endpoint;
  private boolean stopped;

  /**
   * Several instances run, one per event loop, each with its own Redis pool, sharing the bus addresses
   * (requests are spread over them) and the adaptive counters; {@code housekeeping} marks the one that
   * runs the index sweep and the history trim.
   */
  public CacheVerticle(GatewayConfig config, GatewayMetrics metrics, AdaptiveTtl adaptive, boolean housekeeping, ClusterNodes nodes) {
    this(config, metrics, adaptive, housekeeping, nodes, true);
  }

  /**
   * {@code onBus} false: an instance an HTTP verticle hosts on its own event loop and calls directly
   * ({@link #call}), so a REST request crosses neither the bus nor a thread; it serves no address.
   */
  public CacheVerticle(GatewayConfig config, GatewayMetrics metrics, AdaptiveTtl adaptive, boolean housekeeping, ClusterNodes nodes,
                       boolean onBus) {
    this.onBus = onBus;
    this.config = config;
    this.nodes = nodes;
    this.metrics = metrics;
    this.adaptive = adaptive;
    this.housekeeping = housekeeping;
    this.rebuildBackoff = new Backoff(50, config.redis().reconnectMaxDelayMs());
  }

  @Override
  public Future<?> start() {
    ns = config.redis().namespace();
    scripts = new RedisScripts(config.redis().commandTimeoutMs());
    steps = new Steps(scripts, ns, config.redis().cluster(), config.cache().maxCascade(), config.cache().leaseTtlMs());
    endpoint = RedisFactory.endpoint(config.redis());
    redis = RedisFactory.create(vertx, config.redis(), config.redis().poolSize(), poolName, nodes);
    serve(Addresses.CACHE_INVALIDATE, this::invalidate);
    serve(Addresses.CACHE_TOUCH, this::touch);
    serve(Addresses.CACHE_MULTI_GET, this::multiGet);
    serve(Addresses.CACHE_SUGGEST, this::suggest);
    serve(Addresses.CACHE_STATS, (StatsQuery q) -> Future.succeededFuture(new CacheStats(adaptive.snapshot())));
    serve(Addresses.CACHE_PUT, this::put);
    serve(Addresses.CACHE_GET, this::get);
    serve(Addresses.CACHE_META, this::meta);
    serve(Addresses.CACHE_PREVIEW, this::preview);
    serve(Addresses.NOTICE_RECENT, this::recent);
    serve(Addresses.CACHE_TAG, this::tag);
    serve(Addresses.NOTICE_HISTORY, this::history);
    serve(Addresses.CACHE_HEALTH, (Object ignored) -> health());
    if (housekeeping) {
      sweepTimer = vertx.setPeriodic(config.cache().sweepIntervalMs(), id -> sweep());
      trimTimer = vertx.setPeriodic(config.stream().trimIntervalMs(), id -> trim());
    }
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .compose(v -> housekeeping ? checkMode() : Future.succeededFuture())
        .compose(v -> housekeeping && !config.redis().cluster() ? dropPreviousLayout() : Future.succeededFuture())
        .compose(v -> health())
        .onSuccess(h -> {
          if (!h.up()) log.warn("Redis is not reachable yet ({}); serving 503 until it is", h.details());
        });
  }

  /**
   * {@code redis.mode} must say what the server is: a cluster node with {@code standalone} would
   * answer MOVED for most keys; a plain Redis with {@code cluster} has no slots to route by.
   */
  private Future<Void> checkMode() {
    return send(Request.cmd(Command.INFO).arg("cluster"))
        .transform(ar -> {
          // the cluster client's CLUSTER SLOTS, refused by a plain Redis
          boolean plain = ar.failed() && String.valueOf(ar.cause().getMessage()).contains("cluster support disabled");
          if (ar.failed() && !plain) return Future.succeededFuture(); // INFO refused by an ACL, say: nothing to go on
          boolean isCluster = !plain && ar.result() != null && ar.result().toString().contains("cluster_enabled:1");
          if (isCluster && !config.redis().cluster()) {
            return Future.failedFuture(new io.cachegate.config.ConfigException("redis.mode", endpoint.describe()
                + " is a Redis Cluster node (cluster_enabled:1) but redis.mode is standalone; set redis.mode: cluster "
                + "(env CACHEGATE_REDIS_MODE=cluster)"));
          }
          if (!isCluster && config.redis().cluster()) {
            return Future.failedFuture(new io.cachegate.config.ConfigException("redis.mode", "is cluster but " + endpoint.describe()
                + " is not a Redis Cluster node (cluster_enabled:0); set redis.mode: standalone"));
          }
          return Future.succeededFuture();
        });
  }

  /** The bookkeeping keys of the layout before Redis Cluster support (one Redis only), under the namespace. */
  static final List<String> PREVIOUS_LAYOUT = List.of("cg:k", "cg:x", "cg:ver", "cg:notices", "cg:trimmed", "cg:epoch",
      "cg:tails", "cg:tailbeat", "cg:ti", "cg:pi");

  /**
   * An upgrade from the previous layout: the entries it wrote are filed where this version does not
   * look (their tags, dependencies and prefix index under other names), so a later invalidation would
   * miss them. Their values are only a cache: they are deleted, with their bookkeeping (the live-key
   * index lists them all), and then the old keys; its tag and dependency sets expire on their own.
   * Clients resuming from an old notice get {@code reset} (the new notice log does not hold it).
   */
  private Future<Void> dropPreviousLayout() {
    String live = ns + "cg:k";
    return send(Request.cmd(Command.EXISTS).arg(live).arg(ns + "cg:notices"))
        .transform(ar -> {
          if (ar.failed() || ar.result().toInteger() == 0) return Future.<Void>succeededFuture(); // nothing of it, or no Redis yet
          log.warn("Redis holds entries of the previous cachegate layout (namespace '{}'); deleting them (a cache: they refill) "
              + "so that no invalidation misses them", ns);
          return dropPrevious(live, 0).compose(n -> {
            Request del = Request.cmd(Command.DEL);
            PREVIOUS_LAYOUT.forEach(k -> del.arg(ns + k));
            log.info("deleted {} entries of the previous layout", n);
            return send(del).<Void>mapEmpty();
          });
        });
  }

  /** Deletes the previous layout's entries 500 at a time, in the order of its live-key index. */
  private Future<Long> dropPrevious(String live, long done) {
    return send(Request.cmd(Command.ZRANGE).arg(live).arg(0).arg(499))
        .compose(keys -> {
          if (keys.size() == 0) return Future.succeededFuture(done);
          Request del = Request.cmd(Command.DEL);
          Request forget = Request.cmd(Command.ZREM).arg(live);
          for (Response k : keys) {
            String key = k.toString();
            del.arg(ns + key).arg(ns + "cg:m:" + key).arg(ns + "cg:l:" + key).arg(ns + "cg:co:" + key);
            forget.arg(key);
          }
          return redis.send(del).compose(x -> redis.send(forget)).timeout(config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS)
              .compose(x -> dropPrevious(live, done + keys.size()));
        });
  }

  /** Stops taking requests, waits for those in flight (bounded by the shutdown grace), then closes. */
  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(trimTimer);
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
        .compose(v -> drained(System.currentTimeMillis() + config.shutdownGraceMs()))
        .eventually(() -> redis.close());
  }

  private Future<Void> drained(long deadline) {
    if (inFlight == 0 || System.currentTimeMillis() > deadline) return Future.succeededFuture();
    return vertx.timer(20).compose(v -> drained(deadline));
  }

  /**
   * Registers a request handler: on the bus (unless this instance is hosted by an HTTP verticle),
   * and for {@link #call}. A failure is answered as {@code message.fail(error.busCode(), text)}.
   */
  @SuppressWarnings("unchecked")
  private <T, R> void serve(String address, Function<T, Future<R>> handler) {
    handlers.put(address, body -> handler.apply((T) body));
    if (!onBus) return;
    MessageConsumer<T> c = vertx.eventBus().consumer(address, (Message<T> msg) -> this.<R>call(address, msg.body()).onComplete(ar -> {
      if (ar.succeeded()) msg.reply(ar.result());
      else msg.fail(((ReplyException) ar.cause()).failureCode(), ar.cause().getMessage());
    }));
    consumers.add(c);
  }

  @Override
  public Future<?> host(io.vertx.core.Vertx vertx, io.vertx.core.Context context) {
    init(vertx, context);
    return start();
  }

  @Override
  public boolean serves(String address) {
    return handlers.containsKey(address);
  }

  /**
   * The request {@code body} to {@code address}, answered on this event loop as the bus would answer
   * it: its result, or a {@link ReplyException} (recipient failure) with the error's bus code. The bus
   * consumers answer through it too.
   */
  @Override
  @SuppressWarnings("unchecked")
  public <R> Future<R> call(String address, Object body) {
    if (!up && !Addresses.CACHE_HEALTH.equals(address)) {
      // fail fast while the probe loop rebuilds the client; the caller answers 503 + Retry-After
      return Future.failedFuture(failure(ErrorCode.UNAVAILABLE, "Redis is unreachable (" + lastError + "); retry later"));
    }
    inFlight++;
    Future<R> f;
    try {
      f = (Future<R>) handlers.get(address).apply(body);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.transform(ar -> {
      inFlight--;
      if (ar.succeeded()) return Future.succeededFuture(ar.result());
      if (ar.cause() instanceof CacheFailure cf) return Future.failedFuture(failure(cf.error, cf.getMessage()));
      if (ar.cause() instanceof Response) { // a Redis error reply means Redis is up
        return Future.failedFuture(failure(ErrorCode.UNAVAILABLE, "Redis unavailable: " + ar.cause().getMessage()));
      }
      down(ar.cause());
      return Future.failedFuture(failure(ErrorCode.UNAVAILABLE, lastError));
    });
  }

  private static ReplyException failure(ErrorCode error, String message) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, error.busCode(), message);
  }

  /** A failure with the error the REST layer should answer with. */
  static final class CacheFailure extends RuntimeException {
    final ErrorCode error;

    CacheFailure(ErrorCode error, String message) {
      super(message, null, false, false);
      this.error = error;
    }
  }

  private Future<InvalidateResult> invalidate(InvalidateCommand cmd) {
    return steps.invalidate(redis, cmd.invalidations()).map(outcomes -> {
      for (int i = 0; i < outcomes.size(); i++) {
        metrics.invalidation(cmd.invalidations().get(i).cause().source(), outcomes.get(i).invalidated().size());
      }
      return new InvalidateResult(outcomes);
    });
  }

  private Future<PutResult> put(PutCommand cmd) {
    long ttl = cmd.ttlSeconds();
    if (cmd.type() != null) {
      adaptive.write(cmd.type());
      if (!cmd.ttlExplicit()) ttl = adaptive.decide(cmd.type(), ttl).ttlSeconds();
    }
    long ttlSeconds = ttl;
    Future<List<String>> deps = cmd.autoDepends()
        ? suggest(new SuggestQuery(cmd.key(), config.cache().autoDependsLimit()))
            .map(r -> r.suggestions().stream().filter(sg -> sg.score() >= config.cache().autoDependsMinScore())
                .map(Suggestion::key).toList())
        : Future.succeededFuture(cmd.dependsOn());
    long ttlMs = ttlSeconds * 1000;
    RedisKeys.Entry entry = RedisKeys.entry(ns, cmd.key());
    // first filed under its tags, dependencies and index shard, then written (Steps explains the order)
    return deps.compose(dependsOn -> steps.file(redis, cmd.key(), cmd.tags(), dependsOn, ttlMs, leaseIssued(cmd.lease()))
        .compose(filed -> scripts.run(redis, Script.WRITE, List.of(entry.value(), entry.of(RedisKeys.META), entry.of(RedisKeys.LEASE),
                    entry.of(RedisKeys.VERSION)),
                List.of(cmd.valueJson(), Long.toString(ttlMs), new JsonArray(cmd.tags()).encode(), new JsonArray(dependsOn).encode(),
                    cmd.sliding() ? "1" : "0", cmd.ifVersion() == null ? "" : cmd.ifVersion(), cmd.lease() == null ? "" : cmd.lease(),
                    cmd.type() == null ? "" : cmd.type(), Long.toString(cmd.computeMs()), filed ? "0" : "1"))
                .map(ScriptReplies.Put::parse)))
        .compose(reply -> {
      switch (reply.status()) {
        case "ok" -> {
          metrics.set();
          return Future.succeededFuture(new PutResult(cmd.key(), reply.version(), reply.ttlMs() / 1000));
        }
        case "version_mismatch" -> {
          String cur = reply.current();
          return Future.failedFuture(new CacheFailure(ErrorCode.VERSION_MISMATCH, cur.isEmpty()
              ? "ifVersion " + cmd.ifVersion() + " given, but " + cmd.key() + " does not exist"
              : "ifVersion " + cmd.ifVersion() + " is not the current version of " + cmd.key() + " (" + cur + ")"));
        }
        default -> {
          return Future.failedFuture(new CacheFailure(ErrorCode.LEASE_VOIDED,
              "the lease for " + cmd.key() + " was voided by an invalidation or has expired; nothing was written"));
        }
      }
    });
  }

  private Future<GetResult> get(GetQuery q) {
    byte[] token = new byte[16];
    random.nextBytes(token);
    RedisKeys.Entry entry = RedisKeys.entry(ns, q.key());
    List<String> keys = List.of(entry.value(), entry.of(RedisKeys.META), entry.of(RedisKeys.LEASE));
    List<String> args = List.of(q.lease() ? "1" : "0", Long.toString(config.cache().leaseTtlMs()), HexFormat.of().formatHex(token));
    return scripts.run(redis, Script.GET, keys, args).compose(res -> {
      ScriptReplies.Get r = ScriptReplies.Get.parse(res);
      if (!r.renew()) return Future.succeededFuture(result(q, r, r.pttl()));
      // a sliding entry is renewed before the answer; re-filed in between (-3), the new PUT's TTL stands
      return renew(q.key(), "", r.ttlMs(), r.tagsJson(), r.depsJson()).map(ttl -> result(q, r, ttl > 0 ? ttl : r.pttl()));
    });
  }

  /** The issue time a lease token carries (token.issue_ms), or null: no lease, or not one of ours. */
  private static Long leaseIssued(String lease) {
    if (lease == null) return null;
    int dot = lease.lastIndexOf('.');
    try {
      return dot < 0 ? null : Long.parseLong(lease.substring(dot + 1));
    } catch (NumberFormatException e) {
      return null; // write.lua refuses it: no such lease
    }
  }

  private GetResult result(GetQuery q, ScriptReplies.Get r, long pttl) {
    String lease = r.lease().isEmpty() ? null : r.lease();
    if (r.hit()) {
      metrics.hit();
      adaptive.read(r.type());
      return new GetResult(true, q.key(), r.value(), r.version(), ttlSeconds(pttl), r.tags(), lease, 0,
          r.type().isEmpty() ? null : r.type(), r.stale(), refreshAhead(r.computeMs(), pttl));
    }
    metrics.miss();
    long retry = r.leaseHeld() ? Math.max(1, r.retryAfterMs()) : 0;
    return GetResult.miss(q.key(), lease, retry);
  }

  /**
   * Renews an entry on the filing read before ({@code tagsJson}, {@code depsJson}, as stored): its
   * scores where it is filed, then its TTL ({@code ttlMs} "" = its own, {@code ownTtlMs}). The new TTL
   * in ms, -2 when the entry is gone, -3 when a PUT re-filed it meanwhile.
   */
  private Future<Long> renew(String key, String ttlMs, long ownTtlMs, String tagsJson, String depsJson) {
    long ttl = ttlMs.isEmpty() ? ownTtlMs : Long.parseLong(ttlMs);
    if (ttl <= 0) return Future.succeededFuture(-2L);
    return steps.renewFilings(redis, key, tagsJson, depsJson, ttl)
        .compose(v -> scripts.run(redis, Script.TOUCH, List.of(RedisKeys.value(ns, key), RedisKeys.META.in(ns, key)),
            List.of(ttlMs, tagsJson, depsJson)))
        .map(Response::toLong);
  }

  /**
   * XFetch (Vattani, Chierichetti, Lowenstein, VLDB 2015): recompute early with a probability that
   * rises as expiry nears, scaled by how long the value takes to compute, so one caller refreshes it
   * before it expires instead of a stampede after.
   */
  private boolean refreshAhead(long computeMs, long pttl) {
    if (computeMs <= 0 || pttl < 0) return false;
    double u = Math.max(Double.MIN_VALUE, random.nextDouble());
    return computeMs * config.cache().refreshAheadBeta() * -Math.log(u) >= pttl;
  }

  private Future<TouchResult> touch(TouchCommand cmd) {
    String ttl = cmd.ttlSeconds() == null ? "" : Long.toString(cmd.ttlSeconds() * 1000);
    return touchFiled(cmd.key(), ttl, 5).compose(res -> res < 0
        ? Future.failedFuture(new CacheFailure(ErrorCode.NOT_FOUND, "no entry " + cmd.key()))
        : Future.succeededFuture(new TouchResult(cmd.key(), res / 1000)));
  }

  /** Reads the entry's filing, then renews it there; again when a PUT re-filed it in between. */
  private Future<Long> touchFiled(String key, String ttlMs, int tries) {
    return send(Request.cmd(Command.HMGET).arg(RedisKeys.META.in(ns, key)).arg("tags").arg("deps").arg("ttl"))
        .compose(m -> {
          String tags = m.get(0) == null ? "[]" : m.get(0).toString();
          String deps = m.get(1) == null ? "[]" : m.get(1).toString();
          long own = m.get(2) == null ? -1 : m.get(2).toLong();
          return renew(key, ttlMs, own, tags, deps);
        })
        .compose(res -> res == -3 && tries > 1 ? touchFiled(key, ttlMs, tries - 1) : Future.succeededFuture(res == -3 ? -2L : res));
  }

  private Future<MultiGetResult> multiGet(MultiGetQuery q) {
    List<Future<GetResult>> reads = q.keys().stream().map(k -> get(new GetQuery(k, false))).toList();
    return Future.all(reads).compose(all -> {
      Future<?> recorded = q.keys().size() < 2 ? Future.succeededFuture() : coAccess(q.keys());
      return recorded.map(v -> new MultiGetResult(reads.stream().map(Future::result).toList()));
    });
  }

  /** Records that {@code keys} were read together, on each key's slot. */
  private Future<?> coAccess(List<String> keys) {
    List<String> distinct = keys.stream().distinct().toList();
    String all = new JsonArray(distinct).encode();
    List<Future<Response>> calls = new ArrayList<>();
    for (List<String> g : steps.group(distinct, k -> RedisKeys.entry(ns, k).slot())) {
      calls.add(scripts.run(redis, Script.COACCESS, g.stream().map(k -> RedisKeys.COACCESS.in(ns, k)).toList(),
          List.of(Long.toString(config.cache().coAccessTtlMs()), Integer.toString(config.cache().coAccessKeep()),
              new JsonArray(g).encode(), all)));
    }
    return Future.all(calls);
  }

  private Future<SuggestResult> suggest(SuggestQuery q) {
    return scripts.run(redis, Script.SUGGEST, List.of(RedisKeys.COACCESS.in(ns, q.key())), List.of(Integer.toString(q.limit()), "1")).map(res -> {
      List<Suggestion> out = new ArrayList<>();
      for (Map.Entry<String, Double> e : ScriptReplies.scored(res).entrySet()) out.add(new Suggestion(e.getKey(), e.getValue()));
      return new SuggestResult(q.key(), out);
    });
  }

  private Future<MetaResult> meta(MetaQuery q) {
    RedisKeys.Entry entry = RedisKeys.entry(ns, q.key());
    return scripts.run(redis, Script.META, List.of(entry.value(), entry.of(RedisKeys.META), entry.of(RedisKeys.DEPENDENTS)), List.of()).compose(res -> {
      ScriptReplies.Meta m = ScriptReplies.Meta.parse(res);
      if (!m.found()) return Future.failedFuture(new CacheFailure(ErrorCode.NOT_FOUND, "no entry " + q.key()));
      return steps.verify(redis, m.dependents(), "deps", q.key()).map(dependents ->
          new MetaResult(q.key(), m.version(), ttlSeconds(m.pttl()), m.tags(), m.dependsOn(), dependents));
    });
  }

  /** The newest notices (XREVRANGE), filtered by key or tag when asked, returned oldest first. */
  private Future<RecentResult> recent(RecentQuery q) {
    boolean filtered = q.key() != null || q.tag() != null;
    int count = filtered ? q.scan() : q.limit();
    return send(Request.cmd(Command.XREVRANGE).arg(RedisKeys.NOTICES.in(ns)).arg("+").arg("-").arg("COUNT").arg(count))
        .map(entries -> {
          List<Notice> out = new ArrayList<>();
          StreamEntries.Reader reader = new StreamEntries.Reader();
          for (Response e : entries) {
            Notice n = reader.toNotice(e);
            if (q.key() != null && !n.keys().contains(q.key())) continue;
            if (q.tag() != null && !n.tags().contains(q.tag())) continue;
            out.add(n);
            if (out.size() == q.limit()) break;
          }
          java.util.Collections.reverse(out);
          return new RecentResult(out, entries.size());
        });
  }

  /** A dry run: what the invalidation would reach, by reads only (DryRun). */
  private Future<PreviewResult> preview(PreviewQuery q) {
    return DryRun.run(new DryRun.Reads() {
      @Override
      public Future<MetaResult> meta(String key) {
        return CacheVerticle.this.meta(new MetaQuery(key))
            .recover(err -> err instanceof CacheFailure f && f.error == ErrorCode.NOT_FOUND ? Future.succeededFuture(null) : Future.failedFuture(err));
      }

      @Override
      public Future<List<String>> tag(String tag) {
        return CacheVerticle.this.tag(new TagQuery(tag)).map(TagResult::keys);
      }

      @Override
      public Future<List<String>> prefixed(List<String> prefixes) {
        return prefixedKeys(prefixes);
      }
    }, q.invalidation(), config.cache().maxCascade());
  }

  /** The stored keys starting with any of {@code prefixes}: the live index's shards read by range, nothing recorded. */
  private Future<List<String>> prefixedKeys(List<String> prefixes) {
    List<Future<Response>> calls = new ArrayList<>();
    for (int s = 0; s < RedisKeys.SHARDS; s++) {
      for (String p : prefixes) {
        // the range ends at the prefix followed by the byte 0xFF, as prefixes.lua's '\255'
        calls.add(send(Request.cmd(Command.ZRANGEBYLEX).arg(RedisKeys.LIVE.shard(ns, s)).arg("[" + p)
            .arg(io.vertx.core.buffer.Buffer.buffer().appendString("[" + p).appendByte((byte) 0xFF))));
      }
    }
    return Future.all(calls).map(v -> {
      Set<String> out = new LinkedHashSet<>();
      for (Future<Response> c : calls) for (Response r : c.result()) out.add(r.toString());
      return List.copyOf(out);
    });
  }

  private Future<TagResult> tag(TagQuery q) {
    return scripts.run(redis, Script.TAG, List.of(RedisKeys.TAG.in(ns, q.tag())), List.of())
        .compose(res -> steps.verify(redis, ScriptReplies.strings(res), "tags", q.tag()))
        .map(keys -> new TagResult(q.tag(), keys));
  }

  private Future<HistoryResult> history(HistoryQuery q) {
    String since = q.since() == null ? "" : NoticeIds.toStreamId(q.since());
    if (since == null) return Future.failedFuture(new CacheFailure(ErrorCode.BAD_REQUEST, "since is not a notice id"));
    return scripts.run(redis, Script.HISTORY, List.of(RedisKeys.NOTICES.in(ns)), List.of(since, Integer.toString(q.max()))).map(res -> {
      ScriptReplies.History h = ScriptReplies.History.parse(res);
      String first = h.first();
      String last = h.last();
      String position = last.isEmpty() ? NoticeIds.ZERO : NoticeIds.fromStreamId(last);
      if (since.isEmpty()) return new HistoryResult(true, List.of(), position);
      // since must name an entry that exists: one a failover lost (the new primary never had it) is not reachable
      boolean reachable = !first.isEmpty() && h.found()
          && NoticeIds.compareStreamIds(since, first) >= 0
          && NoticeIds.compareStreamIds(since, last) <= 0;
      Response entries = h.entries();
      if (!reachable || entries.size() > q.max()) return new HistoryResult(false, List.of(), position);
      List<Notice> notices = new ArrayList<>();
      StreamEntries.Reader reader = new StreamEntries.Reader();
      for (Response e : entries) notices.add(reader.toNotice(e));
      return new HistoryResult(true, notices, position);
    });
  }

  private Future<Health> health() {
    if (!up) return Future.succeededFuture(new Health("redis", false, new JsonObject().put("error", lastError)));
    return ping()
        // a cluster is up when a node says cluster_state:ok (every slot served); the known nodes are refreshed
        .compose(r -> config.redis().cluster() ? nodes.check(redis, config.redis().commandTimeoutMs()) : Future.succeededFuture(new JsonObject()))
        .map(details -> new Health("redis", true, details))
        .otherwise(err -> {
          if (err instanceof ClusterNodes.NotServing notServing) {
            return new Health("redis", false, new JsonObject().put("error", notServing.getMessage()));
          }
          down(err);
          return new Health("redis", false, new JsonObject().put("error", ConnectionErrors.explain(endpoint, err)));
        });
  }

  private Future<Response> ping() {
    return send(Request.cmd(Command.PING));
  }

  /** One command, failed after {@code redis.commandTimeoutMs} (the client has no timeout of its own). */
  private Future<Response> send(Request r) {
    return redis.send(r).timeout(config.redis().commandTimeoutMs(), TimeUnit.MILLISECONDS);
  }

  /**
   * Redis stopped answering: tell the others (capture stops claiming), fail requests fast, and
   * rebuild the client with backoff until a PING answers.
   */
  private void down(Throwable err) {
    lastError = ConnectionErrors.explain(endpoint, err);
    if (!up || stopped) return;
    up = false;
    log.warn("Redis is unreachable ({}); failing fast and reconnecting with backoff", lastError);
    vertx.eventBus().publish(Addresses.REDIS_STATE, new RedisState(false, lastError));
    probe();
  }

  private void probe() {
    vertx.setTimer(rebuildBackoff.next(), t -> {
      if (stopped) return;
      Redis old = redis;
      redis = RedisFactory.create(vertx, config.redis(), config.redis().poolSize(), poolName, nodes);
      old.close();
      ping().onSuccess(r -> {
        up = true;
        rebuildBackoff.reset();
        log.info("Redis is reachable again");
        vertx.eventBus().publish(Addresses.REDIS_STATE, new RedisState(true, null));
      }).onFailure(err -> {
        lastError = ConnectionErrors.explain(endpoint, err);
        probe();
      });
    });
  }

  /** Forgets the index entries whose scores passed, shard by shard (bounded work per shard and run). */
  private void sweep() {
    if (!up) return;
    for (int i = 0; i < RedisKeys.SHARDS; i++) {
      scripts.run(redis, Script.SWEEP, List.of(RedisKeys.LIVE.shard(ns, i), RedisKeys.EXPIRY.shard(ns, i)), List.of("1000"))
          .onFailure(err -> log.debug("index sweep skipped: {}", err.getMessage()));
    }
  }

  /**
   * Trims the notice history by length and age, never past what a live instance has not streamed,
   * unless the history would pass {@code stream.historyHardMaxLen}.
   */
  private void trim() {
    if (!up) return;
    scripts.run(redis, Script.TRIM, List.of(RedisKeys.NOTICES.in(ns), RedisKeys.TAILS.in(ns), RedisKeys.TAILBEAT.in(ns),
            RedisKeys.TRIMMED.in(ns)), List.of(Long.toString(config.stream().historyMaxLen()),
            Long.toString(config.stream().historyMaxAgeMs()), Long.toString(NoticeTailVerticle.TAIL_TTL_MS),
            Long.toString(config.stream().historyHardMaxLen())))
        .onSuccess(removed -> metrics.historyTrimmed(removed.toLong()))
        .onFailure(err -> log.debug("history trim skipped: {}", err.getMessage()));
  }

  private static long ttlSeconds(long pttl) {
    return pttl < 0 ? -1 : (pttl + 999) / 1000;
  }
}
