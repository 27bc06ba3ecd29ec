package io.cachegate.model;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Every error the gateway answers with: its stable code (the {@code "error"} field of every error
 * body), its HTTP status, and a default sentence. One vocabulary for the REST answers, the failures
 * the verticles send each other on the event bus ({@link #busCode()}, {@link #ofReply}), and the
 * rejection counter's labels. The OpenAPI document pins these codes per status.
 */
public enum ErrorCode {
  BAD_REQUEST(400, "bad_request", "request refused"),
  BAD_NAME(400, "bad_name", "not a valid key, tag or prefix"),
  BAD_URI(400, "bad_uri", "the request URI has a malformed %-escape"),
  WEBSOCKET_REQUIRED(400, "websocket_required", "this route expects a WebSocket upgrade"),
  UNAUTHORIZED(401, "unauthorized", "a valid API key or token is required"),
  TOKEN_EXPIRED(401, "token_expired", "the token has expired"),
  FORBIDDEN(403, "forbidden", "not allowed with this key or token"),
  ORIGIN_NOT_ALLOWED(403, "origin_not_allowed", "this origin may not open the stream"),
  NOT_FOUND(404, "not_found", "no such route"),
  UNKNOWN_EVENT(404, "unknown_event", "no such event is configured"),
  UNKNOWN_TABLE(404, "unknown_table", "no rule is configured for this table"),
  TOKENS_DISABLED(404, "tokens_disabled", "stream tokens are not configured"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed", "method not allowed on this route"),
  LEASE_VOIDED(409, "lease_voided", "the lease was voided by an invalidation or has expired"),
  VERSION_MISMATCH(412, "version_mismatch", "the entry is not at the given version"),
  BODY_TOO_LARGE(413, "body_too_large", "the body is too large"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type", "unsupported media type"),
  EXPECTATION_FAILED(417, "expectation_failed", "only the Expect value 100-continue is understood"),
  RATE_LIMITED(429, "rate_limited", "too many requests; retry later"),
  TOO_MANY_SOCKETS(429, "too_many_sockets", "too many open streams from this address"),
  INTERNAL(500, "internal_error", "internal error"),
  UNAVAILABLE(503, "unavailable", "a backing server is unreachable; retry later");

  public final int status;
  public final String code;
  public final String defaultMessage;

  ErrorCode(int status, String code, String defaultMessage) {
    this.status = status;
    this.code = code;
    this.defaultMessage = defaultMessage;
  }

  /**
   * The code an error of the HTTP layer itself (the router, the body handler) gets: the statuses it
   * produces have one each; any other is {@code bad_request} or {@code internal_error}, never a code
   * that means something else (a router 409 is not a voided lease).
   */
  public static ErrorCode forStatus(int status) {
    return switch (status) {
      case 401 -> UNAUTHORIZED;
      case 403 -> FORBIDDEN;
      case 404 -> NOT_FOUND;
      case 405 -> METHOD_NOT_ALLOWED;
      case 413 -> BODY_TOO_LARGE;
      case 415 -> UNSUPPORTED_MEDIA_TYPE;
      case 417 -> EXPECTATION_FAILED;
      default -> status < 500 ? BAD_REQUEST : INTERNAL;
    };
  }

  /** The failure code for {@code Message.fail}: the bus is local to one JVM, so the ordinal serves. */
  public int busCode() {
    return 1000 + ordinal();
  }

  /** The error a bus reply failure stands for; a timeout, no handler, or an unknown code: UNAVAILABLE. */
  public static ErrorCode ofReply(Throwable t) {
    if (t instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      int i = re.failureCode() - 1000;
      if (i >= 0 && i < values().length) return values()[i];
    }
    return UNAVAILABLE;
  }
}
