package io.cachegate.api;

/** A request refused with a 4xx (or 503): the status, a stable code and a sentence for the body. */
public final class ApiError extends RuntimeException {

  public final int status;
  public final String code;

  public ApiError(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static ApiError badRequest(String message) {
    return new ApiError(400, "bad_request", message);
  }
}
