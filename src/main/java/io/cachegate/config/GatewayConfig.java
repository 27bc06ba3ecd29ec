package io.cachegate.config;

import io.cachegate.rules.InvalidationRule;
import io.cachegate.rules.Template;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The validated, typed configuration. Built once at start-up by {@link ConfigLoader}; immutable, so
 * every verticle may hold it. {@link #raw()} keeps the merged tree so it can travel as a verticle config.
 */
public record GatewayConfig(
    Http http, Redis redis, Postgres postgres, Capture capture, Cache cache, Stream stream, Auth auth,
    Map<String, InvalidationRule> events, Map<String, Strategy> strategies, boolean demoSchema,
    long shutdownGraceMs, String instanceId, boolean demo, Limits limits, JsonObject raw) {

  public record Http(String host, int port, long maxBodyBytes, int instances, String webroot) {}

  /** {@code tlsCaFile}: {@code redis.tls.caFile}, the PEM CA bundle for rediss:// ("" = the JVM's trust store). */
  public record Redis(String url, String namespace, long commandTimeoutMs, int poolSize, long reconnectMaxDelayMs,
                      String tlsCaFile) {
    public boolean embedded() {
      return url.isEmpty();
    }

    /** The URL's parts (scheme, host, user); it was checked at config load. */
    public RedisUrl parsed() {
      return RedisUrl.parse(url);
    }

    @Override
    public String toString() {
      return "Redis[url=" + io.cachegate.support.ConnectionErrors.redact(url) + ", namespace=" + namespace
          + ", tlsCaFile=" + tlsCaFile + "]"; // never the password
    }
  }

  public record Postgres(String url, List<String> channels, int poolSize, long queryTimeoutMs) {
    public boolean embedded() {
      return url.isEmpty();
    }

    /** The URL read as libpq reads it (TLS settings included); it was checked at config load. */
    public PostgresUrl parsed() {
      return PostgresUrl.parse(url);
    }

    @Override
    public String toString() {
      return "Postgres[url=" + io.cachegate.support.ConnectionErrors.redact(url) + ", channels=" + channels + "]"; // never the password
    }
  }

  public record Capture(boolean enabled, String wakeupChannel, long pollIntervalMs, int batchSize, long lingerMs,
                        long reconnectMinDelayMs, long reconnectMaxDelayMs, long leaderPollMs, long heartbeatMs,
                        long heartbeatTimeoutMs, long statusIntervalMs, Map<String, InvalidationRule> tables) {}

  public record Cache(long defaultTtl, long maxTtl, int maxCascade, long leaseTtlMs, long sweepIntervalMs,
                      double refreshAheadBeta, long coAccessTtlMs, int coAccessKeep, int autoDependsLimit,
                      int autoDependsMinScore, Adaptive adaptive, int instances) {}

  public record Stream(long historyMaxLen, long historyHardMaxLen, long historyMaxAgeMs, long trimIntervalMs, int maxReplay, int maxFrameBytes, int writeQueueMaxBytes,
                       int writeQueueMaxFrames, int socketSendBufferBytes,
                       int maxNamesPerSocket, int maxMalformedFrames, long pingIntervalMs, long stallTimeoutMs,
                       boolean compression) {}

  public enum Scope { READ, WRITE, INVALIDATE, ADMIN }

  /** An API key; {@code token} was read from the environment variable {@code tokenEnv}. */
  public record ApiKey(String name, String tokenEnv, String token, Set<Scope> scopes) {
    @Override
    public String toString() {
      return "ApiKey[" + name + ", env " + tokenEnv + ", scopes " + scopes + "]"; // never print the token
    }
  }

  /** {@code jwtSecret}: the HS256 secret read from {@code auth.jwt.secretEnv}, or null (no stream tokens). */
  public record Auth(boolean enabled, List<ApiKey> apiKeys, byte[] jwtSecret, long jwtMaxTtl) {
    @Override
    public String toString() {
      return "Auth[enabled=" + enabled + ", keys=" + apiKeys + ", jwt=" + (jwtSecret != null) + "]"; // never the secret
    }
  }

  /** Limits of the HTTP side: REST requests per second per API key (or per address with auth off). */
  public record Limits(int ratePerSecond, int burst, List<String> allowedOrigins, int maxNamesPerSubscribe,
                       int maxSocketsPerAddress) {}

  /** A data type's TTL policy: {@code strategies.<name>}; {@code adaptive}: the adaptive rules may adjust it. */
  public record Strategy(String name, Long ttl, List<Template> tags, List<Template> dependsOn, boolean adaptive) {}

  /** The adaptive TTL rules ({@code adaptive.*}), applied per data type. */
  public record Adaptive(boolean enabled, long windowMs, double hotReadsPerMin, double hotFactor, double coldReadsPerMin,
                         double coldFactor, double writeHeavyRatio, long writeHeavyMaxTtl, long minTtl) {}

  private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  static GatewayConfig from(JsonObject t, Map<String, String> env) {
    Redis redis = new Redis(str(t, "redis.url"), str(t, "redis.namespace"),
        range(t, "redis.commandTimeoutMs", 10, 600_000), (int) range(t, "redis.poolSize", 1, 1024),
        range(t, "redis.reconnectMaxDelayMs", 10, 600_000), str(t, "redis.tls.caFile"));
    Postgres pg = new Postgres(str(t, "postgres.url"), channels(t), (int) range(t, "postgres.poolSize", 1, 1024),
        range(t, "postgres.queryTimeoutMs", 10, 600_000));
    if (redis.embedded() != pg.embedded()) {
      throw new ConfigException(redis.embedded() ? "redis.url" : "postgres.url",
          "give both redis.url and postgres.url (external mode) or neither (embedded mode)");
    }
    if (!redis.embedded()) {
      RedisUrl r = RedisUrl.parse(redis.url); // a bad URL stops start-up here, named, without the password
      if (!redis.tlsCaFile.isEmpty()) {
        if (!r.tls()) {
          throw new ConfigException("redis.tls.caFile", "is set but redis.url is redis:// (no TLS); use rediss://, or clear redis.tls.caFile");
        }
        redis = new Redis(redis.url, redis.namespace, redis.commandTimeoutMs, redis.poolSize, redis.reconnectMaxDelayMs,
            CaFile.check(redis.tlsCaFile, "redis.tls.caFile", "file"));
      }
    } else if (!redis.tlsCaFile.isEmpty()) {
      throw new ConfigException("redis.tls.caFile", "is set but redis.url is empty (embedded mode has no TLS)");
    }
    if (!pg.embedded()) PostgresUrl.parse(pg.url); // sslmode, sslrootcert (the file must be PEM), parameters
    Http http = new Http(str(t, "http.host"), (int) range(t, "http.port", 0, 65535),
        range(t, "http.maxBodyBytes", 64, 64L * 1024 * 1024), (int) range(t, "http.instances", 0, 256),
        str(t, "http.webroot"));
    if (http.host.isBlank()) throw new ConfigException("http.host", "must not be empty");
    String wake = str(t, "capture.wakeupChannel");
    if (!IDENT.matcher(wake).matches()) throw new ConfigException("capture.wakeupChannel", "must be a plain identifier");
    Capture capture = new Capture(bool(t, "capture.enabled"), wake,
        range(t, "capture.pollIntervalMs", 10, 3_600_000), (int) range(t, "capture.batchSize", 1, 100_000),
        range(t, "capture.lingerMs", 0, 1000),
        range(t, "capture.reconnectMinDelayMs", 1, 600_000), range(t, "capture.reconnectMaxDelayMs", 10, 600_000),
        range(t, "capture.leaderPollMs", 10, 600_000), range(t, "capture.heartbeatMs", 10, 600_000),
        range(t, "capture.heartbeatTimeoutMs", 10, 600_000), range(t, "capture.statusIntervalMs", 10, 600_000), tables(t));
    if (capture.reconnectMinDelayMs() > capture.reconnectMaxDelayMs()) {
      throw new ConfigException("capture.reconnectMinDelayMs", "must not exceed capture.reconnectMaxDelayMs");
    }
    long defaultTtl = range(t, "cache.defaultTtl", 1, Long.MAX_VALUE);
    long maxTtl = range(t, "cache.maxTtl", 1, Long.MAX_VALUE);
    if (defaultTtl > maxTtl) throw new ConfigException("cache.defaultTtl", "must not exceed cache.maxTtl (" + maxTtl + ")");
    Adaptive adaptive = new Adaptive(bool(t, "adaptive.enabled"), range(t, "adaptive.windowMs", 1000, 86_400_000),
        decimal(t, "adaptive.hotReadsPerMin", 0, 1e9), decimal(t, "adaptive.hotFactor", 1, 1000),
        decimal(t, "adaptive.coldReadsPerMin", 0, 1e9), decimal(t, "adaptive.coldFactor", 0.001, 1),
        decimal(t, "adaptive.writeHeavyRatio", 0, 1e6), range(t, "adaptive.writeHeavyMaxTtl", 1, maxTtl),
        range(t, "adaptive.minTtl", 1, maxTtl));
    Cache cache = new Cache(defaultTtl, maxTtl, (int) range(t, "cache.maxCascade", 1, 1_000_000),
        range(t, "cache.leaseTtlMs", 100, 3_600_000), range(t, "cache.sweepIntervalMs", 100, 86_400_000),
        decimal(t, "cache.refreshAheadBeta", 0, 100), range(t, "cache.coAccessTtlMs", 1000, 30L * 86_400_000),
        (int) range(t, "cache.coAccessKeep", 1, 10_000), (int) range(t, "cache.autoDependsLimit", 1, 256),
        (int) range(t, "cache.autoDependsMinScore", 1, 1_000_000), adaptive, (int) range(t, "cache.instances", 0, 256));
    Stream stream = new Stream(range(t, "stream.historyMaxLen", 10, 100_000_000),
        range(t, "stream.historyHardMaxLen", 10, 1_000_000_000),
        range(t, "stream.historyMaxAgeMs", 1000, 365L * 86_400_000), range(t, "stream.trimIntervalMs", 10, 3_600_000),
        (int) range(t, "stream.maxReplay", 1, 10_000_000), (int) range(t, "stream.maxFrameBytes", 256, 16 * 1024 * 1024),
        (int) range(t, "stream.writeQueueMaxBytes", 1024, 256 * 1024 * 1024),
        (int) range(t, "stream.writeQueueMaxFrames", 1, 10_000_000), (int) range(t, "stream.socketSendBufferBytes", 0, 64 * 1024 * 1024),
        (int) range(t, "stream.maxNamesPerSocket", 1, 1_000_000), (int) range(t, "stream.maxMalformedFrames", 1, 1_000_000),
        range(t, "stream.pingIntervalMs", 10, 3_600_000), range(t, "stream.stallTimeoutMs", 20, 86_400_000),
        bool(t, "stream.compression"));
    if (stream.historyHardMaxLen() < stream.historyMaxLen()) {
      throw new ConfigException("stream.historyHardMaxLen", "must be at least stream.historyMaxLen (" + stream.historyMaxLen() + ")");
    }
    if (stream.stallTimeoutMs() < 2 * stream.pingIntervalMs()) {
      throw new ConfigException("stream.stallTimeoutMs", "must be at least twice stream.pingIntervalMs (" + stream.pingIntervalMs()
          + "), or quiet but healthy clients would be closed");
    }
    boolean authOn = boolOr(t, "auth.enabled", !redis.embedded());
    String secretEnv = str(t, "auth.jwt.secretEnv");
    byte[] secret = null;
    if (!secretEnv.isEmpty()) {
      String v = env.get(secretEnv);
      if (v == null || v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
        throw new ConfigException("auth.jwt.secretEnv", "environment variable " + secretEnv
            + " is unset or shorter than 32 bytes; refusing to start rather than accept unsigned stream tokens");
      }
      secret = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    Auth auth = new Auth(authOn, apiKeys(t, env), secret, range(t, "auth.jwt.maxTtl", 1, 30L * 86_400));
    Object origins = ConfigLoader.get(t, "stream.allowedOrigins");
    if (!(origins instanceof JsonArray oa) || oa.stream().anyMatch(o -> !(o instanceof String))) {
      throw new ConfigException("stream.allowedOrigins", "must be a list of origins such as https://app.example.com");
    }
    Limits limits = new Limits((int) range(t, "http.rateLimitPerSecond", 1, 10_000_000), (int) range(t, "http.rateLimitBurst", 1, 10_000_000),
        List.copyOf(oa.stream().map(String::valueOf).toList()), (int) range(t, "stream.maxNamesPerSubscribe", 1, 100_000),
        (int) range(t, "stream.maxSocketsPerAddress", 1, 1_000_000));
    if (auth.enabled && auth.apiKeys.isEmpty()) {
      throw new ConfigException("auth.apiKeys", "auth.enabled is true but no API key is configured; "
          + "add auth.apiKeys: [{name, tokenEnv, scopes}] and set each tokenEnv variable, or set auth.enabled: false");
    }
    String instance = str(t, "instance.id");
    if (instance.isEmpty()) instance = defaultInstanceId();
    if (!Pattern.matches("[A-Za-z0-9._:-]{1,64}", instance)) {
      throw new ConfigException("instance.id", "must be 1 to 64 letters, digits or . _ : -");
    }
    boolean demo = boolOr(t, "demo.enabled", redis.embedded());
    return new GatewayConfig(http, redis, pg, capture, cache, stream, auth, events(t), strategies(t, maxTtl),
        bool(t, "embedded.demoSchema"), range(t, "shutdown.graceMs", 0, 600_000), instance, demo, limits, t.copy());
  }

  /** A switch whose default depends on the mode (embedded or external): unset means {@code dflt}. */
  private static boolean boolOr(JsonObject t, String path, boolean dflt) {
    return ConfigLoader.get(t, path) == null ? dflt : bool(t, path);
  }

  /** host-pid-random: unique per process, and per gateway when one JVM runs several (tests). */
  private static String defaultInstanceId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9.-]", "");
    } catch (java.io.IOException e) {
      host = "host";
    }
    if (host.length() > 40) host = host.substring(0, 40);
    return host + "-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(new java.security.SecureRandom().nextInt(0x10000));
  }

  /** Without {@link #raw()}: the merged tree holds the URLs as given, passwords included. */
  @Override
  public String toString() {
    return "GatewayConfig[instance=" + instanceId + ", http=" + http + ", redis=" + redis + ", postgres=" + postgres
        + ", auth=" + auth + ", tables=" + capture.tables().keySet() + "]";
  }

  public boolean embedded() {
    return redis.embedded();
  }

  /** A copy with the given service URLs (used once embedded services are up). */
  public GatewayConfig withUrls(String redisUrl, String postgresUrl) {
    return new GatewayConfig(http,
        new Redis(redisUrl, redis.namespace, redis.commandTimeoutMs, redis.poolSize, redis.reconnectMaxDelayMs, redis.tlsCaFile),
        new Postgres(postgresUrl, postgres.channels, postgres.poolSize, postgres.queryTimeoutMs),
        capture, cache, stream, auth, events, strategies, demoSchema, shutdownGraceMs, instanceId, demo, limits, raw);
  }

  /** A copy listening on another port (tests, several instances on one host). */
  public GatewayConfig withPort(int port) {
    return new GatewayConfig(new Http(http.host, port, http.maxBodyBytes, http.instances, http.webroot),
        redis, postgres, capture, cache, stream, auth, events, strategies, demoSchema, shutdownGraceMs, instanceId, demo, limits, raw);
  }

  // ---- readers with the key in every message ----

  private static String str(JsonObject t, String path) {
    Object v = ConfigLoader.get(t, path);
    if (v == null) return "";
    if (v instanceof String s) return s.trim();
    if (v instanceof Number || v instanceof Boolean) return v.toString();
    throw new ConfigException(path, "must be a string");
  }

  private static boolean bool(JsonObject t, String path) {
    Object v = ConfigLoader.get(t, path);
    if (v instanceof Boolean b) return b;
    throw new ConfigException(path, "must be true or false, got " + v);
  }

  private static long range(JsonObject t, String path, long min, long max) {
    Object v = ConfigLoader.get(t, path);
    if (!(v instanceof Number n) || (n.doubleValue() != Math.rint(n.doubleValue()))) {
      throw new ConfigException(path, "must be a whole number, got " + v);
    }
    // beyond a long (Jackson's BigInteger) is out of range, never wrapped into it
    long l = Math.abs(n.doubleValue()) >= 0x1p62 ? (n.doubleValue() > 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : n.longValue();
    if (l < min || l > max) throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + v);
    return l;
  }

  private static double decimal(JsonObject t, String path, double min, double max) {
    Object v = ConfigLoader.get(t, path);
    if (!(v instanceof Number n) || Double.isNaN(n.doubleValue())) throw new ConfigException(path, "must be a number, got " + v);
    double d = n.doubleValue();
    if (d < min || d > max) throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + d);
    return d;
  }

  private static List<String> channels(JsonObject t) {
    Object v = ConfigLoader.get(t, "postgres.channels");
    if (!(v instanceof JsonArray arr)) throw new ConfigException("postgres.channels", "must be a list of channel names");
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String s) || !IDENT.matcher(s).matches()) {
        throw new ConfigException("postgres.channels", "'" + o + "' is not a plain identifier");
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  private static JsonObject section(JsonObject t, String path) {
    Object v = ConfigLoader.get(t, path);
    if (v == null) return new JsonObject();
    if (!(v instanceof JsonObject o)) throw new ConfigException(path, "must be a mapping");
    return o;
  }

  private static Map<String, InvalidationRule> tables(JsonObject t) {
    Map<String, InvalidationRule> out = new LinkedHashMap<>();
    JsonObject s = section(t, "capture.tables");
    for (String table : s.fieldNames()) {
      String where = "capture.tables." + table;
      if (!Pattern.matches("([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*", table)) {
        throw new ConfigException(where, "table name must be an identifier, optionally schema-qualified");
      }
      if (!(s.getValue(table) instanceof JsonObject o)) throw new ConfigException(where, "must be a mapping with keys, tags and/or prefixes");
      try {
        out.put(table, InvalidationRule.parseTable(table, o, where));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(where, e.getMessage());
      }
    }
    return Map.copyOf(out);
  }

  private static Map<String, InvalidationRule> events(JsonObject t) {
    Map<String, InvalidationRule> out = new LinkedHashMap<>();
    JsonObject s = section(t, "events");
    for (String name : s.fieldNames()) out.put(name, rule(name, s.getValue(name), "events." + name));
    return Map.copyOf(out);
  }

  private static InvalidationRule rule(String name, Object spec, String where) {
    if (!(spec instanceof JsonObject o)) throw new ConfigException(where, "must be a mapping with keys, tags and/or prefixes");
    try {
      return InvalidationRule.parse(name, o, where);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where, e.getMessage());
    }
  }

  private static Map<String, Strategy> strategies(JsonObject t, long maxTtl) {
    Map<String, Strategy> out = new LinkedHashMap<>();
    JsonObject s = section(t, "strategies");
    for (String name : s.fieldNames()) {
      String where = "strategies." + name;
      if (!(s.getValue(name) instanceof JsonObject o)) throw new ConfigException(where, "must be a mapping");
      Long ttl = null;
      if (o.getValue("ttl") != null) {
        JsonObject holder = new JsonObject().put("ttl", o.getValue("ttl"));
        ttl = range(holder, "ttl", 1, maxTtl);
      }
      for (String f : o.fieldNames()) {
        if (!List.of("ttl", "tags", "dependsOn", "adaptive").contains(f)) {
          throw new ConfigException(where + "." + f, "unknown (allowed: ttl, tags, dependsOn, adaptive)");
        }
      }
      Object adaptive = o.getValue("adaptive");
      if (adaptive != null && !(adaptive instanceof Boolean)) throw new ConfigException(where + ".adaptive", "must be true or false");
      try {
        List<Template> tags = List.copyOf(InvalidationRule.templates(o, "tags", where));
        List<Template> deps = List.copyOf(InvalidationRule.templates(o, "dependsOn", where));
        out.put(name, new Strategy(name, ttl, tags, deps, !Boolean.FALSE.equals(adaptive)));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(where, e.getMessage());
      }
    }
    return Map.copyOf(out);
  }

  private static List<ApiKey> apiKeys(JsonObject t, Map<String, String> env) {
    Object v = ConfigLoader.get(t, "auth.apiKeys");
    if (!(v instanceof JsonArray arr)) throw new ConfigException("auth.apiKeys", "must be a list of {name, tokenEnv, scopes}");
    List<ApiKey> out = new ArrayList<>();
    for (int i = 0; i < arr.size(); i++) {
      String where = "auth.apiKeys[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject o)) throw new ConfigException(where, "must be a mapping {name, tokenEnv, scopes}");
      String name = o.getString("name", "");
      String envName = o.getString("tokenEnv", "");
      if (name.isBlank()) throw new ConfigException(where + ".name", "is required");
      if (envName.isBlank()) throw new ConfigException(where + ".tokenEnv", "is required: the environment variable holding the key");
      String token = env.get(envName);
      if (token == null || token.length() < 16) {
        throw new ConfigException(where + ".tokenEnv", "environment variable " + envName + " is unset or shorter than 16 characters");
      }
      Set<Scope> scopes = new java.util.HashSet<>();
      JsonArray sc = o.getJsonArray("scopes", new JsonArray());
      for (Object s : sc) {
        try {
          scopes.add(Scope.valueOf(String.valueOf(s).toUpperCase(java.util.Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(where + ".scopes", "unknown scope '" + s + "' (read, write, invalidate, admin)");
        }
      }
      if (scopes.isEmpty()) throw new ConfigException(where + ".scopes", "names no scope");
      out.add(new ApiKey(name, envName, token, Set.copyOf(scopes)));
    }
    return List.copyOf(out);
  }
}
