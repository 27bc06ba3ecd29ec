package io.cachegate.cache;

import io.cachegate.config.GatewayConfig;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;

/**
 * Builds every Redis client of the gateway, with its pool, connect timeout and waiting-queue bounds,
 * and for {@code rediss://} TLS: host names verified ("HTTPS" algorithm, which Vert.x 5 requires to
 * be set), the chain checked against {@code redis.tls.caFile} (PEM) or else the JVM's default trust
 * store. The URL's user and password are sent by the client itself ({@code HELLO 2 AUTH user password},
 * falling back to {@code AUTH user password}).
 */
public final class RedisFactory {

  private RedisFactory() {}

  /** {@code name} names the pool in the metrics ({@code pool_name}); each client needs its own. */
  public static Redis create(Vertx vertx, GatewayConfig.Redis cfg, int poolSize, String name, ClusterNodes nodes) {
    NetClientOptions net = new NetClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.commandTimeoutMs()))
        .setTcpKeepAlive(true)
        .setTcpNoDelay(true);
    if (cfg.url().startsWith("rediss://")) {
      net.setSsl(true).setHostnameVerificationAlgorithm("HTTPS");
      if (!cfg.tlsCaFile().isEmpty()) net.setTrustOptions(new PemTrustOptions().addCertPath(cfg.tlsCaFile()));
      // else: no trust options, so the JVM's default trust store decides
    }
    RedisOptions options = new RedisOptions();
    if (cfg.cluster()) {
      // every node seen so far, so the topology is found again when the node redis.url names is down;
      // commands go to masters only (a replica may lag behind an invalidation)
      options.setType(RedisClientType.CLUSTER).setUseReplicas(RedisReplicas.NEVER).setHashSlotCacheTTL(1000);
      for (String endpoint : nodes.endpoints()) options.addConnectionString(plusEncoded(endpoint));
    } else {
      options.setConnectionString(plusEncoded(cfg.url()));
    }
    options
        // RESP2: replies keep the array shapes the scripts and XREAD parsing expect
        .setPreferredProtocolVersion(ProtocolVersion.RESP2)
        // a cluster client also takes a pooled connection to fetch the topology (every second, and on
        // MOVED): two more than its connections hold, or the fetch waits for ever behind them (the notice
        // tail's XREAD stalled so, its pool of 2 held by its read and its beat connection)
        .setMaxPoolSize(cfg.cluster() ? poolSize + 2 : poolSize)
        .setPoolName(name)
        .setMaxPoolWaiting(poolSize * 256)
        .setMaxWaitingHandlers(4096)
        .setNetClientOptions(net);
    Redis client = Redis.createClient(vertx, options);
    return cfg.cluster() ? new SharedClusterConnection(client) : client;
  }

  /**
   * The URL with each '+' of its user info percent-encoded: Vert.x decodes the user info as a form
   * (a '+' becomes a space), while a password is taken literally by every other client (and managed
   * services' tokens may hold a '+').
   */
  static String plusEncoded(String url) {
    int scheme = url.indexOf("://");
    int at = url.lastIndexOf('@');
    if (scheme < 0 || at < scheme) return url;
    return url.substring(0, scheme + 3) + url.substring(scheme + 3, at).replace("+", "%2B") + url.substring(at);
  }

  /** The server these clients connect to, for {@link ConnectionErrors#explain}. */
  public static ConnectionErrors.Endpoint endpoint(GatewayConfig.Redis cfg) {
    return cfg.parsed().endpoint(cfg.tlsCaFile());
  }
}
