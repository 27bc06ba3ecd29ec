package io.cachegate.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Deployable;
import io.vertx.core.Vertx;

import java.util.function.Supplier;

/** The start-up of the benchmark's bare servers: one verticle per core, a line once they listen, exit 1 if they cannot. */
final class PerCore {

  private PerCore() {}

  static void deploy(Supplier<? extends Deployable> verticle, String readyLine) {
    Vertx.vertx().deployVerticle(verticle, new DeploymentOptions().setInstances(Runtime.getRuntime().availableProcessors()))
        .onSuccess(id -> System.out.println(readyLine))
        .onFailure(err -> {
          err.printStackTrace();
          System.exit(1);
        });
  }
}
