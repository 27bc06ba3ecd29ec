package io.cachegate.cache;

import io.cachegate.config.GatewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.RedisOptions;

/** Builds Redis clients with the gateway's pool, connect timeout and waiting-queue bounds. */
public final class RedisFactory {

  private RedisFactory() {}

  /** {@code name} names the pool in the metrics ({@code pool_name}); each client needs its own. */
  public static Redis create(Vertx vertx, GatewayConfig.Redis cfg, int poolSize, String name) {
    RedisOptions options = new RedisOptions()
        .setConnectionString(cfg.url())
        // RESP2: replies keep the array shapes the scripts and XREAD parsing expect
        .setPreferredProtocolVersion(ProtocolVersion.RESP2)
        .setMaxPoolSize(poolSize)
        .setPoolName(name)
        .setMaxPoolWaiting(poolSize * 256)
        .setMaxWaitingHandlers(4096)
        .setNetClientOptions(new NetClientOptions()
            .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.commandTimeoutMs()))
            .setTcpKeepAlive(true)
            .setTcpNoDelay(true));
    return Redis.createClient(vertx, options);
  }
}
