package io.cachegate;

import io.cachegate.config.ConfigException;
import io.cachegate.config.ConfigLoader;
import io.cachegate.capture.wal.SlotTool;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.PostgresUrl;
import io.cachegate.embedded.EmbeddedServices;
import io.cachegate.support.ConnectionErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code java -jar cachegate.jar [-c FILE]}: reads and validates the configuration (stopping with the
 * bad key named), starts the embedded PostgreSQL and Redis when no URLs are given, starts the gateway,
 * and on SIGTERM stops it in order: sockets closed with 1001, in-flight invalidations finished,
 * embedded servers stopped last.
 */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    Path file = ConfigLoader.DEFAULT_FILE;
    boolean dropSlot = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-c", "--config" -> {
          if (i + 1 >= args.length) usage("-c needs a file");
          file = Path.of(args[++i]);
        }
        case "--drop-slot" -> dropSlot = true;
        case "-h", "--help" -> {
          System.out.println(USAGE);
          return;
        }
        default -> usage("unknown argument " + args[i]);
      }
    }
    GatewayConfig config;
    try {
      config = ConfigLoader.load(file, System.getenv());
    } catch (ConfigException e) {
      System.err.println("cachegate: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }

    if (dropSlot) {
      System.exit(dropSlot(config));
      return;
    }

    EmbeddedServices embedded = null;
    AtomicReference<Gateway> running = new AtomicReference<>();
    try {
      if (config.embedded()) {
        embedded = EmbeddedServices.start(false);
        EmbeddedServices toStop = embedded;
        long grace = config.shutdownGraceMs();
        // one hook, registered before anything runs, stops the gateway first and the servers last
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(running.get(), toStop, grace), "cachegate-shutdown"));
        System.out.println("cachegate embedded postgres at " + embedded.postgresUrl());
        System.out.println("cachegate embedded redis at " + embedded.redisUrl());
        config = config.withUrls(embedded.redisUrl(), embedded.postgresUrl());
      }
      boolean demo = embedded != null && config.demoSchema();
      Gateway gateway = Gateway.start(config, demo).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
      String host = config.http().host().equals("0.0.0.0") || config.http().host().equals("::") ? "127.0.0.1" : config.http().host();
      System.out.println("cachegate listening on http://" + host + ":" + gateway.port());
      System.out.flush();
      running.set(gateway);
      if (embedded == null) {
        long grace = config.shutdownGraceMs();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(running.get(), null, grace), "cachegate-shutdown"));
      }
    } catch (ExecutionException e) {
      fail(e.getCause());
    } catch (Exception e) {
      fail(e);
    }
  }

  private static void shutdown(Gateway gateway, EmbeddedServices embedded, long graceMs) {
    if (gateway != null) stopGateway(gateway, graceMs);
    if (embedded != null) embedded.close();
    log.info("stopped");
  }

  private static void stopGateway(Gateway gateway, long graceMs) {
    log.info("stopping: closing sockets, finishing in-flight invalidations");
    try {
      gateway.stop().toCompletionStage().toCompletableFuture().get(graceMs + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("gateway did not stop cleanly: {}", e.toString());
    }
  }

  private static void fail(Throwable e) {
    // a refused connection (ConnectionErrors.Refused) is one sentence already: no stack trace for it
    String msg = e instanceof ConfigException ? "configuration error: " + e.getMessage()
        : e instanceof ConnectionErrors.Refused ? "cannot start: " + e.getMessage() : "cannot start: " + e;
    System.err.println("cachegate: " + ConnectionErrors.redact(msg));
    if (e instanceof ConnectionErrors.Refused) log.debug("start-up failed", e);
    else if (!(e instanceof ConfigException)) log.error("start-up failed", e);
    System.exit(e instanceof ConfigException ? 2 : 1); // the shutdown hook stops the embedded servers
  }

  /** Drops {@code capture.wal.slot} on {@code postgres.url}; the exit status. */
  private static int dropSlot(GatewayConfig config) {
    if (config.postgres().embedded()) {
      System.err.println("cachegate: --drop-slot needs postgres.url (the embedded PostgreSQL's slot goes with it)");
      return 2;
    }
    PostgresUrl url = config.postgres().parsed();
    try {
      SlotTool.Outcome o = SlotTool.drop(url, config.capture().walSlot());
      (o.dropped() ? System.out : System.err).println("cachegate: " + o.message());
      return o.dropped() ? 0 : 1;
    } catch (java.sql.SQLException e) {
      System.err.println("cachegate: " + ConnectionErrors.redact(ConnectionErrors.explain(url.endpoint(), e)));
      return 1;
    }
  }

  private static final String USAGE = "usage: java -jar cachegate.jar [-c config/gateway.yaml] [--drop-slot]\n"
      + "  --drop-slot  drop the replication slot capture.wal.slot (it stops keeping WAL) and exit";

  private static void usage(String problem) {
    System.err.println("cachegate: " + problem + "\n" + USAGE);
    System.exit(2);
  }
}
