package io.cachegate.api;

import io.cachegate.config.GatewayConfig;
import io.cachegate.config.GatewayConfig.Scope;
import io.cachegate.metrics.GatewayMetrics;
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
  private StreamHub hub;
  private HttpServer server;
  private DemoApi demo;

  public HttpVerticle(GatewayConfig config, GatewayMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    ApiAuth auth = new ApiAuth(config.auth());
    RestApi api = new RestApi(vertx, config, metrics, auth);
    hub = new StreamHub(vertx, config.stream(), metrics);
    Router router = Router.router(vertx);
    router.get("/v1/stream").handler(ctx -> stream(ctx, auth));
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
        .setTcpNoDelay(true);
    return hub.start()
        .compose(v -> vertx.createHttpServer(options).requestHandler(router).listen())
        .onSuccess(s -> server = s);
  }

  /** Closes this instance's sockets with 1001 (going away), then the listener. */
  @Override
  public Future<?> stop() {
    return hub.stop().transform(ar -> server == null ? Future.succeededFuture() : server.close())
        .transform(ar -> demo == null ? Future.succeededFuture() : demo.close());
  }

  public int actualPort() {
    return server.actualPort();
  }

  private void stream(RoutingContext ctx, ApiAuth auth) {
    if (!ctx.request().canUpgradeToWebSocket()) {
      throw new ApiError(400, "websocket_required", "GET /v1/stream expects a WebSocket upgrade");
    }
    if (auth.enabled()) {
      String token = ctx.queryParams().get("token");
      String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
      auth.require(token != null ? "Bearer " + token : header, Scope.READ);
    }
    ctx.request().toWebSocket().onSuccess(hub::accept)
        .onFailure(err -> LoggerFactory.getLogger(HttpVerticle.class).debug("WebSocket upgrade failed: {}", err.toString()));
  }
}
