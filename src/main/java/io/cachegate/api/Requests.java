package io.cachegate.api;

import io.cachegate.model.ErrorCode;
import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.PutCommand;
import io.cachegate.model.Names;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.GatewayConfig.Strategy;
import io.cachegate.rules.InvalidationRule;
import io.cachegate.model.Targets;
import io.cachegate.rules.Template;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns request bodies into bus commands, checking every field (plain logic, no I/O). Anything
 * unusable throws a 400 {@link ApiError} naming the field, before anything is written.
 */
public final class Requests {

  public static final int MAX_NAMES = 10_000;
  public static final int MAX_TAGS_PER_ENTRY = 256;
  public static final int MAX_MULTI_GET = 100;
  private static final Set<String> PUT_FIELDS =
      Set.of("value", "ttl", "type", "params", "tags", "dependsOn", "sliding", "ifVersion", "lease", "computeMs");
  private static final Set<String> INVALIDATION_FIELDS = Set.of("keys", "tags", "prefixes", "cascade", "reason", "mode");

  private Requests() {}

  public static void checkName(String kind, String name) {
    String problem = Names.problem(kind, name);
    if (problem != null) throw new ApiError(ErrorCode.BAD_NAME, problem);
  }

  public static PutCommand put(String key, JsonObject body, GatewayConfig config) {
    checkName("key", key);
    unknownFields(body, PUT_FIELDS);
    if (!body.containsKey("value")) throw ApiError.badRequest("value is required (any JSON value)");
    Strategy strategy = null;
    if (body.getValue("type") != null) {
      String type = string(body, "type");
      strategy = config.strategies().get(type);
      if (strategy == null) throw ApiError.badRequest("type '" + type + "' is not a configured strategy");
    }
    JsonObject params = body.getValue("params") == null ? new JsonObject() : object(body, "params");
    long ttl;
    if (body.getValue("ttl") != null) {
      ttl = wholeNumber(body, "ttl", "seconds");
      if (ttl < 1 || ttl > config.cache().maxTtl()) {
        throw ApiError.badRequest("ttl must be between 1 and " + config.cache().maxTtl() + " seconds");
      }
    } else if (strategy != null && strategy.ttl() != null) {
      ttl = strategy.ttl();
    } else {
      ttl = config.cache().defaultTtl();
    }
    List<String> tags = new ArrayList<>(names(body, "tags", "tag", MAX_TAGS_PER_ENTRY));
    boolean autoDepends = "auto".equals(body.getValue("dependsOn"));
    List<String> deps = new ArrayList<>(autoDepends ? List.of() : names(body, "dependsOn", "key", MAX_TAGS_PER_ENTRY));
    if (strategy != null) {
      tags.addAll(render(strategy.tags(), params, "tag"));
      deps.addAll(render(strategy.dependsOn(), params, "key"));
    }
    List<String> expanded = Names.expandTags(tags);
    if (expanded.size() > MAX_TAGS_PER_ENTRY) throw ApiError.badRequest("an entry may carry at most " + MAX_TAGS_PER_ENTRY + " tags with their parents");
    if (deps.contains(key)) throw ApiError.badRequest("dependsOn must not name the entry itself");
    boolean sliding = body.getValue("sliding") != null && bool(body, "sliding");
    String ifVersion = body.getValue("ifVersion") == null ? null : scalar(body, "ifVersion");
    String lease = body.getValue("lease") == null ? null : string(body, "lease");
    long computeMs = 0;
    if (body.getValue("computeMs") != null) {
      computeMs = wholeNumber(body, "computeMs", "milliseconds");
      if (computeMs < 1 || computeMs > 3_600_000) throw ApiError.badRequest("computeMs must be between 1 and 3600000");
    }
    boolean ttlExplicit = body.getValue("ttl") != null;
    return new PutCommand(key, Json.encode(body.getValue("value")), ttl, expanded, deps.stream().distinct().toList(),
        sliding, ifVersion, lease, strategy == null ? null : strategy.name(), ttlExplicit || (strategy != null && !strategy.adaptive()),
        autoDepends, computeMs);
  }

  public static Invalidation invalidation(JsonObject body) {
    unknownFields(body, INVALIDATION_FIELDS);
    Targets t = new Targets(names(body, "keys", "key", MAX_NAMES), names(body, "tags", "tag", MAX_NAMES),
        names(body, "prefixes", "prefix", MAX_NAMES));
    if (t.isEmpty()) throw ApiError.badRequest("name at least one of keys, tags or prefixes");
    if (t.keys().size() + t.tags().size() + t.prefixes().size() > MAX_NAMES) {
      throw ApiError.badRequest("one invalidation may name at most " + MAX_NAMES + " keys, tags and prefixes");
    }
    boolean cascade = body.getValue("cascade") == null || bool(body, "cascade");
    String reason = body.getValue("reason") == null ? null : string(body, "reason");
    if (reason != null && reason.length() > 512) throw ApiError.badRequest("reason is longer than 512 characters");
    return new Invalidation(t, cascade, soft(body.getValue("mode")), Cause.api(reason));
  }

