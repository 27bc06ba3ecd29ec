package io.cachegate.api;

import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The routes {@link RestApi} registers, the demo's included, as {@code "METHOD /path/{param}"} in
 * OpenAPI's path syntax: for the test that every one of them is in openapi.json. In this package
 * because {@link RestApi#mountDemo} and {@link DemoApi} are package-private.
 */
public final class RestRoutes {

  private RestRoutes() {}

  public static Set<String> of(Vertx vertx, GatewayConfig config, GatewayMetrics metrics) {
    Router router = Router.router(vertx);
    RestApi api = new RestApi(vertx, config, metrics, Guards.from(config), new io.cachegate.capture.CaptureStats(),
        new io.cachegate.stream.StreamStats(), new io.cachegate.metrics.StatsSeries(5_000, 1), null);
    api.mount(router);
    DemoApi demo = new DemoApi(vertx, config.postgres().url()); // its pool connects only when used
    try {
      api.mountDemo(router, demo);
    } finally {
      demo.close();
    }
    Set<String> out = new TreeSet<>();
    for (Route r : router.getRoutes()) {
      if (r.getPath() == null || r.methods() == null) continue;
      String path = Arrays.stream(r.getPath().split("/", -1))
          .map(seg -> seg.startsWith(":") ? "{" + seg.substring(1) + "}" : seg)
          .collect(Collectors.joining("/"));
      for (HttpMethod m : r.methods()) out.add(m.name() + " " + path);
    }
    return out;
  }
}
