package io.cachegate.api;

import io.cachegate.bus.Hosted;
import io.cachegate.model.ErrorCode;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.GatewayConfig.Scope;
import io.cachegate.capture.CaptureStats;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.stream.StreamStats;
import io.cachegate.auth.StreamGrant;
import io.cachegate.stream.StreamHub;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.LoggerFactory;

/**
 * The HTTP boundary: one server for the REST control plane, the WebSocket stream and the dashboard,
 * since they share a port. Several instances may run (one per event loop, {@code http.instances});
 * each owns its {@link StreamHub} and so its own sockets and subscription index.
 */
public final class HttpVerticle extends VerticleBase {

  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final Guards guards;
  private final CaptureStats captureStats;
  private final StreamStats streamStats;
  private final io.cachegate.metrics.StatsSeries series;
  private final java.util.function.Supplier<Hosted> cacheFactory;
  private Hosted cache;
  private StreamHub hub;
  private HttpServer server;
  private DemoApi demo;

  /** {@code cache} makes the cache instance this verticle hosts on its event loop, asked directly by the REST handlers. */
  public HttpVerticle(GatewayConfig config, GatewayMetrics metrics, Guards guards, CaptureStats captureStats, StreamStats streamStats,
                      io.cachegate.metrics.StatsSeries series, java.util.function.Supplier<Hosted> cache) {
    this.cacheFactory = cache;
    this.series = series;
    this.config = config;
    this.metrics = metrics;
    this.guards = guards;
    this.captureStats = captureStats;
    this.streamStats = streamStats;
  }

  @Override
  public Future<?> start() {
    cache = cacheFactory.get();
    RestApi api = new RestApi(vertx, config, metrics, guards, captureStats, streamStats, series, cache);
    hub = new StreamHub(vertx, config.stream(), config.limits(), metrics, streamStats);
    Router router = Router.router(vertx);
    router.get("/v1/stream").handler(this::stream);
    api.mount(router);
    if (config.demo()) {
      demo = new DemoApi(vertx, config.postgres().url());
      api.mountDemo(router, demo);
    }
    StaticHandler files = StaticHandler.create(config.http().webroot()).setCachingEnabled(false);
    // the dashboard: GET and HEAD outside the API paths, so those keep their own 404 and 405 answers
    router.routeWithRegex("^/(?!v1/|demo/|health$|metrics$).*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(files);
    api.mountErrors(router);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.http().host())
        .setPort(config.http().port())
        .setMaxWebSocketFrameSize(config.stream().maxFrameBytes())
        .setMaxWebSocketMessageSize(config.stream().maxFrameBytes())
        .setCompressionSupported(true)
        .setCompressionContentSizeThreshold(1024) // small JSON answers gain nothing from gzip but its CPU
        // permessage-deflate is off unless configured: every browser offers it, and it would give each
        // socket its own zlib context and compress every frame once per socket instead of sharing it
        .setPerMessageWebSocketCompressionSupported(config.stream().compression())
        .setPerFrameWebSocketCompressionSupported(config.stream().compression())
        .setSendBufferSize(config.stream().socketSendBufferBytes() > 0 ? config.stream().socketSendBufferBytes() : -1)
        // a connection with no traffic either way (no read, no completed write) is closed outright: an
        // idle keep-alive, or a stream client that stopped reading, which a WebSocket close cannot reach.
        // A request in progress is safe: its arrival was a read, and answers take seconds at most
        .setIdleTimeout((int) config.stream().stallTimeoutMs())
        .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
        .setTcpNoDelay(true);
    return cache.host(vertx, context)
        .compose(v -> hub.start())
        .compose(v -> vertx.createHttpServer(options).requestHandler(req -> {
          // Vert.x Web throws out of routing on a malformed %-escape and never answers: refuse it first
          if (!wellFormedEscapes(req.uri())) {
            metrics.rejected(ErrorCode.BAD_URI.code);
            req.response().setStatusCode(ErrorCode.BAD_URI.status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new io.vertx.core.json.JsonObject().put("error", ErrorCode.BAD_URI.code)
                    .put("message", ErrorCode.BAD_URI.defaultMessage).encode());
            return;
          }
          router.handle(req);
        }).listen())
        .onSuccess(s -> server = s);
  }

