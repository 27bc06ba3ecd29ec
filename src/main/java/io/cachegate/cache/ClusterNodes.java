package io.cachegate.cache;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The nodes of a Redis Cluster this gateway has seen, so that its clients can find the topology
 * again when the node {@code redis.url} names is the one that died (the Vert.x cluster client asks
 * only the endpoints it was created with). One per gateway, shared by its Redis clients; filled from
 * CLUSTER SLOTS on every health check. Thread-safe (clients are built on several event loops).
 */
public final class ClusterNodes {

  /** The cluster answers, but does not serve every slot (cluster_state is not ok). */
  public static final class NotServing extends RuntimeException {
    NotServing(String message) {
      super(message, null, false, false);
    }
  }

  private final String url;
  private volatile List<String> known = List.of();

  /** {@code url}: {@code redis.url}, whose scheme and user info every discovered node is reached with. */
  public ClusterNodes(String url) {
    this.url = url;
  }

  /** The endpoints to create a cluster client with: redis.url first, then every node seen. */
  public List<String> endpoints() {
    Set<String> all = new LinkedHashSet<>();
    all.add(url);
    all.addAll(known);
    return new ArrayList<>(all);
  }

  /**
   * CLUSTER INFO through {@code redis}: fails with {@link NotServing} unless cluster_state is ok;
   * then CLUSTER SLOTS, remembered. Completes with what /health shows of the cluster.
   */
  public Future<JsonObject> check(Redis redis, long timeoutMs) {
    return redis.send(Request.cmd(Command.CLUSTER).arg("INFO")).timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .compose(info -> {
          String text = info.toString();
          String state = field(text, "cluster_state");
          if (!"ok".equals(state)) {
            return Future.failedFuture(new NotServing("the Redis Cluster does not serve every slot (cluster_state:" + state
                + "); a master is down and no replica has taken over yet"));
          }
          return redis.send(Request.cmd(Command.CLUSTER).arg("SLOTS")).timeout(timeoutMs, TimeUnit.MILLISECONDS)
              .map(slots -> {
                remember(slots);
                return new JsonObject().put("cluster", new JsonObject().put("state", state)
                    .put("masters", Integer.parseInt(field(text, "cluster_size"))).put("nodes", known.size()));
              });
        })
        .recover(err -> err instanceof Response && String.valueOf(err.getMessage()).startsWith("NOPERM")
            // an ACL without +cluster: routing still works (the client needs CLUSTER SLOTS, though)
            ? Future.succeededFuture(new JsonObject().put("cluster", new JsonObject().put("state", "unknown: " + err.getMessage())))
            : Future.failedFuture(err));
  }

  private void remember(Response slots) {
    String prefix = prefix(url);
    Set<String> seen = new LinkedHashSet<>();
    for (Response range : slots) {
      for (int i = 2; i < range.size(); i++) {
        Response node = range.get(i);
        String host = node.get(0) == null ? "" : node.get(0).toString();
        if (host.isEmpty()) continue; // "this node": redis.url already names it
        seen.add(prefix + (host.contains(":") ? "[" + host + "]" : host) + ":" + node.get(1).toInteger());
      }
    }
    if (!seen.isEmpty()) known = List.copyOf(seen);
  }

  /** {@code scheme://user:password@} of a Redis URL. */
  static String prefix(String url) {
    int scheme = url.indexOf("://") + 3;
    int at = url.lastIndexOf('@');
    return url.substring(0, at >= scheme ? at + 1 : scheme);
  }

  private static String field(String info, String name) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(name + ":")) return line.substring(name.length() + 1).trim();
    }
    return "";
  }
}
