package io.cachegate.bench;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;

import java.util.List;

/**
 * The floor for the REST figures: a bare Vert.x HTTP server that, for {@code DELETE /v1/entries/KEY},
 * deletes the key and appends a notice to a stream on the same Redis, in one pipelined round trip
 * (DEL + XADD), and answers the notice id as the gateway does. One verticle per core sharing the port,
 * each with its own Redis client. No auth, no validation, no bookkeeping: what any invalidation
 * service must at least do. Run as its own process by the benchmark (so its CPU time can be read from
 * /proc); prints {@code cachegate listening on http://127.0.0.1:PORT}.
 */
public final class BareRestServer extends VerticleBase {

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    System.setProperty("bare.port", args[0]);
    System.setProperty("bare.redis", args[1]);
    System.setProperty("bare.ns", args[2]);
    PerCore.deploy(BareRestServer::new, "cachegate listening on http://127.0.0.1:" + port);
  }

  @Override
  public Future<?> start() {
    int port = Integer.parseInt(System.getProperty("bare.port"));
    String ns = System.getProperty("bare.ns");
    String stream = ns + "bare:notices";
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(System.getProperty("bare.redis"))
        .setMaxPoolSize(32).setMaxPoolWaiting(10_000));
    return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port).setTcpNoDelay(true))
        .requestHandler(req -> {
          if (req.method() != HttpMethod.DELETE || !req.path().startsWith("/v1/entries/")) {
            req.response().setStatusCode(404).end();
            return;
          }
          String key = req.path().substring("/v1/entries/".length());
          String keys = new JsonArray().add(key).encode();
          redis.batch(List.of(Request.cmd(Command.DEL).arg(ns + key),
                  Request.cmd(Command.XADD).arg(stream).arg("MAXLEN").arg("~").arg(100_000).arg("*").arg("k").arg(keys)))
              .onSuccess(r -> req.response().putHeader("Content-Type", "application/json")
                  .end(new JsonObject().put("invalidated", new JsonArray().add(key)).put("notice", r.get(1).toString()).encode()))
              .onFailure(err -> req.response().setStatusCode(503).end());
        })
        .listen();
  }
}
