package io.cachegate.bus;

import io.vertx.core.eventbus.ReplyException;

/**
 * Failure codes used with {@code message.fail}; each is the HTTP status the REST layer answers with,
 * paired with a stable machine-readable error code for the body.
 */
public enum Failure {
  BAD_REQUEST(400, "bad_request"),
  NOT_FOUND(404, "not_found"),
  CONFLICT(409, "lease_voided"),
  PRECONDITION_FAILED(412, "version_mismatch"),
  UNAVAILABLE(503, "unavailable");

  public final int status;
  public final String code;

  Failure(int status, String code) {
    this.status = status;
    this.code = code;
  }

  /** The failure a reply exception stands for; timeouts and unknown codes count as UNAVAILABLE. */
  public static Failure of(Throwable t) {
    if (t instanceof ReplyException re) {
      for (Failure f : values()) if (f.status == re.failureCode()) return f;
    }
    return UNAVAILABLE;
  }
}
