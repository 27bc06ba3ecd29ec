package io.cachegate.api;

import io.cachegate.auth.JwksVerticle;
import io.cachegate.auth.TokenVerifier;
import io.cachegate.auth.TokenVerifier.Refused;
import io.cachegate.auth.TokenVerifier.Verified;
import io.cachegate.bus.Addresses;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.model.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * A presented JWT, verified on the caller's event loop. A token that names a key the JWKS lacks (a key
 * the provider added since the last fetch) gets one more try after the JwksVerticle fetched the set
 * again, or said it did so too recently; only then is it refused. Every refusal is counted by reason
 * and answered 401 with that reason in the body ({@code token_expired} for an expired one).
 */
final class TokenCheck {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TokenCheck.class);
  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(JwksVerticle.TIMEOUT_MS * 2 + 1_000);

  private TokenCheck() {}

  static Future<Verified> verify(Vertx vertx, TokenVerifier tokens, GatewayMetrics metrics, String token) {
    try {
      return Future.succeededFuture(tokens.verify(token, System.currentTimeMillis()));
    } catch (Refused first) {
      if (!first.reason.curedByRefresh() || tokens.jwksStatus() == null) return refused(metrics, first, "");
      return vertx.eventBus().<String>request(Addresses.JWKS_REFRESH, "", ASK).transform(ar -> {
        try {
          return Future.succeededFuture(tokens.verify(token, System.currentTimeMillis()));
        } catch (Refused again) {
          String note = ar.succeeded() && JwksVerticle.RATE_LIMITED.equals(ar.result().body())
              ? " (the key set was fetched less than auth.jwt.jwksMinRefreshSeconds ago)" : " (after fetching the key set again)";
          return refused(metrics, again, note);
        }
      });
    }
  }

  private static Future<Verified> refused(GatewayMetrics metrics, Refused r, String note) {
    metrics.tokenRefused(r.reason.code);
    log.debug("token refused ({}): {}{}", r.reason.code, r.getMessage(), note); // never the token
    ErrorCode code = r.reason == TokenVerifier.Reason.EXPIRED ? ErrorCode.TOKEN_EXPIRED : ErrorCode.UNAUTHORIZED;
    return Future.failedFuture(new ApiError(code, "token refused: " + r.getMessage() + note, r.reason.code));
  }
}
