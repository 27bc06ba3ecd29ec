package io.cachegate.testing;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Redis of a test's own, for tests that stop and restart it. With {@code persistent}, it keeps its
 * data across a restart (append-only file, fsync always), like a production Redis; without, it comes
 * back empty, like a cache that lost everything.
 */
public final class TestRedis implements AutoCloseable {

  private final RedisServer server;
  public final int port;
  private final Path dir;

  public TestRedis(boolean persistent) {
    try {
      dir = Files.createTempDirectory("cachegate-redis");
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      var b = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("dir " + dir).setting("save \"\"");
      if (persistent) b.setting("appendonly yes").setting("appendfsync always");
      else b.setting("appendonly no");
      server = b.build();
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public void stop() {
    try {
      server.stop();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void start() {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (server.isActive()) stop();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
