package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The run command as a user runs it: the default mode in its own process, the contract's stdout
 * lines, a healthy gateway, and on SIGTERM sockets closed with 1001 and no server left behind.
 */
class MainProcessIT {

  private static Process launch(List<String> args, String... env) throws IOException {
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.cachegate.Main"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    for (int i = 0; i + 1 < env.length; i += 2) pb.environment().put(env[i], env[i + 1]);
    return pb.start();
  }

  private static BlockingQueue<String> lines(Process p) {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) q.add(l);
      } catch (IOException ignored) {
        // the process ended
      }
    });
    t.setDaemon(true);
    t.start();
    return q;
  }

  private static String waitFor(BlockingQueue<String> q, Pattern p, List<String> seen) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 90_000;
    while (System.currentTimeMillis() < deadline) {
      String l = q.poll(1, TimeUnit.SECONDS);
      if (l == null) continue;
      seen.add(l);
      if (p.matcher(l).find()) return l;
    }
    throw new AssertionError("no line matching " + p + " in " + seen);
  }

  @Test
  void defaultModeStartsPrintsItsLinesAndStopsCleanlyOnSigterm() throws Exception {
    Process p = launch(List.of(), "CACHEGATE_HTTP_PORT", "0");
    Vertx vertx = Vertx.vertx();
    // held in a variable: Vert.x closes a client that becomes unreachable, even during a handshake
    io.vertx.core.http.WebSocketClient wsClient = vertx.createWebSocketClient();
    List<ProcessHandle> servers = List.of();
    try {
      BlockingQueue<String> q = lines(p);
      List<String> seen = new java.util.ArrayList<>();
      String listening = waitFor(q, Pattern.compile("^cachegate listening on http://127\\.0\\.0\\.1:\\d+$"), seen);
      assertThat(seen).anyMatch(l -> l.matches("cachegate embedded postgres at postgresql://127\\.0\\.0\\.1:\\d+/postgres\\?user=postgres"));
      assertThat(seen).anyMatch(l -> l.matches("cachegate embedded redis at redis://127\\.0\\.0\\.1:\\d+"));
      Matcher m = Pattern.compile(":(\\d+)$").matcher(listening);
      assertThat(m.find()).isTrue();
      int port = Integer.parseInt(m.group(1));

      HttpResponse<String> health = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("\"status\":\"UP\"");

      WebSocket ws = Await.get(wsClient.connect(
          new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/v1/stream")));
      CompletableFuture<Short> closeCode = new CompletableFuture<>();
      ws.closeHandler(v -> closeCode.complete(ws.closeStatusCode()));

      int pgPort = port(seen, "cachegate embedded postgres at postgresql://127\\.0\\.0\\.1:(\\d+)/");
      int redisPort = port(seen, "cachegate embedded redis at redis://127\\.0\\.0\\.1:(\\d+)");
      // pg_ctl daemonises the postmaster, so it is found by its port, not as a child
      servers = ProcessHandle.allProcesses().filter(h -> {
        String c = cmdline(h);
        return c.contains("-p " + pgPort + " ") || c.contains("127.0.0.1:" + redisPort);
      }).toList();
      assertThat(servers).as("embedded postgres and redis processes").hasSizeGreaterThanOrEqualTo(2);
      p.destroy(); // SIGTERM
      assertThat(closeCode.get(20, TimeUnit.SECONDS)).isEqualTo((short) 1001);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the gateway exits").isTrue();
      for (ProcessHandle c : servers) {
        assertThat(c.onExit().get(15, TimeUnit.SECONDS).isAlive()).as("child %s stopped", c.pid()).isFalse();
      }
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      servers.forEach(ProcessHandle::destroyForcibly); // only if the assertions above failed
      p.destroyForcibly();
      Await.get(wsClient.close()); // also keeps the client reachable until here
      Await.get(vertx.close());
    }
  }

  /** The README's run command with CACHEGATE_CAPTURE_MODE=wal: the embedded PostgreSQL runs with wal_level logical. */
  @Test
  void defaultModeRunsTheWalCaptureToo() throws Exception {
    Process p = launch(List.of(), "CACHEGATE_HTTP_PORT", "0", "CACHEGATE_CAPTURE_MODE", "wal");
    List<ProcessHandle> servers = List.of();
    try {
      BlockingQueue<String> q = lines(p);
      List<String> seen = new java.util.ArrayList<>();
      String listening = waitFor(q, Pattern.compile("^cachegate listening on http://127\\.0\\.0\\.1:\\d+$"), seen);
      int port = Integer.parseInt(listening.replaceFirst("^.*:", ""));
      int pgPort = port(seen, "cachegate embedded postgres at postgresql://127\\.0\\.0\\.1:(\\d+)/");
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
      assertThat(new io.vertx.core.json.JsonObject(health.body()).getJsonObject("postgres").getString("mode")).isEqualTo("wal");
      URI entry = URI.create("http://127.0.0.1:" + port + "/v1/entries/product:10");
      assertThat(http.send(HttpRequest.newBuilder(entry).PUT(HttpRequest.BodyPublishers.ofString("{\"value\":10}")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres", "postgres", "");
           java.sql.Statement st = c.createStatement()) {
        assertThat(st.executeQuery("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cachegate%'")).satisfies(r -> {
          r.next();
          assertThat(r.getInt(1)).isZero();
        });
        st.execute("UPDATE products SET price = price + 1 WHERE id = 10");
      }
      Await.until("product:10 invalidated from the slot", 10_000, () -> {
        try {
          return http.send(HttpRequest.newBuilder(entry).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 404;
        } catch (IOException e) {
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      });
      servers = ProcessHandle.allProcesses().filter(h -> cmdline(h).contains("-p " + pgPort + " ")).toList();
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the gateway exits").isTrue();
      for (ProcessHandle c : servers) assertThat(c.onExit().get(15, TimeUnit.SECONDS).isAlive()).isFalse();
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      servers.forEach(ProcessHandle::destroyForcibly); // only if the assertions above failed
      p.destroyForcibly();
    }
  }

  /** /proc/PID/cmdline: ProcessHandle.Info cannot see the executable of a process in another user namespace. */
  private static String cmdline(ProcessHandle h) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ');
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static int port(List<String> lines, String regex) {
    Pattern p = Pattern.compile(regex);
    for (String l : lines) {
      Matcher m = p.matcher(l);
      if (m.find()) return Integer.parseInt(m.group(1));
    }
    throw new AssertionError("no line " + regex + " in " + lines);
  }

  @Test
  void aBadConfigurationStopsStartUpNamingTheKey() throws Exception {
    Path bad = Files.createTempFile("cachegate-bad", ".yaml");
    try {
      Files.writeString(bad, "http:\n  port: 99999\n");
      Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "io.cachegate.Main", "-c", bad.toString())
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).contains("http.port");
      } finally {
        stopAll(p); // only if it did not exit by itself
      }
    } finally {
      Files.deleteIfExists(bad);
    }
  }

  @Test
  void aMisspelledEnvironmentVariableStopsStartUpNamingIt() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.cachegate.Main").redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("CACHEGATE_REDIS_MOD", "cluster");
    Process p = pb.start();
    try {
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).isEqualTo(2);
      assertThat(err).contains("CACHEGATE_REDIS_MOD").contains("unknown environment variable");
    } finally {
      stopAll(p); // only if it did not exit by itself (it would have started embedded servers)
    }
  }

  /** The process and everything it started, by pid, when it is still running. */
  private static void stopAll(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }
}
