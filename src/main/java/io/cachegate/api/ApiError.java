package io.cachegate.api;

import io.cachegate.model.ErrorCode;

/** A request refused with a 4xx (or 503): its {@link ErrorCode} and a sentence for the body. */
public final class ApiError extends RuntimeException {

  public final ErrorCode error;
  public final int status;
  public final String code;
  /** A finer reason, sent as the body's {@code reason} (a refused token's), or null. */
  public final String reason;

  public ApiError(ErrorCode error, String message) {
    this(error.status, error, message, null);
  }

  /** With a {@code reason} field in the body (why a token was refused). */
  public ApiError(ErrorCode error, String message, String reason) {
    this(error.status, error, message, reason);
  }

  /** An error of the HTTP layer with a status of its own (414, 431...), filed under {@code error}. */
  ApiError(int status, ErrorCode error, String message) {
    this(status, error, message, null);
  }

  private ApiError(int status, ErrorCode error, String message, String reason) {
    super(message, null, false, false);
    this.error = error;
    this.status = status;
    this.code = error.code;
    this.reason = reason;
  }

  /** With the code's default sentence. */
  public ApiError(ErrorCode error) {
    this(error, error.defaultMessage);
  }

  public static ApiError badRequest(String message) {
    return new ApiError(ErrorCode.BAD_REQUEST, message);
  }
}
