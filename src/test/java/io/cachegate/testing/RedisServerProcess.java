package io.cachegate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A Redis server of the machine's own ({@code redis-server} on the PATH: Debian's is Redis 7), run as
 * a child process on a free loopback port with a config file the test writes. Ready when the server
 * says so on its log ("Ready to accept connections"); stopped by its pid, and by a shutdown hook if a
 * test forgets. The config lines may turn on TLS, ACL users, cluster mode: whatever the test needs.
 */
public final class RedisServerProcess implements AutoCloseable {

  /** The executable: {@code -Dcachegate.test.redisServer=/path}, else {@code redis-server} from the PATH. */
  public static final String EXECUTABLE = System.getProperty("cachegate.test.redisServer", "redis-server");

  public final int port;
  private final Path dir;
  private final Path configFile;
  private Process process;
  private final Thread hook = new Thread(this::kill, "redis-server-stop");

  /**
   * {@code port}: the port the lines should use ({@link #freePort()}), {@code lines}: config lines
   * besides {@code bind}, {@code dir}, {@code save} and {@code daemonize}, which are set here.
   */
  public RedisServerProcess(int port, List<String> lines) {
    this.port = port;
    try {
      dir = Files.createTempDirectory("cachegate-redis7");
      configFile = dir.resolve("redis.conf");
      List<String> all = new ArrayList<>(List.of(
          "bind 127.0.0.1", "protected-mode no", "daemonize no", "dir " + dir, "save \"\"", "appendonly no",
          "logfile \"\"", "port " + port));
      all.addAll(lines);
      Files.write(configFile, all, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(hook);
    start();
  }

  /** A plain Redis on a free port (no TLS, no password): the second leg's shared server. */
  public static RedisServerProcess plain() {
    return new RedisServerProcess(freePort(), List.of());
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public Path dir() {
    return dir;
  }

  public synchronized void start() {
    if (process != null && process.isAlive()) return;
    CountDownLatch ready = new CountDownLatch(1);
    StringBuilder log = new StringBuilder();
    try {
      process = new ProcessBuilder(EXECUTABLE, configFile.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + EXECUTABLE + " (Debian's redis-server package; .ci/run installs it): " + e.getMessage(), e);
    }
    Process p = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (log) {
            if (log.length() < 20_000) log.append(line).append('\n');
          }
          if (line.contains("Ready to accept connections")) ready.countDown();
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "redis-server-log-" + port);
    reader.setDaemon(true);
    reader.start();
    try {
      if (!ready.await(20, TimeUnit.SECONDS) || !p.isAlive()) {
        kill();
        synchronized (log) {
          throw new IllegalStateException("redis-server on port " + port + " did not become ready:\n" + log);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops the server by its pid and waits for it to go. */
  public synchronized void stop() {
    kill();
  }

  public synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  /** SIGKILL by its pid (no shutdown, no save), and waits for it to go. */
  public synchronized void killHard() {
    Process p = process;
    if (p == null) return;
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends a signal by name (STOP, CONT) to the server's pid. */
  public synchronized void signal(String name) {
    Process p = process;
    if (p == null) return;
    try {
      Process k = new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).redirectErrorStream(true).start();
      if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) throw new IllegalStateException("kill -" + name + " " + p.pid() + " failed");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private synchronized void kill() {
    Process p = process;
    if (p == null) return;
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // shutting down: the hook runs anyway
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
