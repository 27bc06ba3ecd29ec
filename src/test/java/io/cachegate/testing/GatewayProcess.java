package io.cachegate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.vertx.core.json.JsonObject;

/** A gateway in its own JVM (started with the test class path), as a user or an orchestrator runs it. */
public final class GatewayProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("^cachegate listening on http://127\\.0\\.0\\.1:(\\d+)$");

  public final Process process;
  public final List<String> stdout = new ArrayList<>();
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private int port = -1;

  private GatewayProcess(Process process) {
    this.process = process;
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) lines.add(l);
      } catch (IOException ignored) {
        // the process ended
      }
    }, "gateway-process-stdout");
    t.setDaemon(true);
    t.start();
  }

  public static GatewayProcess start(List<String> args, Map<String, String> env) throws IOException {
    return start(List.of("-Xmx256m"), "io.cachegate.Main", args, env);
  }

  /** Any main class of the test class path, with JVM options. */
  public static GatewayProcess start(List<String> jvm, String mainClass, List<String> args, Map<String, String> env)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", classPath(), mainClass));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    return new GatewayProcess(pb.start());
  }

  /**
   * The class path of this program: java.class.path under the test runner; under exec:java, which loads
   * the project through its own class loader, that loader's URLs.
   */
  static String classPath() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl instanceof java.net.URLClassLoader u && u.getURLs().length > 0) {
      List<String> parts = new ArrayList<>();
      for (java.net.URL url : u.getURLs()) {
        try {
          parts.add(Path.of(url.toURI()).toString());
        } catch (java.net.URISyntaxException e) {
          throw new IllegalStateException(e);
        }
      }
      return String.join(java.io.File.pathSeparator, parts);
    }
    return System.getProperty("java.class.path");
  }

  /** Waits for a stdout line matching {@code p} (90 s at most); every line read is kept in {@link #stdout}. */
  public String await(Pattern p) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 90_000;
    while (System.currentTimeMillis() < deadline) {
      String l = lines.poll(1, TimeUnit.SECONDS);
      if (l == null) {
        if (!process.isAlive() && lines.isEmpty()) throw new AssertionError("gateway exited " + process.exitValue() + "; stdout " + stdout);
        continue;
      }
      stdout.add(l);
      if (p.matcher(l).find()) return l;
    }
    throw new AssertionError("no line matching " + p + " in " + stdout);
  }

  /** Waits until the gateway listens; its port. */
  public int awaitListening() throws InterruptedException {
    Matcher m = LISTENING.matcher(await(LISTENING));
    if (!m.find()) throw new AssertionError();
    port = Integer.parseInt(m.group(1));
    return port;
  }

  public int port() {
    return port;
  }

  public JsonObject health() {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/health")).timeout(java.time.Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new JsonObject(r.body()).put("httpStatus", r.statusCode());
    } catch (IOException | InterruptedException e) {
      return new JsonObject().put("httpStatus", -1).put("error", e.toString());
    }
  }

  /** SIGKILL: no shutdown hook runs, the kernel closes the sockets. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
    }
  }

  /** utime + stime of a process from /proc/PID/stat, in milliseconds (Linux; clock ticks of 10 ms). */
  public static long cpuMillis(long pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // after the command: state is field 3, utime 14 and stime 15 (1-based over the whole line)
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