  /** Closes this instance's sockets with 1001 (going away), then the listener. */
  @Override
  public Future<?> stop() {
    return hub.stop().transform(ar -> server == null ? Future.succeededFuture() : server.close())
        .transform(ar -> demo == null ? Future.succeededFuture() : demo.close())
        .transform(ar -> cache.stop());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /**
   * The WebSocket handshake: origin, then who the client is and what it may subscribe to, then the
   * per-address socket limit. Refusals are HTTP answers (403, 401, 429), before any upgrade.
   */
  private void stream(RoutingContext ctx) {
    if (!ctx.request().canUpgradeToWebSocket()) {
      throw new ApiError(ErrorCode.WEBSOCKET_REQUIRED, "GET /v1/stream expects a WebSocket upgrade");
    }
    String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
    if (origin != null && !originAllowed(origin, ctx.request().getHeader(HttpHeaders.HOST))) {
      throw new ApiError(ErrorCode.ORIGIN_NOT_ALLOWED, "origin " + origin + " may not open the stream (stream.allowedOrigins)");
    }
    Future<StreamGrant> grant = authorize(ctx);
    if (grant.isComplete()) {
      grant.onSuccess(g -> upgrade(ctx, g)).onFailure(ctx::fail);
      return;
    }
    // a token whose key must first be fetched: the upgrade waits for the request's end, so hold it
    ctx.request().pause();
    grant.onSuccess(g -> upgrade(ctx, g)).onFailure(err -> {
      ctx.request().resume();
      ctx.fail(err);
    });
  }

  private void upgrade(RoutingContext ctx, StreamGrant grant) {
    String address = ctx.request().remoteAddress().hostAddress();
    if (!guards.sockets().acquire(address)) {
      ctx.request().resume(); // when it was held for a key fetch
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
      ctx.fail(new ApiError(ErrorCode.TOO_MANY_SOCKETS, "this address already has " + config.limits().maxSocketsPerAddress()
          + " open streams (stream.maxSocketsPerAddress)"));
      return;
    }
    ctx.request().toWebSocket()
        .onSuccess(ws -> hub.accept(ws, grant, () -> guards.sockets().release(address)))
        .onFailure(err -> {
          guards.sockets().release(address);
          LoggerFactory.getLogger(HttpVerticle.class).debug("WebSocket upgrade failed: {}", err.toString());
        });
  }

  /** Every '%' is followed by two hex digits. */
  static boolean wellFormedEscapes(String uri) {
    for (int i = 0; i < uri.length(); i++) {
      if (uri.charAt(i) == '%') {
        if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0 || Character.digit(uri.charAt(i + 2), 16) < 0) {
          return false;
        }
        i += 2;
      }
    }
    return true;
  }

  /** Same origin (the Origin's host and port are the Host header), or one listed in stream.allowedOrigins. */
  private boolean originAllowed(String origin, String host) {
    if (config.limits().allowedOrigins().contains(origin)) return true;
    try {
      String authority = java.net.URI.create(origin).getAuthority();
      return authority != null && host != null && authority.equalsIgnoreCase(host);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * An API key with the read scope (everything), a JWT (its scope claim, {@code auth.jwt.claim}), or
   * everything with auth off. Synchronous but for a token whose key must first be fetched.
   */
  private Future<StreamGrant> authorize(RoutingContext ctx) {
    if (!guards.auth().enabled()) return Future.succeededFuture(StreamGrant.ALL);
    String token = ctx.queryParams().get("token");
    if (token == null) token = ApiAuth.bearer(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(new ApiError(ErrorCode.UNAUTHORIZED, "the stream needs a token: ?token= or Authorization: Bearer"));
    }
    var key = guards.auth().identify(token);
    if (key != null) {
      if (!ApiAuth.permits(key, Scope.READ)) {
        return Future.failedFuture(new ApiError(ErrorCode.FORBIDDEN, "API key '" + key.name() + "' lacks the read scope"));
      }
      return Future.succeededFuture(StreamGrant.ALL);
    }
    if (!guards.tokens().enabled()) return Future.failedFuture(new ApiError(ErrorCode.UNAUTHORIZED, "unknown API key"));
    return TokenCheck.verify(vertx, guards.tokens(), metrics, token).map(guards.tokens()::grant);
  }
}
