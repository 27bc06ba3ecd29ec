package io.cachegate.api;

import io.cachegate.model.ErrorCode;
import io.cachegate.bus.Addresses;
import io.cachegate.bus.Hosted;
import io.cachegate.bus.Messages.GetQuery;
import io.cachegate.bus.Messages.GetResult;
import io.cachegate.bus.Messages.Health;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.MetaQuery;
import io.cachegate.bus.Messages.MetaResult;
import io.cachegate.bus.Messages.Outcome;
import io.cachegate.bus.Messages.PreviewQuery;
import io.cachegate.bus.Messages.PreviewResult;
import io.cachegate.bus.Messages.RecentQuery;
import io.cachegate.bus.Messages.RecentResult;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.stream.Frames;
import io.cachegate.bus.Messages.PutResult;
import io.cachegate.bus.Messages.TagQuery;
import io.cachegate.bus.Messages.TagResult;
import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.CacheStats;
import io.cachegate.bus.Messages.MultiGetQuery;
import io.cachegate.bus.Messages.MultiGetResult;
import io.cachegate.bus.Messages.StatsQuery;
import io.cachegate.bus.Messages.SuggestQuery;
import io.cachegate.bus.Messages.SuggestResult;
import io.cachegate.bus.Messages.TouchCommand;
import io.cachegate.bus.Messages.TouchResult;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.GatewayConfig.Scope;
import io.cachegate.capture.CaptureStats;
import io.cachegate.capture.ChangeMapper;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.stream.StreamStats;
import io.cachegate.rules.InvalidationRule;
import io.cachegate.model.Targets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The REST control plane (src/main/resources/openapi.json), as routes on a {@link Router}. Handlers are thin:
 * they check auth, read the request through {@link Requests}, send a command on the bus and write the
 * reply. Every refusal is a JSON error body {@code {"error", "message"}} and is counted.
 */
public final class RestApi {

  private static final Logger log = LoggerFactory.getLogger(RestApi.class);
  /** src/main/resources/openapi.json, read once. */
  private static final String OPENAPI = resource("/openapi.json");
  /** How many of the newest notices GET /v1/notices looks through for a key or a tag. */
  static final int RECENT_SCAN = 5_000;

