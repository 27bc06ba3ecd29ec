package io.cachegate.api;

import io.cachegate.auth.Jwt;
import io.cachegate.auth.RateLimiter;
import io.cachegate.auth.SocketLimiter;
import io.cachegate.config.GatewayConfig;

/**
 * The security state one instance shares across its HTTP verticles: API keys, the stream-token
 * verifier (null when {@code auth.jwt.secretEnv} is not set), the REST rate limiter and the socket
 * count per address. Built once per gateway.
 */
public record Guards(ApiAuth auth, Jwt jwt, RateLimiter rate, SocketLimiter sockets) {

  public static Guards from(GatewayConfig config) {
    return new Guards(new ApiAuth(config.auth()),
        config.auth().jwtSecret() == null ? null : new Jwt(config.auth().jwtSecret()),
        new RateLimiter(config.limits().ratePerSecond(), config.limits().burst()),
        new SocketLimiter(config.limits().maxSocketsPerAddress()));
  }
}
