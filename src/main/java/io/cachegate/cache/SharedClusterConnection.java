package io.cachegate.cache;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/**
 * A cluster client that sends every command over one long-lived cluster connection (one socket per
 * node, commands pipelined), opened again after it breaks. The Vert.x cluster client takes a pooled
 * connection to every node for each command it sends on its own; under more concurrent commands than
 * the pool holds, two commands can each hold part of the nodes and wait for the rest (seen here: PUTs
 * timing out after 2 s under 16 concurrent writers). {@link #connect} still gives a connection of its
 * own (the notice tail's blocking XREAD needs one).
 */
final class SharedClusterConnection implements Redis {

  private final Redis client;
  private Future<RedisConnection> connection;

  SharedClusterConnection(Redis client) {
    this.client = client;
  }

  @Override
  public Future<RedisConnection> connect() {
    return client.connect();
  }

  @Override
  public Future<Response> send(Request command) {
    return connection().compose(c -> c.send(command));
  }

  @Override
  public Future<List<Response>> batch(List<Request> commands) {
    return connection().compose(c -> c.batch(commands));
  }

  @Override
  public synchronized Future<Void> close() {
    Future<RedisConnection> c = connection;
    connection = null;
    if (c != null) c.onSuccess(RedisConnection::close);
    return client.close();
  }

  private synchronized Future<RedisConnection> connection() {
    if (connection == null || connection.failed()) {
      Future<RedisConnection> opened = client.connect();
      connection = opened;
      opened.onSuccess(c -> {
        c.exceptionHandler(err -> forget(opened));
        c.endHandler(v -> forget(opened));
      });
    }
    return connection;
  }

  private synchronized void forget(Future<RedisConnection> broken) {
    if (connection == broken) {
      connection = null;
      broken.onSuccess(RedisConnection::close);
    }
  }
}
