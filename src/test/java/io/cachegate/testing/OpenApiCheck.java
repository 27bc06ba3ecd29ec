package io.cachegate.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.Path;
import io.vertx.openapi.contract.Response;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatableResponse;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks REST answers against the gateway's own contract, {@code src/main/resources/openapi.json},
 * with vertx-openapi: the operation for the method and path, the status among its responses, the
 * content type among that response's media types, the body against its schema and the documented
 * headers. An answer the document does not describe throws {@link AssertionError} naming the
 * request, the status and the body.
 *
 * <p>Answers no operation lists are described by the document's {@code components.responses}: a
 * path it does not list answers {@code NoSuchRoute} (404), a listed path asked with a method it does
 * not list {@code MethodNotAllowed} (405, {@code Allow} naming exactly the listed methods), and any
 * URI with a malformed %-escape {@code BadUri} (400). Static files of the dashboard ({@code /},
 * {@code /app.js}, {@code /demo.html}...) are not part of the REST contract and are not checked.
 *
 * <p>The contract is loaded once per JVM, with one small Vert.x instance of its own; thread-safe.
 */
public final class OpenApiCheck {

  /** The document, as committed (the gateway serves the classpath copy of this file). */
  public static final java.nio.file.Path SOURCE = java.nio.file.Path.of("src", "main", "resources", "openapi.json");

  private static final class Holder {
    static final OpenApiCheck INSTANCE = new OpenApiCheck();
  }

  private final Vertx vertx;
  private final OpenAPIContract contract;
  private final ResponseValidator validator;
  private final JsonObject components;