  private static String resource(String name) {
    try (var in = RestApi.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException(name + " is missing from the class path");
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private final Vertx vertx;
  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final CaptureStats captureStats;
  private final StreamStats streamStats;
  private final io.cachegate.metrics.StatsSeries series;
  private final ApiAuth auth;
  private final Guards guards;
  private final DeliveryOptions bus;
  private final Hosted local;

  /** {@code local}: the cache instance on this event loop, asked directly (null: over the bus). */
  public RestApi(Vertx vertx, GatewayConfig config, GatewayMetrics metrics, Guards guards, CaptureStats captureStats,
      StreamStats streamStats, io.cachegate.metrics.StatsSeries series, Hosted local) {
    this.local = local;
    this.series = series;
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    this.captureStats = captureStats;
    this.streamStats = streamStats;
    this.auth = guards.auth();
    this.guards = guards;
    this.bus = new DeliveryOptions().setSendTimeout(config.redis().commandTimeoutMs() * 2 + 500);
  }

  public void mount(Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.http().maxBodyBytes());
    // HEAD is answered wherever GET is (RFC 9110): the same status and headers, no body
    router.get("/health").method(HttpMethod.HEAD).handler(this::health);
    router.get("/metrics").method(HttpMethod.HEAD).handler(ctx -> {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
      end(ctx, metrics.scrape());
    });
    // the OpenAPI document of these routes: public, like /health
    router.get("/openapi.json").method(HttpMethod.HEAD).handler(ctx -> {
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
      end(ctx, OPENAPI);
    });

    // the hot routes first: the router tries routes in order, each a regular expression
    route(router, HttpMethod.DELETE, "/v1/entries/:key", Scope.INVALIDATE, null, this::delete);
    route(router, HttpMethod.POST, "/v1/invalidations", Scope.INVALIDATE, body, this::invalidations);
    route(router, HttpMethod.GET, "/v1/entries/:key", Scope.READ, null, this::get);
    route(router, HttpMethod.PUT, "/v1/entries/:key", Scope.WRITE, body, this::put);
    route(router, HttpMethod.GET, "/v1/entries", Scope.READ, null, this::multiGet);
    route(router, HttpMethod.GET, "/v1/entries/:key/meta", Scope.READ, null, this::meta);
    route(router, HttpMethod.GET, "/v1/entries/:key/suggested-dependencies", Scope.READ, null, this::suggestions);
    route(router, HttpMethod.POST, "/v1/entries/:key/touch", Scope.WRITE, body, this::touch);
    route(router, HttpMethod.POST, "/v1/events/:name", Scope.INVALIDATE, body, this::event);
    route(router, HttpMethod.GET, "/v1/tags/:tag", Scope.READ, null, this::tag);
    route(router, HttpMethod.GET, "/v1/stats", Scope.READ, null, this::stats);
    route(router, HttpMethod.GET, "/v1/stats/series", Scope.READ, null, this::series);
    route(router, HttpMethod.GET, "/v1/notices", Scope.READ, null, this::notices);
    route(router, HttpMethod.GET, "/v1/instances", Scope.READ, null, this::instances);
    route(router, HttpMethod.GET, "/v1/rules", Scope.READ, null, this::rules);
    route(router, HttpMethod.POST, "/v1/rules/:table/evaluate", Scope.INVALIDATE, body, this::evaluate);
    route(router, HttpMethod.POST, "/v1/tokens", Scope.ADMIN, body, this::token);
  }

  /** The demo's routes (only when {@code demo.enabled}). */
  void mountDemo(Router router, DemoApi demo) {
    route(router, HttpMethod.GET, "/demo/products", Scope.READ, null, demo::products);
    route(router, HttpMethod.POST, "/demo/products/:id/bump", Scope.WRITE, null, demo::bump);
  }

  /** Error bodies for every failure of the router, including the body limit (413) and unknown routes. */
  public void mountErrors(Router router) {
    router.route().failureHandler(ctx -> {
      Throwable err = ctx.failure();
      if (err instanceof ApiError e) {
        fail(ctx, e);
      } else {
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        if (status == 500) log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), err);
        fail(ctx, httpError(status, ""));
      }
    });
    router.errorHandler(404, ctx -> fail(ctx, httpError(404, "")));
    router.errorHandler(405, ctx -> {
      String allow = allowedMethods(router, ctx.normalizedPath());
      if (!allow.isEmpty()) ctx.response().putHeader(HttpHeaders.ALLOW, allow);
      fail(ctx, httpError(405, allow.isEmpty() ? "" : "; allowed: " + allow));
    });
  }

  /**
   * The methods the router's routes accept on {@code path}, for the Allow header of a 405. The router
   * takes {@code /v1/entries/x/} for {@code /v1/entries/x}, so one trailing slash is ignored here too.
   */
  static String allowedMethods(Router router, String requested) {
    String path = requested.length() > 1 && requested.endsWith("/") ? requested.substring(0, requested.length() - 1) : requested;
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (Route r : router.getRoutes()) {
      if (r.getPath() == null || r.methods() == null || r.methods().isEmpty()) continue;
      String regex = java.util.Arrays.stream(r.getPath().split("/", -1))
          .map(seg -> seg.startsWith(":") ? "[^/]+" : java.util.regex.Pattern.quote(seg))
          .collect(java.util.stream.Collectors.joining("/"));
      if (path.matches(regex)) r.methods().forEach(m -> out.add(m.name()));
    }
    return String.join(", ", out);
  }

  /**
   * The auth check runs before any body is read: ahead of the handler on the route, or, for a route
   * with a body, on a route of its own ahead of it (Vert.x Web refuses a body handler after a user
   * handler on one route). A route without a body is one route, so the router matches its path once.
   */
  private void route(Router router, HttpMethod method, String path, Scope scope, BodyHandler body,
                     io.vertx.core.Handler<RoutingContext> handler) {
    io.vertx.core.Handler<RoutingContext> guard = ctx -> {
      Future<Caller> caller = caller(ctx, scope);
      // a JWT whose key must first be fetched: hold the request's body (and its end) until then; the
      // body handler resumes it, or this does for a route without one
      boolean paused = !caller.isComplete();
      if (paused) ctx.request().pause();
      caller.onComplete(ar -> {
        if (paused && (body == null || ar.failed())) ctx.request().resume();
        if (ar.failed()) {
          ctx.fail(ar.cause());
        } else if (guards.rate().tryAcquire(ar.result().id(), System.nanoTime())) {
          ctx.next();
        } else {
          if (paused && body != null) ctx.request().resume();
          ctx.fail(new ApiError(ErrorCode.RATE_LIMITED, "more than " + config.limits().ratePerSecond()
              + " requests a second for " + ar.result().name() + "; retry later"));
        }
      });
    };
    if (body == null) {
      withHead(router.route(method, path), method).handler(guard).handler(handler);
    } else {
      withHead(router.route(method, path), method).handler(guard);
      router.route(method, path).handler(body).handler(handler);
    }
  }

  /** Who is calling, for the rate limiter ({@code id}) and its answer ({@code name}). */
  private record Caller(String id, String name) {}

  /**
   * The caller of a REST route, once it is known to hold {@code scope}: an API key, a JWT whose scope
   * claim ({@code auth.jwt.scopeClaim}) grants it (a service's machine-to-machine token), or, with auth
   * off, its address. 401 or 403 otherwise, as for API keys.
   */
  private Future<Caller> caller(RoutingContext ctx, Scope scope) {
    if (!auth.enabled()) return Future.succeededFuture(new Caller("addr:" + ctx.request().remoteAddress().hostAddress(), "this address"));
    String token = ApiAuth.bearer(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    var key = auth.identify(token); // once per request: a digest over every configured key
    if (key == null && guards.tokens().enabled() && token != null && token.chars().filter(c -> c == '.').count() == 2) {
      return TokenCheck.verify(vertx, guards.tokens(), metrics, token).compose(v -> {
        Set<Scope> scopes = guards.tokens().scopes(v);
        String who = "token of '" + v.subject() + "'";
        if (!scopes.contains(scope) && !scopes.contains(Scope.ADMIN)) {
          return Future.failedFuture(new ApiError(ErrorCode.FORBIDDEN, who + " lacks the " + scope.name().toLowerCase(java.util.Locale.ROOT)
              + " scope (claim " + config.auth().scopeClaim() + (config.auth().scopePrefix().isEmpty() ? "" : ", prefix " + config.auth().scopePrefix()) + ")"));
        }
        return Future.succeededFuture(new Caller("jwt:" + v.claims().getValue("iss") + " " + v.subject(), who));
      });
    }
    try {
      auth.admit(key, scope);
      return Future.succeededFuture(new Caller("key:" + key.name(), "API key '" + key.name() + "'"));
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
  }

  private static Route withHead(Route route, HttpMethod method) {
    return method == HttpMethod.GET ? route.method(HttpMethod.HEAD) : route;
  }

  // ---- routes ----

  private void put(RoutingContext ctx) {
    var cmd = Requests.put(ctx.pathParam("key"), jsonBody(ctx), config);
    this.<PutResult>ask(ctx, Addresses.CACHE_PUT, cmd, r -> {
      ctx.response().putHeader(HttpHeaders.ETAG, etag(r.version()));
      return new JsonObject().put("key", r.key()).put("version", r.version()).put("ttl", r.ttlSeconds());
    });
  }

  private void get(RoutingContext ctx) {
    String key = ctx.pathParam("key");
    Requests.checkName("key", key);
    String leaseParam = ctx.queryParams().get("lease");
    if (leaseParam != null && !leaseParam.equals("true") && !leaseParam.equals("false")) {
      throw ApiError.badRequest("lease must be true or false");
    }
    // a HEAD is safe: it never takes a lease
    boolean lease = "true".equals(leaseParam) && ctx.request().method() != HttpMethod.HEAD;
    this.<GetResult>request(Addresses.CACHE_GET, new GetQuery(key, lease))
        .onSuccess(r -> {
          if (!r.found()) {
            JsonObject b = error("not_found", "no entry " + key);
            if (r.lease() != null) b.put("lease", r.lease());
            else if (r.retryAfterMs() > 0) b.put("retryAfterMs", r.retryAfterMs());
            send(ctx, 404, b);
            return;
          }
          ctx.response().putHeader(HttpHeaders.ETAG, etag(r.version()));
          String inm = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
          if (inm != null && matches(inm, r.version()) && !r.stale()) {
            ctx.response().setStatusCode(304).end();
            return;
          }
          send(ctx, 200, entry(r));
        })
        .onFailure(err -> fail(ctx, err));
  }

  /** The JSON of a found entry: value, version, ttl, tags, and what a soft invalidation or XFetch adds. */
  private static JsonObject entry(GetResult r) {
    JsonObject o = new JsonObject().put("key", r.key()).put("value", decode(r.valueJson())).put("version", r.version())
        .put("ttl", r.ttlSeconds()).put("tags", new JsonArray(r.tags()));
    if (r.type() != null) o.put("type", r.type());
    if (r.stale()) o.put("stale", true);
    if (r.lease() != null) o.put("lease", r.lease());
    if (r.refreshAhead()) o.put("refreshAhead", true);
    return o;
  }

  private void multiGet(RoutingContext ctx) {
    List<String> keys = Requests.multiGetKeys(ctx.queryParams().get("keys"));
    this.<MultiGetResult>ask(ctx, Addresses.CACHE_MULTI_GET, new MultiGetQuery(keys), r -> {
      JsonObject entries = new JsonObject();
      for (GetResult g : r.entries()) entries.put(g.key(), g.found() ? entry(g) : null);
      return new JsonObject().put("entries", entries);
    });
  }

  private void suggestions(RoutingContext ctx) {
    String key = ctx.pathParam("key");
    Requests.checkName("key", key);
    this.<SuggestResult>ask(ctx, Addresses.CACHE_SUGGEST, new SuggestQuery(key, config.cache().coAccessKeep()), r -> {
      JsonArray list = new JsonArray();
      r.suggestions().forEach(sg -> list.add(new JsonObject().put("key", sg.key()).put("score", sg.score())));
      return new JsonObject().put("key", key).put("suggestions", list);
    });
  }

  private void touch(RoutingContext ctx) {
    String key = ctx.pathParam("key");
    Requests.checkName("key", key);
    JsonObject body = hasBody(ctx) ? jsonBody(ctx) : null;
    this.<TouchResult>ask(ctx, Addresses.CACHE_TOUCH, new TouchCommand(key, Requests.touchTtl(body, config)),
        r -> new JsonObject().put("key", r.key()).put("ttl", r.ttlSeconds()));
  }

  private void meta(RoutingContext ctx) {
    String key = ctx.pathParam("key");
    Requests.checkName("key", key);
    this.<MetaResult>ask(ctx, Addresses.CACHE_META, new MetaQuery(key), r -> new JsonObject()
        .put("key", r.key()).put("version", r.version()).put("ttl", r.ttlSeconds()).put("tags", new JsonArray(r.tags()))
        .put("dependsOn", new JsonArray(r.dependsOn())).put("dependents", new JsonArray(r.dependents())));
  }

  private void delete(RoutingContext ctx) {
    String key = ctx.pathParam("key");
    Requests.checkName("key", key);
    String cascade = ctx.queryParams().get("cascade");
    if (cascade != null && !cascade.equals("true") && !cascade.equals("false")) {
      throw ApiError.badRequest("cascade must be true or false");
    }
    invalidate(ctx, new Invalidation(new Targets(List.of(key), List.of(), List.of()), !"false".equals(cascade),
        Requests.soft(ctx.queryParams().get("mode")), Cause.api(null)));
  }

  private void invalidations(RoutingContext ctx) {
    invalidate(ctx, Requests.invalidation(jsonBody(ctx)));
  }

  private void event(RoutingContext ctx) {
    String name = ctx.pathParam("name");
    InvalidationRule rule = config.events().get(name);
    if (rule == null) throw new ApiError(ErrorCode.UNKNOWN_EVENT, "no event '" + name + "' is configured");
    invalidate(ctx, Requests.event(name, rule, jsonBody(ctx)));
  }

  /** The invalidation, or with {@code ?dryRun=true} what it would reach, nothing changed. */
  private void invalidate(RoutingContext ctx, Invalidation inv) {
    if (Requests.flag(ctx.queryParams().get("dryRun"), "dryRun")) {
      this.<PreviewResult>ask(ctx, Addresses.CACHE_PREVIEW, new PreviewQuery(inv), r -> {
        JsonObject b = new JsonObject().put("invalidated", new JsonArray(r.invalidated())).put("tags", new JsonArray(r.tags()))
            .put("prefixes", new JsonArray(r.prefixes())).put("dryRun", true);
        if (r.cascadeTruncated()) b.put("cascadeTruncated", true).put("maxCascade", config.cache().maxCascade());
        return b;
      });
      return;
    }
    this.<InvalidateResult>ask(ctx, Addresses.CACHE_INVALIDATE, new InvalidateCommand(List.of(inv)), r -> {
      Outcome o = r.outcomes().get(0);
      JsonObject b = new JsonObject().put("invalidated", new JsonArray(o.invalidated())).put("notice", o.noticeId());
      if (o.cascadeTruncated()) b.put("cascadeTruncated", true).put("maxCascade", config.cache().maxCascade());
      return b;
    });
  }

  /** The last notices of the history, as the stream sent them, oldest first; {@code key} or {@code tag} filters. */
  private void notices(RoutingContext ctx) {
    int limit = Requests.limit(ctx.queryParams().get("limit"), 50, 1000);
    String key = ctx.queryParams().get("key");
    String tag = ctx.queryParams().get("tag");
    if (key != null) Requests.checkName("key", key);
    if (tag != null) Requests.checkName("tag", tag);
    this.<RecentResult>ask(ctx, Addresses.NOTICE_RECENT, new RecentQuery(limit, key, tag, RECENT_SCAN), r -> {
      JsonArray out = new JsonArray();
      for (Notice n : r.notices()) out.add(new JsonObject(Frames.invalidate(n, n.keys(), n.tags(), n.prefixes())));
      JsonObject b = new JsonObject().put("notices", out);
      if (key != null || tag != null) b.put("scanned", r.scanned());
      return b;
    });
  }

  /** The live instances with their figures and streamed positions. */
  private void instances(RoutingContext ctx) {
    this.<JsonArray>ask(ctx, Addresses.INSTANCES, "", list -> new JsonObject().put("instances", list));
  }

  /** This instance's last ten minutes: notices per step and the capture backlog, for the dashboard's charts. */
  private void series(RoutingContext ctx) {
    var s = series.snapshot();
    send(ctx, 200, new JsonObject().put("stepMs", s.stepMs()).put("end", s.endMs())
        .put("notices", new JsonArray(s.notices()))
        .put("capture", new JsonObject().put("figure", s.captureFigure()).put("values", new JsonArray(s.capture()))));
  }

  /** What a table's rule would invalidate for a row change: the rule applied, nothing invalidated. */
  private void evaluate(RoutingContext ctx) {
    String table = ctx.pathParam("table");
    InvalidationRule rule = config.capture().tables().get(table);
    if (rule == null) {
      throw new ApiError(ErrorCode.UNKNOWN_TABLE, "no rule for table '" + table + "' (capture.tables: "
          + String.join(", ", config.capture().tables().keySet()) + ")");
    }
    Requests.RowChange change = Requests.rowChange(table, rule, jsonBody(ctx));
    Invalidation inv = new ChangeMapper(config.capture().tables()).map(table, change.op(), change.oldRow(), change.newRow());
    Targets t = inv == null ? Targets.EMPTY : inv.targets();
    send(ctx, 200, new JsonObject().put("table", table).put("op", change.op())
        .put("keys", new JsonArray(t.keys())).put("tags", new JsonArray(t.tags())).put("prefixes", new JsonArray(t.prefixes()))
        .put("mode", rule.soft() ? "soft" : "hard"));
  }

  private void tag(RoutingContext ctx) {
    String tag = ctx.pathParam("tag");
    Requests.checkName("tag", tag);
    this.<TagResult>ask(ctx, Addresses.CACHE_TAG, new TagQuery(tag),
        r -> new JsonObject().put("tag", r.tag()).put("keys", new JsonArray(r.keys())));
  }

  private void stats(RoutingContext ctx) {
    Future<JsonObject> adaptive = vertx.eventBus().<CacheStats>request(Addresses.CACHE_STATS, new StatsQuery(), bus)
        .map(m -> m.body().adaptive()).otherwise(err -> new JsonObject().put("error", String.valueOf(err.getMessage())));
    Future<Health> capture = askHealth(Addresses.CAPTURE_HEALTH, "postgres");
    Future.join(adaptive, capture).onComplete(ar -> statsAnswer(ctx, adaptive, capture));
  }

  private void statsAnswer(RoutingContext ctx, Future<JsonObject> adaptive, Future<Health> capture) {
    // read when the answer is written, as the other parts
    GatewayMetrics.Counts c = metrics.counts();
    StreamStats.Snapshot stream = streamStats.snapshot();
    send(ctx, 200, new JsonObject()
        .put("adaptive", adaptive.result())
        .put("instance", config.instanceId())
        .put("leader", captureStats.snapshot().leader())
        .put("hits", c.hits())
        .put("misses", c.misses())
        .put("sets", c.sets())
        .put("invalidations", c.invalidations())
        .put("notices", c.notices())
        .put("clients", stream.clients())
        .put("connections", stream.connections())
        .put("subscriptions", stream.subscriptions())
        .put("causes", new JsonObject(new java.util.LinkedHashMap<>(c.invalidationsByCause())))
        .put("framesSent", c.framesSent())
        .put("slowClientsDropped", c.slowClientsDropped())
        .put("rejected", new JsonObject(new java.util.LinkedHashMap<>(c.rejectedByReason())))
        .put("capture", capture.result().details().put("up", capture.result().up())
            .put("rows", c.captureRows())
            .put("badPayloads", c.badPayloads())
            .put("reconnects", c.reconnects())));
  }

  /** Mints a stream token (admin scope) for a backend to hand to its browser. */
  private void token(RoutingContext ctx) {
    if (!guards.tokens().canSign()) {
      throw new ApiError(ErrorCode.TOKENS_DISABLED, "minting stream tokens needs auth.jwt.secretEnv to name an environment variable holding the secret"
          + (guards.tokens().enabled() ? "; tokens from the identity provider are accepted, but this gateway signs none" : ""));
    }
    JsonObject body = jsonBody(ctx);
    JsonObject cg = Requests.tokenClaim(body);
    long ttl = Requests.tokenTtl(body, config.auth().jwtMaxTtl());
    long nowMs = System.currentTimeMillis();
    // exp counts whole seconds: round it up so that a token lives at least the ttl it was asked for
    long exp = (nowMs + ttl * 1000 + 999) / 1000;
    String token = guards.tokens().sign(new JsonObject().put("iat", nowMs / 1000).put("exp", exp).put("cg", cg));
    send(ctx, 200, new JsonObject().put("token", token).put("expiresAt", exp).put("cg", cg));
  }

  /** The active rules: watched tables, events and strategies, with their templates. */
  private void rules(RoutingContext ctx) {
    JsonObject tables = new JsonObject();
    config.capture().tables().forEach((name, r) -> tables.put(name, rule(r)));
    JsonObject events = new JsonObject();
    config.events().forEach((name, r) -> events.put(name, rule(r)));
    JsonObject strategies = new JsonObject();
    config.strategies().forEach((name, st) -> strategies.put(name, new JsonObject().put("ttl", st.ttl())
        .put("tags", new JsonArray(st.tags().stream().map(Object::toString).toList()))
        .put("dependsOn", new JsonArray(st.dependsOn().stream().map(Object::toString).toList()))
        .put("adaptive", st.adaptive())));
    send(ctx, 200, new JsonObject().put("tables", tables).put("events", events).put("strategies", strategies)
        .put("channels", new JsonArray(config.postgres().channels())));
  }

  private static JsonObject rule(InvalidationRule r) {
    return new JsonObject()
        .put("keys", new JsonArray(r.keys().stream().map(Object::toString).toList()))
        .put("tags", new JsonArray(r.tags().stream().map(Object::toString).toList()))
        .put("prefixes", new JsonArray(r.prefixes().stream().map(Object::toString).toList()))
        .put("mode", r.soft() ? "soft" : "hard");
  }

  private void health(RoutingContext ctx) {
    Future<Health> redis = askHealth(Addresses.CACHE_HEALTH, "redis");
    Future<Health> pg = config.capture().enabled()
        ? askHealth(Addresses.CAPTURE_HEALTH, "postgres")
        : Future.succeededFuture(new Health("postgres", true, new JsonObject().put("capture", "disabled")));
    Future.join(redis, pg).onComplete(ar -> {
      boolean up = redis.result().up() && pg.result().up();
      JsonObject body = new JsonObject().put("status", up ? "UP" : "DOWN")
          .put("instance", config.instanceId())
          .put("leader", captureStats.snapshot().leader())
          .put("redis", redis.result().details().put("up", redis.result().up()))
          .put("postgres", pg.result().details().put("up", pg.result().up()));
      var jwks = guards.tokens().jwksStatus();
      if (jwks != null) body.put("jwks", jwksHealth(jwks));
      send(ctx, up ? 200 : 503, body);
    });
  }

  /**
   * The identity provider's key set: not part of readiness (API keys, HS256 tokens and open sockets
   * work without it), but a JWKS that cannot be fetched is said here, with the last good set's age.
   */
  static JsonObject jwksHealth(io.cachegate.auth.TokenVerifier.JwksStatus s) {
    JsonObject o = new JsonObject().put("up", s.up()).put("url", s.url()).put("keys", s.keyCount())
        .put("fetchedAt", s.fetchedAtMs() > 0 ? s.fetchedAtMs() : null);
    if (s.error() != null) o.put("error", s.error()).put("attemptedAt", s.attemptedAtMs() > 0 ? s.attemptedAtMs() : null);
    return o;
  }

  private Future<Health> askHealth(String address, String component) {
    return vertx.eventBus().<Health>request(address, "", bus).map(m -> m.body())
        .otherwise(err -> new Health(component, false, new JsonObject().put("error", String.valueOf(err.getMessage()))));
  }

  // ---- plumbing ----

  private <R> void ask(RoutingContext ctx, String address, Object cmd, Function<R, JsonObject> reply) {
    this.<R>request(address, cmd)
        .onSuccess(r -> send(ctx, 200, reply.apply(r)))
        .onFailure(err -> fail(ctx, err));
  }

  /** A request to {@code address}: to the cache instance on this event loop when it serves it, else over the bus. */
  private <R> Future<R> request(String address, Object cmd) {
    if (local != null && local.serves(address)) return local.call(address, cmd);
    return vertx.eventBus().<R>request(address, cmd, bus).map(Message::body);
  }

  private static boolean hasBody(RoutingContext ctx) {
    var b = ctx.body();
    return b != null && b.buffer() != null && b.length() > 0;
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    if (!hasBody(ctx)) throw ApiError.badRequest("a JSON object body is required");
    try {
      Object v = Json.decodeValue(ctx.body().buffer());
      if (v instanceof JsonObject o) return o;
    } catch (DecodeException e) {
      throw ApiError.badRequest("the body is not valid JSON: " + firstLine(e.getMessage()));
    }
    throw ApiError.badRequest("the body must be a JSON object");
  }

  private void fail(RoutingContext ctx, Throwable err) {
    ApiError e;
    if (err instanceof ApiError a) {
      e = a;
    } else {
      ErrorCode f = ErrorCode.ofReply(err);
      e = new ApiError(f, err.getMessage() == null ? f.defaultMessage : err.getMessage());
      if (f == ErrorCode.UNAVAILABLE) log.warn("{} {}: {}", ctx.request().method(), ctx.request().path(), err.getMessage());
    }
    if (e.status == 500) log.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), err);
    if (e.status < 500) metrics.rejected(e.code);
    if (e.status == 503 || e.status == 429) ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
    JsonObject body = error(e.code, e.getMessage());
    if (e.reason != null) body.put("reason", e.reason);
    if (e.status == 401) ctx.response().putHeader("WWW-Authenticate", "Bearer");
    send(ctx, e.status, body);
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) return;
    ctx.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
    end(ctx, body.encode());
  }

  /**
   * Ends the response with a body, or for a HEAD with its length only: Vert.x leaves the body of a
   * HEAD answer on HTTP/2 (h2c) connections to the handler.
   */
  static void end(RoutingContext ctx, String body) {
    if (ctx.request().method() == HttpMethod.HEAD) {
      ctx.response().putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)).end();
    } else {
      ctx.response().end(body);
    }
  }

  private static JsonObject error(String code, String message) {
    return new JsonObject().put("error", code).put("message", message);
  }

  /** An error of the router itself (no route, wrong method, body too large, ...), its status kept. */
  private ApiError httpError(int status, String more) {
    ErrorCode e = ErrorCode.forStatus(status);
    String message = switch (e) {
      case BODY_TOO_LARGE -> "the body is larger than http.maxBodyBytes (" + config.http().maxBodyBytes() + " bytes)";
      case NOT_FOUND, METHOD_NOT_ALLOWED, EXPECTATION_FAILED, INTERNAL -> e.defaultMessage;
      default -> "request refused";
    };
    return new ApiError(status, e, message + more);
  }

  static String etag(String version) {
    return "\"" + version + "\"";
  }

  /** If-None-Match: a list of (optionally weak) entity tags, or *. */
  static boolean matches(String ifNoneMatch, String version) {
    for (String part : ifNoneMatch.split(",")) {
      String t = part.trim();
      if (t.equals("*")) return true;
      if (t.startsWith("W/")) t = t.substring(2);
      if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) t = t.substring(1, t.length() - 1);
      if (t.equals(version)) return true;
    }
    return false;
  }

  private static Object decode(String valueJson) {
    try {
      return Json.decodeValue(valueJson);
    } catch (DecodeException e) {
      return valueJson; // written by someone else straight into Redis: hand it back as text
    }
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
