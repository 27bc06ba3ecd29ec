package io.cachegate.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An identity provider's JWKS endpoint, as a test needs one: the JDK's HTTP server on a free loopback
 * port, serving the public halves of a key set that the test changes (rotation), or 503 (an outage),
 * and counting the fetches it answers. {@link #close()} stops it (later fetches: connection refused).
 */
public final class JwksServer implements AutoCloseable {

  private final HttpServer server;
  private final List<TestKeys.Signer> keys = new CopyOnWriteArrayList<>();
  private final AtomicInteger fetches = new AtomicInteger();
  private volatile boolean down;

  public JwksServer(TestKeys.Signer... initial) {
    keys.addAll(List.of(initial));
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    server.createContext("/.well-known/jwks.json", ex -> {
      fetches.incrementAndGet();
      byte[] body = (down ? "{\"error\":\"unavailable\"}" : TestKeys.jwks(keys)).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(down ? 503 : 200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/.well-known/jwks.json";
  }

  public void add(TestKeys.Signer k) {
    keys.add(k);
  }

  public void remove(TestKeys.Signer k) {
    keys.remove(k);
  }

  /** true: answer 503 to every fetch. */
  public void down(boolean down) {
    this.down = down;
  }

  /** Fetches answered so far (503s included). */
  public int fetches() {
    return fetches.get();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