  private OpenApiCheck() {
    // daemon-free threads are fine: surefire and the test programs end with System.exit
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(4));
    JsonObject doc;
    try {
      doc = new JsonObject(Files.readString(SOURCE));
    } catch (IOException | DecodeException e) {
      throw new IllegalStateException("cannot read " + SOURCE + ": " + e.getMessage(), e);
    }
    contract = await(OpenAPIContract.from(vertx, doc), "loading " + SOURCE);
    validator = ResponseValidator.create(vertx, contract);
    components = contract.getRawContract().getJsonObject("components");
  }

  /** The contract, loaded on first use. */
  public static OpenApiCheck get() {
    return Holder.INSTANCE;
  }

  public OpenAPIContract contract() {
    return contract;
  }

  /** Whether a request target belongs to the REST contract (the dashboard's static files do not). */
  public static boolean isRest(String path) {
    return path.startsWith("/v1/") || path.startsWith("/demo/")
        || path.equals("/health") || path.equals("/metrics") || path.equals("/openapi.json");
  }

  /** Checks an answer the tests got from {@link java.net.http.HttpClient}. */
  public void check(String method, String target, java.net.http.HttpResponse<String> r) {
    check(method, target, r.statusCode(), r.headers().map(), r.body());
  }

  /**
   * Checks one answer. {@code target}: the request's path and query; {@code headers}: the answer's,
   * names in any case. Throws {@link AssertionError} when the document does not describe it.
   */
  public void check(String method, String target, int status, Map<String, List<String>> headers, String body) {
    int q = target.indexOf('?');
    String raw = q < 0 ? target : target.substring(0, q);
    String path;
    try {
      path = routed(raw);
    } catch (IllegalArgumentException malformedEscape) {
      path = null; // answered before routing (BadUri)
    }
    if (!isRest(path == null ? raw : path)) return;
    if ("/v1/stream".equals(path) && status == 101) return; // the upgrade itself: docs/stream.md takes over
    Map<String, String> h = new HashMap<>();
    headers.forEach((name, values) -> {
      if (!values.isEmpty()) h.put(name.toLowerCase(Locale.ROOT), values.get(0));
    });
    String m = method.toUpperCase(Locale.ROOT);
    String b = body == null ? "" : body;
    String problem = path == null || malformedEscape(target)
        ? generic("BadUri", m, status, 400, h, b)
        : problem(m, path, status, h, b);
    if (problem != null) {
      String shown = body == null ? "" : body.length() > 600 ? body.substring(0, 600) + "..." : body;
      throw new AssertionError("openapi.json does not describe " + method + " " + target + " -> " + status
          + " " + (h.containsKey("content-type") ? "(" + h.get("content-type") + ") " : "") + shown + ": " + problem);
    }
  }

  /**
   * The path as the gateway's router matches it: normalized as Vert.x Web does (RFC 3986 dot
   * segments removed, unreserved %-escapes decoded, {@code //} collapsed), without the one trailing
   * slash Vert.x Web tolerates.
   */
  static String routed(String rawPath) {
    String p = io.vertx.core.internal.net.RFC3986.normalizePath(rawPath);
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /** Null when the document describes the answer, else what does not fit. */
  private String problem(String method, String path, int status, Map<String, String> headers, String body) {
    Operation op = contract.findOperation(path, HttpMethod.valueOf(method));
    if (op == null) {
      Path p = contract.findPath(path);
      if (p == null) return generic("NoSuchRoute", method, status, 404, headers, body);
      String problem = generic("MethodNotAllowed", method, status, 405, headers, body);
      if (problem != null) return problem;
      TreeSet<String> listed = new TreeSet<>();
      p.getOperations().forEach(o -> listed.add(o.getHttpMethod().name()));
      String allow = String.join(", ", listed);
      return allow.equals(headers.get("allow")) ? null
          : "Allow is '" + headers.get("allow") + "' but the document lists " + allow + " for " + p.getName();
    }
    String where = op.getOperationId() + " (" + method + " " + op.getOpenAPIPath() + ")";
    Response response = op.getResponse(status);
    if (response == null) {
      return "status " + status + " is not among the responses of " + where + ": " + op.getOpenAPIModel().getJsonObject("responses").fieldNames().stream()
          .filter(JsonSchema.EXCLUDE_ANNOTATIONS).sorted().toList();
    }
    String mediaType = null;
    if (response.getContent().isEmpty()) {
      if (!body.isEmpty()) return where + " " + status + " has no body in the document, but the answer has one";
    } else {
      mediaType = documented(response.getContent().keySet(), headers.get("content-type"));
      if (mediaType == null) {
        return "Content-Type '" + headers.get("content-type") + "' is not among " + response.getContent().keySet() + " of " + where + " " + status;
      }
    }
    if (method.equals("HEAD")) {
      if (!body.isEmpty()) return "a HEAD answer has a body";
      String problem = headLikeGet(path, status, headers);
      if (problem != null) return problem;
    }
    Map<String, String> forValidator = new HashMap<>();
    for (Parameter header : response.getHeaders()) {
      String value = headers.get(header.getName().toLowerCase(Locale.ROOT));
      if (value == null) {
        if (header.isRequired()) return "header " + header.getName() + " is required by " + where + " " + status + " but missing";
        continue;
      }
      // vertx-openapi reads a header value as JSON when it can ("12" becomes 12 without its quotes):
      // a string header is handed over as the JSON text of the value, so it is checked exactly as sent
      forValidator.put(header.getName(), header.getSchemaType() == io.vertx.json.schema.common.dsl.SchemaType.STRING
          ? Json.encode(value) : value);
    }
    ValidatableResponse answer = mediaType == null
        ? ValidatableResponse.create(status, forValidator)
        : ValidatableResponse.create(status, forValidator, Buffer.buffer(body), mediaType);
    try {
      await(validator.validate(answer, op.getOperationId()), where);
      return null;
    } catch (AssertionError e) {
      return e.getMessage();
    }
  }

  /** A HEAD answer has the headers of the GET's answer of the same status (its Content-Type included). */
  private String headLikeGet(String path, int status, Map<String, String> headers) {
    Operation get = contract.findOperation(path, HttpMethod.GET);
    if (get == null) return "HEAD " + path + " is documented without a GET";
    Response r = get.getResponse(status);
    if (r == null) return "GET " + get.getOpenAPIPath() + " does not document " + status + ", which HEAD answered";
    if (r.getContent().isEmpty()) return null;
    return documented(r.getContent().keySet(), headers.get("content-type")) != null ? null
        : "HEAD Content-Type '" + headers.get("content-type") + "' is not among " + r.getContent().keySet() + " of GET " + get.getOpenAPIPath();
  }

  /** The documented media type a Content-Type header stands for: itself, or its type without parameters. */
  private static String documented(java.util.Set<String> mediaTypes, String contentType) {
    if (contentType == null) return null;
    if (mediaTypes.contains(contentType)) return contentType;
    String bare = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return mediaTypes.contains(bare) ? bare : null;
  }

  /** An answer described by one of components.responses (an answer of any route). */
  private String generic(String name, String method, int status, int want, Map<String, String> headers, String body) {
    String what = "components.responses." + name;
    if (status != want) {
      return switch (want) {
        case 404 -> "no path of the document matches (an unlisted path must answer " + what + ", 404)";
        case 405 -> "the document lists no such method on this path (which must answer " + what + ", 405)";
        default -> "a URI with a malformed %-escape must answer " + what + ", " + want;
      };
    }
    JsonObject response = components.getJsonObject("responses").getJsonObject(name);
    JsonObject content = response.getJsonObject("content");
    String mediaType = documented(content.fieldNames(), headers.get("content-type"));
    if (mediaType == null) return "Content-Type '" + headers.get("content-type") + "' is not among " + content.fieldNames() + " of " + what;
    JsonObject declared = response.getJsonObject("headers", new JsonObject());
    for (String header : declared.fieldNames().stream().filter(JsonSchema.EXCLUDE_ANNOTATIONS).toList()) {
      String value = headers.get(header.toLowerCase(Locale.ROOT));
      if (value == null) return "header " + header + " of " + what + " is missing";
      OutputUnit result = contract.getSchemaRepository()
          .validator(JsonSchema.of(declared.getJsonObject(header).getJsonObject("schema"))).validate(value);
      if (!Boolean.TRUE.equals(result.getValid())) return "header " + header + " '" + value + "' does not fit " + what + ": " + errors(result);
    }
    if (method.equals("HEAD")) return body.isEmpty() ? null : "a HEAD answer has a body";
    Object json;
    try {
      json = Json.decodeValue(body);
    } catch (DecodeException e) {
      return "the body is not JSON (" + what + ")";
    }
    JsonObject schema = content.getJsonObject(mediaType).getJsonObject("schema");
    OutputUnit result = contract.getSchemaRepository().validator(JsonSchema.of(schema)).validate(json);
    return Boolean.TRUE.equals(result.getValid()) ? null : "the body does not fit " + what + ": " + errors(result);
  }

  /** A '%' not followed by two hex digits anywhere in the request target (path or query). */
  private static boolean malformedEscape(String target) {
    for (int i = 0; i < target.length(); i++) {
      if (target.charAt(i) == '%') {
        if (i + 2 >= target.length() || Character.digit(target.charAt(i + 1), 16) < 0 || Character.digit(target.charAt(i + 2), 16) < 0) {
          return true;
        }
        i += 2;
      }
    }
    return false;
  }

  private static String errors(OutputUnit unit) {
    List<String> out = new ArrayList<>();
    collect(unit, out);
    return out.isEmpty() ? String.valueOf(unit.getError()) : String.join("; ", out);
  }

  private static void collect(OutputUnit unit, List<String> out) {
    if (unit.getError() != null) out.add(unit.getInstanceLocation() + ": " + unit.getError() + " (" + unit.getKeywordLocation() + ")");
    if (unit.getErrors() != null) unit.getErrors().forEach(e -> collect(e, out));
  }

  private static <T> T await(Future<T> f, String what) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String detail = cause instanceof SchemaValidationException s && s.getOutputUnit() != null
          ? cause.getMessage() + " [" + errors(s.getOutputUnit()) + "]" : String.valueOf(cause.getMessage());
      throw new AssertionError(what + ": " + detail, cause);
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(what + ": " + e, e);
    }
  }
}
