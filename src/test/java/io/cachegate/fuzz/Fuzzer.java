package io.cachegate.fuzz;

import io.cachegate.testing.Await;
import io.cachegate.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The fuzz suite: seeded random malformed REST requests (paths, query strings, headers, bodies) and
 * WebSocket frames against a real gateway with auth on. It fails on any 5xx, a malformed error body,
 * a write (a 2xx from a writing route, or a new data key in Redis), a crash (the gateway unhealthy at
 * the end), or a leaked name (an observer with a token for {@code fz:1} only hearing anything else).
 * Bounded by the number of inputs. {@link #main} runs a long campaign (see docs/security.md).
 */
public final class Fuzzer {

  public record Report(long rest, long frames, Map<Integer, Long> statuses, long closesByServer, List<String> failures) {
    @Override
    public String toString() {
      return "fuzz: rest=" + rest + " frames=" + frames + " statuses=" + statuses + " socketsClosedByServer=" + closesByServer
          + " failures=" + failures.size() + (failures.isEmpty() ? "" : " first=" + failures.subList(0, Math.min(5, failures.size())));
    }
  }

  static final String ADMIN = "fuzz-admin-key-0123456789abcdef";
  static final String SECRET = "fuzz-stream-token-secret-32-bytes-long!!";
  private static final String[] METHODS = {"GET", "GET", "PUT", "PUT", "POST", "POST", "POST", "DELETE", "DELETE", "PATCH",
      "HEAD", "OPTIONS"};
  private static final String[] PATHS = {"/v1/entries/%s", "/v1/entries/%s/meta", "/v1/entries/%s/touch",
      "/v1/entries/%s/suggested-dependencies", "/v1/entries", "/v1/invalidations", "/v1/events/%s", "/v1/tags/%s",
      "/v1/stats", "/v1/rules", "/v1/tokens", "/v1/%s", "/%s", "/v1/entries/%s/%s", "/health", "/metrics"};
  private static final String[] NAMES = {"", " ", "a b", "cg:x", "%00", "%ff", "%2F", "..", "../../etc/passwd", "ü", "😀",
      "\u202e", "k".repeat(600), "*", "user:42:profile", "null", "%0d%0aX-Injected:%201", "%", "a%20b", "{id}"};
  private static final String[] BODIES = {"{", "}", "[]", "null", "true", "1e309", "\"str\"", "{\"value\":", "{\"keys\":\"x\"}",
      "{\"keys\":[1,2]}", "{\"keys\":[null]}", "{\"tags\":[{}]}", "{\"prefixes\":[[\"\"]]}", "{\"value\":1,\"ttl\":-1}",
      "{\"value\":1,\"ttl\":\"1\"}", "{\"value\":1,\"tags\":\"t\"}", "{\"value\":1,\"ifVersion\":[]}", "{\"value\":1,\"lease\":{}}",
      "{\"value\":1,\"type\":\"nope\"}", "{\"keys\":[\"a b\"]}", "{\"keys\":[\"cg:notices\"]}", "{\"user_id\":null}",
      "{\"user_id\":\"a b\"}", "{\"keys\":[\"*\"],\"ttl\":0}", "{\"__proto__\":{}}", "{\"value\":1,\"dependsOn\":7}",
      "{\"keys\":[],\"tags\":[],\"prefixes\":[]}", "\u0000", "{\"value\":1,\"computeMs\":-5}", "{\"value\":1,\"mode\":\"x\"}"};

  private final long seed;
  private final int restInputs;
  private final int frameInputs;

  public Fuzzer(long seed, int restInputs, int frameInputs) {
    this.seed = seed;
    this.restInputs = restInputs;
    this.frameInputs = frameInputs;
  }

  public Report run() throws Exception {
    JsonObject cfg = new JsonObject()
        .put("auth", new JsonObject().put("enabled", true).put("jwt", new JsonObject().put("secretEnv", "FZ_SECRET"))
            .put("apiKeys", new JsonArray().add(new JsonObject().put("name", "admin").put("tokenEnv", "FZ_ADMIN")
                .put("scopes", new JsonArray().add("admin")))))
        .put("http", new JsonObject().put("rateLimitPerSecond", 1_000_000).put("rateLimitBurst", 1_000_000).put("maxBodyBytes", 4096));
    Random rnd = new Random(seed);
    List<String> failures = new CopyOnWriteArrayList<>();
    Map<Integer, Long> statuses = new TreeMap<>();
    long closes = 0;
    try (TestGateway gw = TestGateway.start(cfg, Map.of("FZ_ADMIN", ADMIN, "FZ_SECRET", SECRET))) {
      Vertx vertx = Vertx.vertx();
      try {
        WebSocketClient wsc = vertx.createWebSocketClient();
        // an observer allowed fz:1 only, listening through the whole run
        String token = gw.call("POST", "/v1/tokens", "{\"keys\":[\"fz:1\"],\"ttl\":3600}", "Authorization", "Bearer " + ADMIN)
            .json().getString("token");
        List<String> heard = new CopyOnWriteArrayList<>();
        WebSocket observer = Await.get(wsc.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gw.port())
            .setURI("/v1/stream?token=" + token)));
        observer.textMessageHandler(heard::add);
        observer.writeTextMessage("{\"type\":\"subscribe\",\"keys\":[\"fz:1\"]}");
        long dataKeysBefore = dataKeys(gw);

        for (int i = 0; i < restInputs; i++) {
          String method = METHODS[rnd.nextInt(METHODS.length)];
          String path = String.format(PATHS[rnd.nextInt(PATHS.length)], name(rnd), name(rnd));
          if (rnd.nextInt(4) == 0) path += "?" + query(rnd);
          List<Map.Entry<String, String>> headers = new ArrayList<>();
          int auth = rnd.nextInt(10);
          if (auth < 7) headers.add(Map.entry("Authorization", "Bearer " + ADMIN));
          else if (auth == 7) headers.add(Map.entry("Authorization", garbage(rnd, 40)));
          else if (auth == 8) headers.add(Map.entry("Authorization", "Bearer " + token));
          if (rnd.nextBoolean()) headers.add(Map.entry("Content-Type", rnd.nextBoolean() ? "application/json" : garbage(rnd, 20)));
          if (rnd.nextInt(5) == 0) headers.add(Map.entry("If-None-Match", garbage(rnd, 30)));
          byte[] body = rnd.nextInt(3) == 0 ? new byte[0] : body(rnd).getBytes();
          String shown = new String(body, StandardCharsets.UTF_8);
          String input = method + " " + path + " " + (shown.length() > 80 ? shown.substring(0, 80) + "..." : shown);
          Answer answer = send(gw.port(), method, path, headers, body);
          int status = answer.status();
          String text = answer.body();
          statuses.merge(status, 1L, Long::sum);
          if (status < 0) failures.add("no answer within 5 s (" + text + ") to " + input);
          if (status >= 500) failures.add(status + " for " + input + " -> " + text);
          // no PUT or POST body here is valid, so none may succeed (a DELETE of a well-formed name may: it writes nothing)
          boolean writes = method.equals("PUT") || (method.equals("POST") && !path.startsWith("/v1/tokens"));
          if (writes && status >= 200 && status < 300 && path.startsWith("/v1/")) failures.add("a write answered " + status + " for " + input);
          if (status >= 400 && path.startsWith("/v1/") && !method.equals("HEAD")) {
            try {
              JsonObject err = new JsonObject(text);
              if (err.getString("error") == null || err.getString("message") == null) failures.add("error body without error/message: " + input);
            } catch (RuntimeException e) {
              failures.add("error body not JSON for " + input + ": " + text);
            }
          }
        }

        // frames: garbage and odd-but-valid subscribes on sockets that come and go
        WebSocket ws = null;
        for (int i = 0; i < frameInputs; i++) {
          if (ws == null || ws.isClosed()) {
            if (ws != null) closes++;
            ws = Await.get(wsc.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(gw.port())
                .setURI("/v1/stream?token=" + (rnd.nextBoolean() ? ADMIN : token))));
          }
          String frame = frame(rnd);
          if (rnd.nextInt(20) == 0) Await.get(ws.writeBinaryMessage(Buffer.buffer(frame)));
          else Await.get(ws.writeTextMessage(frame).otherwiseEmpty());
        }
        // the observer must hear fz:1 and nothing else, even when notices name other things beside it
        for (String other : List.of("fz:2", "fz:10", "fz:1x", "user:1")) {
          gw.call("POST", "/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("fz:1").add(other)).encode(),
              "Authorization", "Bearer " + ADMIN);
        }
        gw.call("POST", "/v1/invalidations", "{\"prefixes\":[\"fz:\"]}", "Authorization", "Bearer " + ADMIN);
        Await.until("the observer to hear the last notices", 10_000,
            () -> heard.stream().filter(h -> h.contains("\"invalidate\"")).count() >= 4);
        for (String h : heard) {
          JsonObject f = new JsonObject(h);
          if (!"invalidate".equals(f.getString("type"))) continue;
          for (Object k : f.getJsonArray("keys")) if (!"fz:1".equals(k)) failures.add("leaked key " + k + " in " + h);
          if (!f.getJsonArray("tags").isEmpty()) failures.add("leaked tags in " + h);
          for (Object p : f.getJsonArray("prefixes")) if (!"fz:1".startsWith((String) p) && !((String) p).startsWith("fz:1")) {
            failures.add("leaked prefix " + p + " in " + h);
          }
        }
        if (dataKeys(gw) != dataKeysBefore) failures.add("data keys in Redis changed: " + dataKeysBefore + " -> " + dataKeys(gw));
        if (gw.call("GET", "/health", null).status() != 200) failures.add("the gateway is unhealthy after the run");
      } finally {
        try {
          Await.get(vertx.close());
        } catch (IllegalStateException slowClose) {
          System.out.println("fuzz client close was slow: " + slowClose.getMessage());
        }
      }
    }
    statuses.values().removeIf(v -> v == 0);
    return new Report(restInputs, frameInputs, statuses, closes, failures);
  }

  /** What came back: the status and body, or -1 and the error when nothing did within 5 s. */
  record Answer(int status, String body) {}

  /**
   * One request written as raw HTTP/1.1 on its own connection: the bytes exactly as generated
   * (malformed escapes, odd methods and headers included), which no HTTP client library sends
   * unchanged. The answer ends with the stream ({@code Connection: close}).
   */
  static Answer send(int port, String method, String path, List<Map.Entry<String, String>> headers, byte[] body) {
    try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(5000);
      socket.setTcpNoDelay(true);
      StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
          .append("Host: 127.0.0.1:").append(port).append("\r\nConnection: close\r\n")
          .append("Content-Length: ").append(body.length).append("\r\n");
      headers.forEach(h -> head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
      head.append("\r\n");
      var request = new java.io.ByteArrayOutputStream();
      request.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      request.write(body);
      socket.getOutputStream().write(request.toByteArray()); // one write: head and body together
      // read until the server closes; a reset after a complete answer (an early 413 whose body we were
      // still sending) still leaves the answer we got
      var answer = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = socket.getInputStream().read(buf)) >= 0; ) answer.write(buf, 0, n);
      } catch (java.net.SocketException reset) {
        if (answer.size() == 0) throw reset;
      }
      String text = answer.toString(StandardCharsets.UTF_8);
      if (!text.startsWith("HTTP/1.1 ") || text.length() < 12) return new Answer(-1, "not an HTTP answer: " + text);
      int headEnd = text.indexOf("\r\n\r\n");
      return new Answer(Integer.parseInt(text.substring(9, 12)), headEnd < 0 ? "" : text.substring(headEnd + 4));
    } catch (Exception e) {
      return new Answer(-1, e.toString());
    }
  }

  /** Keys in the namespace that are entries (not the gateway's cg: bookkeeping such as leases or co-access). */
  private static long dataKeys(TestGateway gw) {
    Response r = gw.redis(Request.cmd(Command.KEYS).arg(gw.namespace + "*"));
    long n = 0;
    for (Response k : r) if (!k.toString().substring(gw.namespace.length()).startsWith("cg:")) n++;
    return n;
  }

  /** A path segment: escaped, as a client sends it (raw garbage bytes go in as %XX escapes). */
  private static String name(Random rnd) {
    if (rnd.nextInt(3) == 0) return garbagePath(rnd);
    String n = NAMES[rnd.nextInt(NAMES.length)];
    return n.contains("%") ? n : java.net.URLEncoder.encode(n, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String query(Random rnd) {
    String[] names = {"keys", "lease", "cascade", "mode", "token", garbagePath(rnd)};
    String[] values = {"", "maybe", "false", "a,,b", "%00", garbagePath(rnd), "x".repeat(300)};
    return names[rnd.nextInt(names.length)] + "=" + values[rnd.nextInt(values.length)];
  }

  private static String garbagePath(Random rnd) {
    StringBuilder sb = new StringBuilder();
    int n = rnd.nextInt(20);
    for (int i = 0; i < n; i++) sb.append(String.format("%%%02X", rnd.nextInt(256)));
    return sb.toString();
  }

  private static String garbage(Random rnd, int max) {
    StringBuilder sb = new StringBuilder();
    int n = 1 + rnd.nextInt(max);
    for (int i = 0; i < n; i++) sb.append((char) (0x21 + rnd.nextInt(0x5d)));
    return sb.toString();
  }

  private static Buffer body(Random rnd) {
    int kind = rnd.nextInt(4);
    if (kind == 0) {
      byte[] b = new byte[rnd.nextInt(200)];
      rnd.nextBytes(b);
      return Buffer.buffer(b);
    }
    if (kind == 1) return Buffer.buffer("{\"value\":\"" + "x".repeat(5000) + "\"}"); // over the body limit
    if (kind == 2) {
      StringBuilder deep = new StringBuilder();
      int d = 1 + rnd.nextInt(3000);
      deep.append("[".repeat(d)).append("]".repeat(d));
      return Buffer.buffer("{\"value\":" + deep + ",\"ttl\":\"x\"}");
    }
    return Buffer.buffer(BODIES[rnd.nextInt(BODIES.length)]);
  }

  private static String frame(Random rnd) {
    String[] frames = {"{", "[]", "null", "{\"type\":1}", "{\"type\":\"subscribe\",\"keys\":\"x\"}",
        "{\"type\":\"subscribe\",\"keys\":[\"a b\"]}", "{\"type\":\"subscribe\",\"since\":\"x\"}", "{\"type\":\"subscribe\",\"id\":{}}",
        "{\"type\":\"unsubscribe\",\"keys\":[1]}", "{\"type\":\"ping\"}", "{\"type\":\"subscribe\",\"all\":\"yes\"}",
        "{\"type\":\"subscribe\",\"keys\":[\"fz:1\"],\"since\":\"0000000000001-0000000000\"}",
        "{\"type\":\"subscribe\",\"tags\":[\"admin\"]}", "{\"type\":\"subscribe\",\"prefixes\":[\"\"]}", "{\"type\":\"dance\"}"};
    if (rnd.nextInt(4) == 0) return garbage(rnd, 300);
    return frames[rnd.nextInt(frames.length)];
  }

  /** The long campaign: {@code --seed S --rest N --frames M}. */
  public static void main(String[] args) throws Exception {
    long seed = 1;
    int rest = 100_000;
    int frames = 20_000;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--rest" -> rest = Integer.parseInt(args[i + 1]);
        case "--frames" -> frames = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException(args[i]);
      }
    }
    long start = System.nanoTime();
    Report r = new Fuzzer(seed, rest, frames).run();
    System.out.println(r + String.format(" seconds=%.0f", (System.nanoTime() - start) / 1e9));
    System.exit(r.failures().isEmpty() ? 0 : 1);
  }
}