  /** An invalidation's {@code mode} (body field or query parameter): absent or hard, or soft. */
  public static boolean soft(Object mode) {
    if (mode != null && !"hard".equals(mode) && !"soft".equals(mode)) throw ApiError.badRequest("mode must be hard or soft");
    return "soft".equals(mode);
  }

  /** The {@code cg} claim of {@code POST /v1/tokens}: names, patterns ending in *, or * alone. */
  public static JsonObject tokenClaim(JsonObject body) {
    unknownFields(body, Set.of("keys", "tags", "prefixes", "ttl"));
    JsonObject cg = new JsonObject();
    for (String field : List.of("keys", "tags", "prefixes")) {
      Object v = body.getValue(field);
      JsonArray out = new JsonArray();
      if (v != null) {
        if (!(v instanceof JsonArray arr)) throw ApiError.badRequest(field + " must be a list of names or patterns");
        if (arr.size() > MAX_NAMES) throw ApiError.badRequest(field + " may hold at most " + MAX_NAMES + " entries");
        for (Object o : arr) {
          if (!(o instanceof String p)) throw ApiError.badRequest(field + " must hold strings");
          if (!p.equals("*")) checkName(field, p.endsWith("*") ? p.substring(0, p.length() - 1) + "x" : p);
          out.add(p);
        }
      }
      cg.put(field, out);
    }
    return cg;
  }

  public static long tokenTtl(JsonObject body, long maxTtl) {
    if (body.getValue("ttl") == null) return Math.min(3600, maxTtl);
    long ttl = wholeNumber(body, "ttl", "seconds");
    if (ttl < 1 || ttl > maxTtl) throw ApiError.badRequest("ttl must be between 1 and " + maxTtl + " seconds");
    return ttl;
  }

  /** {@code GET /v1/entries?keys=a,b,c}: 1 to {@link #MAX_MULTI_GET} valid keys. */
  public static List<String> multiGetKeys(String keysParam) {
    if (keysParam == null || keysParam.isEmpty()) throw ApiError.badRequest("keys is required: ?keys=a,b,c");
    String[] parts = keysParam.split(",", -1);
    if (parts.length > MAX_MULTI_GET) throw ApiError.badRequest("at most " + MAX_MULTI_GET + " keys per multi-get");
    List<String> keys = new ArrayList<>();
    for (String k : parts) {
      checkName("key", k);
      if (!keys.contains(k)) keys.add(k);
    }
    return keys;
  }

  /** The body of {@code POST /v1/entries/{key}/touch}: empty, or {@code {"ttl": seconds}}. */
  public static Long touchTtl(JsonObject body, GatewayConfig config) {
    if (body == null) return null;
    unknownFields(body, Set.of("ttl"));
    if (body.getValue("ttl") == null) return null;
    long ttl = wholeNumber(body, "ttl", "seconds");
    if (ttl < 1 || ttl > config.cache().maxTtl()) throw ApiError.badRequest("ttl must be between 1 and " + config.cache().maxTtl() + " seconds");
    return ttl;
  }

  public static Invalidation event(String name, InvalidationRule rule, JsonObject body) {
    String missing = rule.missingField(body);
    if (missing != null) throw ApiError.badRequest("event '" + name + "' needs the field '" + missing + "' in its body");
    Targets t = rule.render(body);
    for (String k : t.keys()) checkName("key", k);
    for (String g : t.tags()) checkName("tag", g);
    for (String p : t.prefixes()) checkName("prefix", p);
    return new Invalidation(t, true, rule.soft(), Cause.event(name, null));
  }

  /** A whole-number query parameter from 1 to {@code max}; absent: {@code dflt}. */
  public static int limit(String value, int dflt, int max) {
    if (value == null) return dflt;
    try {
      int n = Integer.parseInt(value);
      if (n >= 1 && n <= max) return n;
    } catch (NumberFormatException e) {
      // refused below
    }
    throw ApiError.badRequest("limit must be a whole number from 1 to " + max);
  }

  /** A boolean query parameter: absent or {@code false} is false, {@code true} true, anything else 400. */
  public static boolean flag(String value, String name) {
    if (value == null || value.equals("false")) return false;
    if (value.equals("true")) return true;
    throw ApiError.badRequest(name + " must be true or false");
  }

  /** A row change to evaluate against a table's rule: {@code POST /v1/rules/{table}/evaluate}. */
  public record RowChange(String op, JsonObject oldRow, JsonObject newRow) {}

