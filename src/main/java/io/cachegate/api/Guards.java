package io.cachegate.api;

import io.cachegate.auth.RateLimiter;
import io.cachegate.auth.SocketLimiter;
import io.cachegate.auth.TokenVerifier;
import io.cachegate.config.GatewayConfig;

/**
 * The security state one instance shares across its HTTP verticles: API keys, the JWT verifier (its
 * {@code enabled()} false when no secret, key file or JWKS is configured), the REST rate limiter and
 * the socket count per address. Built once per gateway.
 */
public record Guards(ApiAuth auth, TokenVerifier tokens, RateLimiter rate, SocketLimiter sockets) {

  public static Guards from(GatewayConfig config) {
    var a = config.auth();
    return new Guards(new ApiAuth(a),
        new TokenVerifier(new TokenVerifier.Settings(a.jwtSecret(), a.publicKeys(), a.jwksUrl(), a.issuer(), a.audience(),
            a.claim(), a.clockSkewSeconds(), a.scopeClaim(), a.scopePrefix())),
        new RateLimiter(config.limits().ratePerSecond(), config.limits().burst()),
        new SocketLimiter(config.limits().maxSocketsPerAddress()));
  }
}
