package io.cachegate;

import io.cachegate.api.Guards;
import io.cachegate.api.HttpVerticle;
import io.cachegate.auth.JwksVerticle;
import io.cachegate.bus.LocalCodec;
import io.cachegate.cache.AdaptiveTtl;
import io.cachegate.cache.CacheVerticle;
import io.cachegate.cache.ClusterNodes;
import io.cachegate.cache.InstancesVerticle;
import io.cachegate.cache.NoticeTailVerticle;
import io.cachegate.capture.CaptureStats;
import io.cachegate.capture.CaptureVerticle;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.PostgresUrl;
import io.cachegate.embedded.DemoSchema;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.metrics.StatsSeries;
import io.cachegate.stream.StreamStats;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * One running gateway: its Vert.x instance and verticles, deployed in dependency order (Redis, the
 * notice tail, capture, HTTP) and undeployed in the reverse order, so that on a stop the sockets
 * close first (1001), the capture finishes its drain, and the cache finishes what is in flight.
 * Used by {@link Main} and by the tests, which run several gateways in one JVM.
 */
public final class Gateway {

  private final Vertx vertx;
  private final GatewayMetrics metrics;
  private final CaptureStats captureStats;
  private final StreamStats streamStats;
  private final GatewayConfig config;
  private final Deque<String> deployments = new ArrayDeque<>();
  private final Guards guards;
  private final ClusterNodes clusterNodes;
  private final StatsSeries series;
  private int port;

  private final AdaptiveTtl adaptive;

  private Gateway(Vertx vertx, GatewayMetrics metrics, GatewayConfig config) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.config = config;
    this.captureStats = new CaptureStats().register(metrics.meterRegistry());
    this.streamStats = new StreamStats().register(metrics.meterRegistry());
    this.guards = Guards.from(config);
    this.clusterNodes = new ClusterNodes(config.redis().url());
    // one set of adaptive-TTL counters for every cache instance (the bus's and those the HTTP verticles host)
    this.adaptive = new AdaptiveTtl(config.cache().adaptive(), config.cache().maxTtl(), System::currentTimeMillis);
    // ten minutes at the default interval
    this.series = new StatsSeries(config.reportIntervalMs(), (int) Math.max(10, 600_000 / config.reportIntervalMs()));
  }

  /** The Redis Cluster nodes this gateway has seen (with redis.mode: cluster). */
  public ClusterNodes clusterNodes() {
    return clusterNodes;
  }

  /** Starts a gateway on the service URLs in {@code config}; {@code demo} first creates the demo tables. */
  public static Future<Gateway> start(GatewayConfig config, boolean demo) {
    GatewayMetrics metrics = new GatewayMetrics();
    // Vert.x's own series cost CPU on every request and bus message (docs/performance.md): metrics.vertx
    Vertx vertx = config.vertxMetrics()
        ? Vertx.builder()
            .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)))
            .withMetrics(new MicrometerMetricsFactory(metrics.meterRegistry()))
            .build()
        : Vertx.vertx();
    LocalCodec.registerAll(vertx);
    Gateway g = new Gateway(vertx, metrics, config);
    return (demo ? g.createDemoSchema() : Future.<Void>succeededFuture())
        .compose(v -> g.deployCache())
        .compose(v -> g.deploy(() -> new NoticeTailVerticle(config, metrics, g.clusterNodes), 1))
        .compose(v -> config.capture().enabled() ? g.deploy(() -> new CaptureVerticle(config, metrics, g.captureStats), 1) : Future.succeededFuture())
        .compose(v -> g.deploy(() -> new InstancesVerticle(config, metrics, g.captureStats, g.streamStats, g.series, g.clusterNodes), 1))
        .compose(v -> config.auth().jwksUrl().isEmpty() ? Future.<Void>succeededFuture()
            : g.deploy(() -> new JwksVerticle(g.guards.tokens(), metrics, config.auth().jwksCaFile(),
                config.auth().jwksRefreshSeconds(), config.auth().jwksMinRefreshSeconds()), 1))
        .compose(v -> g.deployHttp())
        .map(g)
        .recover(err -> {
          vertx.close(); // not awaited: its completion would run on the event loops it shuts down
          return Future.failedFuture(err);
        });
  }

  private Future<Void> deployCache() {
    int instances = config.cache().instances() > 0 ? config.cache().instances() : Math.max(1, Runtime.getRuntime().availableProcessors());
    java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
    return deploy(() -> new CacheVerticle(config, metrics, adaptive, made.getAndIncrement() == 0, clusterNodes), instances);
  }

  private Future<Void> createDemoSchema() {
    PostgresUrl url = config.postgres().parsed();
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1).setName("cachegate-demo"))
        .connectingTo(url.connectOptions()).using(vertx).build();
    return DemoSchema.create(pool).eventually(pool::close)
        .recover(err -> Future.failedFuture(ConnectionErrors.refused(url.endpoint(), err)));
  }

  private Future<Void> deploy(Supplier<io.vertx.core.Deployable> verticle, int instances) {
    return vertx.deployVerticle(verticle, new DeploymentOptions().setInstances(instances))
        .onSuccess(deployments::push).mapEmpty();
  }

  /**
   * HTTP instances share one listening socket (Vert.x server sharing). Vert.x does not share a port-0
   * bind between instances, so for {@code http.port: 0} a free port is chosen first; should another
   * process take it in between, the bind fails and another port is tried.
   */
  private Future<Void> deployHttp() {
    int instances = config.http().instances() > 0 ? config.http().instances() : Math.max(1, Runtime.getRuntime().availableProcessors());
    return deployHttp(instances, 3);
  }

  private Future<Void> deployHttp(int instances, int triesLeft) {
    int wanted = config.http().port();
    int chosen;
    try {
      chosen = wanted != 0 ? wanted : freePort(config.http().host());
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    GatewayConfig bound = config.withPort(chosen);
    // each HTTP verticle hosts a cache instance of its own on its event loop, which its REST handlers ask directly
    return vertx.deployVerticle(() -> new HttpVerticle(bound, metrics, guards, captureStats, streamStats, series,
            () -> new CacheVerticle(config, metrics, adaptive, false, clusterNodes, false)), new DeploymentOptions().setInstances(instances))
        .map(id -> {
          deployments.push(id);
          port = chosen;
          return (Void) null;
        })
        .recover(err -> wanted == 0 && triesLeft > 1 && err instanceof BindException
            ? deployHttp(instances, triesLeft - 1) : Future.failedFuture(err));
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public GatewayMetrics metrics() {
    return metrics;
  }

  /** Whether this instance leads, the outbox figures: as /health and /v1/stats show them. */
  public CaptureStats.Snapshot capture() {
    return captureStats.snapshot();
  }

  /** This instance's stream clients, connections and subscriptions. */
  public StreamStats.Snapshot stream() {
    return streamStats.snapshot();
  }

  public GatewayConfig config() {
    return config;
  }

  /** Undeploys in reverse order, then closes Vert.x. */
  public Future<Void> stop() {
    Future<Void> chain = Future.succeededFuture();
    List<String> ids = new ArrayList<>(deployments);
    deployments.clear();
    for (String id : ids) chain = chain.transform(ar -> vertx.undeploy(id));
    return chain.transform(ar -> vertx.close());
  }
}