  private static final List<String> ROW_OPS = List.of("INSERT", "UPDATE", "DELETE", "TRUNCATE");

  /**
   * {@code {"op", "old", "new"}}: INSERT takes the new row, DELETE the old one, UPDATE both, TRUNCATE
   * none. A row must hold every column the rule reads (a JSON null is a value: it renders nothing, as
   * in the capture), so a typo in a column name is a 400 naming it rather than a silent empty answer.
   */
  public static RowChange rowChange(String table, InvalidationRule rule, JsonObject body) {
    unknownFields(body, Set.of("op", "old", "new"));
    String op = string(body, "op");
    if (!ROW_OPS.contains(op)) throw ApiError.badRequest("op must be one of " + String.join(", ", ROW_OPS) + ", got '" + op + "'");
    boolean wantsOld = op.equals("UPDATE") || op.equals("DELETE");
    boolean wantsNew = op.equals("UPDATE") || op.equals("INSERT");
    JsonObject oldRow = row(body, "old", wantsOld, op);
    JsonObject newRow = row(body, "new", wantsNew, op);
    columns(table, rule, "old", oldRow);
    columns(table, rule, "new", newRow);
    return new RowChange(op, oldRow, newRow);
  }

  private static void columns(String table, InvalidationRule rule, String which, JsonObject row) {
    if (row == null) return;
    for (String column : rule.fields()) {
      if (!row.containsKey(column)) {
        throw ApiError.badRequest("the " + which + " row has no column '" + column + "', which the rule of " + table
            + " reads (it reads " + String.join(", ", rule.fields()) + ")");
      }
    }
  }

  private static JsonObject row(JsonObject body, String field, boolean wanted, String op) {
    if (!wanted) {
      if (body.containsKey(field)) throw ApiError.badRequest(op + " takes no " + field + " row");
      return null;
    }
    if (!body.containsKey(field)) throw ApiError.badRequest(op + " needs the " + field + " row: \"" + field + "\": {column: value, ...}");
    return object(body, field);
  }

  // ---- field readers: each names the field it refuses ----

  private static void unknownFields(JsonObject body, Set<String> allowed) {
    for (String f : body.fieldNames()) {
      if (!allowed.contains(f)) throw ApiError.badRequest("unknown field '" + f + "' (allowed: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
    }
  }

  private static List<String> render(List<Template> templates, JsonObject params, String kind) {
    List<String> out = new ArrayList<>();
    for (Template t : templates) {
      String missing = t.missingField(params);
      if (missing != null) throw ApiError.badRequest("params." + missing + " is required by the type's template " + t);
      String name = t.render(params);
      checkName(kind, name);
      out.add(name);
    }
    return out;
  }

  private static List<String> names(JsonObject body, String field, String kind, int max) {
    Object v = body.getValue(field);
    if (v == null) return List.of();
    if (!(v instanceof JsonArray arr)) throw ApiError.badRequest(field + " must be a list of strings");
    if (arr.size() > max) throw ApiError.badRequest(field + " may hold at most " + max + " names");
    // a set, not List.contains: 10,000 names would otherwise cost 50 million comparisons on the event loop
    java.util.Set<String> out = new java.util.LinkedHashSet<>(arr.size() * 2);
    for (Object o : arr) {
      if (!(o instanceof String s)) throw ApiError.badRequest(field + " must be a list of strings");
      checkName(kind, s);
      out.add(s);
    }
    return List.copyOf(out);
  }

  private static String string(JsonObject body, String field) {
    if (body.getValue(field) instanceof String s) return s;
    throw ApiError.badRequest(field + " must be a string");
  }

  private static String scalar(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v instanceof String s) return s;
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return Long.toString(n.longValue());
    throw ApiError.badRequest(field + " must be a version string");
  }

  private static boolean bool(JsonObject body, String field) {
    if (body.getValue(field) instanceof Boolean b) return b;
    throw ApiError.badRequest(field + " must be true or false");
  }

  private static JsonObject object(JsonObject body, String field) {
    if (body.getValue(field) instanceof JsonObject o) return o;
    throw ApiError.badRequest(field + " must be a JSON object");
  }

  /**
   * A whole number; one beyond a long is clamped, never wrapped (Jackson gives a BigInteger whose
   * longValue() keeps only the low 64 bits). {@code unit} names the field's unit in the message.
   */
  private static long wholeNumber(JsonObject body, String field, String unit) {
    Object v = body.getValue(field);
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !Double.isInfinite(n.doubleValue())) {
      // beyond a long: out of every range the callers check, so their "between" message answers
      return io.cachegate.support.Numbers.clampedLong(n);
    }
    throw ApiError.badRequest(field + " must be a whole number of " + unit);
  }
}
