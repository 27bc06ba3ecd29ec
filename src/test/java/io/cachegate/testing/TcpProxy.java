package io.cachegate.testing;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntPredicate;

/**
 * A loopback TCP proxy that can make chosen connections go silent: bytes are dropped both ways while
 * both sockets stay open, as with a network that stops forwarding (a half-open connection). New
 * connections keep working.
 */
public final class TcpProxy implements AutoCloseable {

  private record Pair(NetSocket front, NetSocket back, boolean[] silent) {}

  private final Vertx vertx = Vertx.vertx();
  private final NetClient client = vertx.createNetClient();
  private final NetServer server;
  private final List<Pair> pairs = new CopyOnWriteArrayList<>();
  public final int port;

  public TcpProxy(int targetPort) {
    server = vertx.createNetServer().connectHandler(front -> {
      front.pause();
      client.connect(targetPort, "127.0.0.1").onSuccess(back -> {
        boolean[] silent = {false};
        pairs.add(new Pair(front, back, silent));
        front.handler(b -> {
          if (!silent[0]) back.write(b);
        });
        back.handler(b -> {
          if (!silent[0]) front.write(b);
        });
        front.closeHandler(v -> {
          if (!silent[0]) back.close();
        });
        back.closeHandler(v -> {
          if (!silent[0]) front.close();
        });
        front.resume();
      }).onFailure(err -> front.close());
    });
    port = Await.get(server.listen(0, "127.0.0.1")).actualPort();
  }

  /** Silences the connections whose upstream local port matches (PostgreSQL sees it as client_port). */
  public int silence(IntPredicate upstreamLocalPort) {
    int n = 0;
    for (Pair p : pairs) {
      if (upstreamLocalPort.test(p.back().localAddress().port())) {
        p.silent()[0] = true;
        n++;
      }
    }
    return n;
  }

  /** Closes the connections whose upstream local port matches, both sides (a cut, not a silence). */
  public int cut(IntPredicate upstreamLocalPort) {
    int n = 0;
    for (Pair p : pairs) {
      if (upstreamLocalPort.test(p.back().localAddress().port())) {
        pairs.remove(p);
        p.front().close();
        p.back().close();
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    Await.get(vertx.close());
  }
}
