package io.cachegate.bench;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;

import java.util.ArrayList;
import java.util.List;

/**
 * The baseline for fan-out and memory: a bare Vert.x WebSocket server, one verticle per core sharing
 * the port, each holding its own sockets. {@code POST /broadcast?n=N&size=S} writes N frames of S bytes
 * to every socket. Run as its own process by the benchmark; prints {@code bare listening on PORT}.
 */
public final class BareWsServer extends VerticleBase {

  private final List<ServerWebSocket> sockets = new ArrayList<>();

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    System.setProperty("bare.port", args[0]);
    PerCore.deploy(BareWsServer::new, "bare listening on " + port);
  }

  @Override
  public Future<?> start() {
    int port = Integer.parseInt(System.getProperty("bare.port", "0"));
    vertx.eventBus().<String>localConsumer("broadcast", m -> {
      String[] parts = m.body().split(":");
      int n = Integer.parseInt(parts[0]);
      String frame = "{\"type\":\"invalidate\",\"pad\":\"" + "x".repeat(Math.max(0, Integer.parseInt(parts[1]) - 40)) + "\"}";
      for (int i = 0; i < n; i++) for (ServerWebSocket s : sockets) s.writeTextMessage(frame);
    });
    return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
        .webSocketHandler(ws -> {
          sockets.add(ws);
          ws.closeHandler(v -> sockets.remove(ws));
        })
        .requestHandler(req -> {
          if (req.path().equals("/broadcast")) {
            vertx.eventBus().publish("broadcast", req.getParam("n") + ":" + req.getParam("size"));
            req.response().end("ok");
          } else {
            req.response().setStatusCode(404).end();
          }
        })
        .listen();
  }
}
