package io.cachegate.testing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Headless Chromium driven over the DevTools protocol (a WebSocket), with no browser download and no
 * driver library: open pages, evaluate JavaScript, take screenshots. Started with a fresh profile and
 * the flags this workplace needs; stopped (and its profile removed) on close.
 */
public final class Browser implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  private final Process process;
  private final Path profile;
  private final Vertx vertx = Vertx.vertx();
  private final WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(64 * 1024 * 1024)
      .setMaxMessageSize(64 * 1024 * 1024));
  private final WebSocket cdp;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();

  public Browser() throws Exception {
    profile = Files.createTempDirectory("cachegate-chromium");
    process = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
        "--disable-quic", "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0", "--window-size=1280,900", "about:blank")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Path portFile = profile.resolve("DevToolsActivePort");
    Await.until("Chromium to open its DevTools port", 30_000, () -> Files.exists(portFile) && lines(portFile).size() >= 2);
    List<String> l = lines(portFile);
    cdp = Await.get(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(Integer.parseInt(l.get(0).trim()))
        .setURI(l.get(1).trim())));
    cdp.textMessageHandler(t -> {
      JsonObject m = new JsonObject(t);
      Promise<JsonObject> p = m.containsKey("id") ? pending.remove(m.getInteger("id")) : null;
      if (p == null) return;
      if (m.containsKey("error")) p.fail(m.getJsonObject("error").encode());
      else p.complete(m.getJsonObject("result"));
    });
  }

  private static String cmdline(ProcessHandle h) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static List<String> lines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (IOException e) {
      return List.of();
    }
  }

  private JsonObject send(String sessionId, String method, JsonObject params) {
    int id = ids.incrementAndGet();
    Promise<JsonObject> p = Promise.promise();
    pending.put(id, p);
    JsonObject msg = new JsonObject().put("id", id).put("method", method).put("params", params);
    if (sessionId != null) msg.put("sessionId", sessionId);
    cdp.writeTextMessage(msg.encode());
    return Await.get(p.future().timeout(20, TimeUnit.SECONDS));
  }

  /** A page (tab) at url. */
  public Page open(String url) {
    String target = send(null, "Target.createTarget", new JsonObject().put("url", url)).getString("targetId");
    String session = send(null, "Target.attachToTarget", new JsonObject().put("targetId", target).put("flatten", true))
        .getString("sessionId");
    return new Page(target, session);
  }

  public final class Page {
    private final String target;
    private final String session;

    Page(String target, String session) {
      this.target = target;
      this.session = session;
    }

    /** Closes the tab, as a user would (the page's pagehide handlers run). */
    public void close() {
      send(null, "Target.closeTarget", new JsonObject().put("targetId", target));
    }

    /** A picture of one element (a CSS selector), even when it lies below the window. */
    public void screenshotOf(String selector, Path file) throws IOException {
      // a JSON array is a JavaScript literal: the selector arrives quoted whatever it holds
      JsonObject box = new JsonObject(String.valueOf(eval("(() => { const r = document.querySelector("
          + new io.vertx.core.json.JsonArray().add(selector).encode() + "[0]).getBoundingClientRect();"
          + " return JSON.stringify({x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}); })()")));
      JsonObject clip = box.copy().put("scale", 1);
      String data = send(session, "Page.captureScreenshot", new JsonObject().put("format", "png").put("clip", clip)
          .put("captureBeyondViewport", true)).getString("data");
      Files.createDirectories(file.getParent());
      Files.write(file, Base64.getDecoder().decode(data));
    }

    /** The value of a JavaScript expression in the page (awaited if a promise). */
    public Object eval(String expression) {
      JsonObject r = send(session, "Runtime.evaluate", new JsonObject().put("expression", expression)
          .put("returnByValue", true).put("awaitPromise", true));
      if (r.containsKey("exceptionDetails")) throw new IllegalStateException(r.getJsonObject("exceptionDetails").encode());
      return r.getJsonObject("result").getValue("value");
    }

    public void screenshot(Path file) throws IOException {
      String data = send(session, "Page.captureScreenshot", new JsonObject().put("format", "png")).getString("data");
      Files.createDirectories(file.getParent());
      Files.write(file, Base64.getDecoder().decode(data));
    }
  }

  @Override
  public void close() {
    try {
      cdp.close();
    } catch (RuntimeException ignored) {
      // the browser may be gone already
    }
    // Chromium's helper processes re-parent themselves; every one carries our profile in its command line
    String marker = "--user-data-dir=" + profile;
    List<ProcessHandle> all = new java.util.ArrayList<>(process.descendants().toList());
    ProcessHandle.allProcesses().filter(h -> cmdline(h).contains(marker)).forEach(all::add);
    all.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // gone, or going
      }
    }
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Await.get(vertx.close());
    try (var files = Files.walk(profile)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp profile left behind is harmless
    }
  }
}
