package io.cachegate.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A real PostgreSQL and a real Redis started as child processes on free loopback ports: the default
 * mode of the gateway, and the servers the tests run against. {@link #close()} stops both, and a JVM
 * shutdown hook does too, so no server outlives the process that started it.
 */
public final class EmbeddedServices implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedServices.class);

  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;
  private final Thread hook;

  private EmbeddedServices(EmbeddedPostgres postgres, RedisServer redis, int redisPort, boolean hook) {
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
    this.hook = hook ? new Thread(this::stopQuietly, "cachegate-embedded-stop") : null;
    if (hook) Runtime.getRuntime().addShutdownHook(this.hook);
  }

  /**
   * Starts both servers. With {@code stopOnExit}, a JVM shutdown hook stops them; without, the caller
   * must call {@link #close()} (Main does, after the gateway has stopped, so the order is right).
   */
  public static EmbeddedServices start(boolean stopOnExit) throws IOException {
    EmbeddedPostgres pg = postgresBuilder().start();
    int port = freePort();
    RedisServer redis;
    try {
      redis = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
          .setting("save \"\"").setting("appendonly no").onShutdownForceStop(false).build();
      redis.start();
    } catch (IOException | RuntimeException e) {
      pg.close();
      throw e;
    }
    return new EmbeddedServices(pg, redis, port, stopOnExit);
  }

  /**
   * The embedded PostgreSQL as the gateway runs it (loopback only, durable commits, stopped by the
   * caller): the version is the binaries' on the class path (18, from the BOM in pom.xml).
   */
  public static EmbeddedPostgres.Builder postgresBuilder() {
    return EmbeddedPostgres.builder()
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("max_connections", "200")
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on") // the library turns it off; keep commits durable
        // both capture modes run on it: capture.mode wal reads a logical replication slot
        .setServerConfig("wal_level", "logical")
        .setServerConfig("max_replication_slots", "100")
        .setServerConfig("max_wal_senders", "100")
        .setRegisterShutdownHook(false); // our own hook stops it, after the gateway
  }

  public String postgresUrl() {
    return "postgresql://127.0.0.1:" + postgres.getPort() + "/postgres?user=postgres";
  }

  public String redisUrl() {
    return "redis://127.0.0.1:" + redisPort;
  }

  public int redisPort() {
    return redisPort;
  }

  public int postgresPort() {
    return postgres.getPort();
  }

  /** Stops Redis only (failure tests); {@link #startRedis()} brings it back on the same port, empty. */
  public void stopRedis() throws IOException {
    redis.stop();
  }

  public void startRedis() throws IOException {
    redis.start();
  }

  @Override
  public void close() {
    stopQuietly();
    if (hook == null) return;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down
    }
  }

  private synchronized void stopQuietly() {
    try {
      if (redis.isActive()) redis.stop();
    } catch (IOException | RuntimeException e) {
      log.warn("stopping embedded Redis: {}", e.getMessage());
    }
    try {
      postgres.close();
    } catch (IOException | RuntimeException e) {
      log.warn("stopping embedded PostgreSQL: {}", e.getMessage());
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
