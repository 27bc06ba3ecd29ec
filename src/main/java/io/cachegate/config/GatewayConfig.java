package io.cachegate.config;

import io.cachegate.config.ConfigKeys.Key;
import io.cachegate.rules.InvalidationRule;
import io.cachegate.rules.Template;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Pattern;

import static io.cachegate.config.ConfigKeys.*;

/**
 * The validated, typed configuration. Built once at start-up by {@link ConfigLoader}; immutable, so
 * every verticle may hold it. {@link #raw()} keeps the merged tree so it can travel as a verticle config.
 *
 * <p>Every key is declared once, in {@link ConfigKeys} (which also says how to add one). Read any key
 * with {@link #get}: {@code config.get(ConfigKeys.REDIS_COMMAND_TIMEOUT_MS)}. The sections
 * ({@link #http()}, {@link #redis()}, ...) are views of the same values for code that is handed only
 * its part; their named accessors are one line each, reading a declared key, and {@code get} works on
 * them too. {@link #from} holds what the declarations cannot say: rules between keys, the defaults that
 * depend on the mode, and the parsing of the structured keys.
 */
public final class GatewayConfig {

  private final Values values;
  private final KeyMaterial keys; // the HS256 secret (from the variable auth.jwt.secretEnv names) and publicKeyFile's keys
  private final JsonObject raw;
  private final Http http;
  private final Redis redis;
  private final Postgres postgres;
  private final Capture capture;
  private final Cache cache;
  private final Stream stream;
  private final Auth auth;
  private final Limits limits;

  private GatewayConfig(Values values, KeyMaterial keys, JsonObject raw) {
    this.values = values;
    this.keys = keys;
    this.raw = raw;
    this.http = new Http(values);
    this.redis = new Redis(values);
    this.postgres = new Postgres(values);
    this.capture = new Capture(values);
    this.cache = new Cache(values);
    this.stream = new Stream(values);
    this.auth = new Auth(values, keys);
    this.limits = new Limits(values);
  }

  static GatewayConfig from(JsonObject t, Map<String, String> env) {
    Values v = new Values();
    // each scalar key alone: type, range and format, as declared
    for (Key<?> key : ConfigKeys.ALL) if (!key.structured()) v.read(key, ConfigLoader.get(t, key.path()));

    // the services: both URLs (external mode) or neither (embedded mode); a bad URL stops start-up
    // here, named, without the password
    boolean embedded = v.get(REDIS_URL).isEmpty();
    if (embedded != v.get(POSTGRES_URL).isEmpty()) {
      throw new ConfigException(embedded ? "redis.url" : "postgres.url",
          "give both redis.url and postgres.url (external mode) or neither (embedded mode)");
    }
    String caFile = v.get(REDIS_TLS_CA_FILE);
    if (!embedded) {
      RedisUrl r = RedisUrl.parse(v.get(REDIS_URL));
      if (!caFile.isEmpty()) {
        if (!r.tls()) {
          throw new ConfigException("redis.tls.caFile", "is set but redis.url is redis:// (no TLS); use rediss://, or clear redis.tls.caFile");
        }
        v.put(REDIS_TLS_CA_FILE, CaFile.check(caFile, "redis.tls.caFile", "file"));
      }
      PostgresUrl.parse(v.get(POSTGRES_URL)); // sslmode, sslrootcert (the file must be PEM), parameters
    } else if (!caFile.isEmpty()) {
      throw new ConfigException("redis.tls.caFile", "is set but redis.url is empty (embedded mode has no TLS)");
    }
    v.put(POSTGRES_CHANNELS, channels(t));
    if ("cluster".equals(v.get(REDIS_MODE))) {
      if (v.get(REDIS_URL).isEmpty()) throw new ConfigException("redis.mode", "is cluster but redis.url is empty (embedded mode runs one Redis)");
      String ns = v.get(REDIS_NAMESPACE);
      if (ns.indexOf('{') >= 0 || ns.indexOf('}') >= 0) {
        throw new ConfigException("redis.namespace", "may not hold '{' or '}' in cluster mode: a brace in the namespace would "
            + "become the hash tag of every key and override the slot placement of the bookkeeping");
      }
    }

    // a backoff starts at most at its cap
    if (v.get(CAPTURE_RECONNECT_MIN_DELAY_MS) > v.get(CAPTURE_RECONNECT_MAX_DELAY_MS)) {
      throw new ConfigException("capture.reconnectMinDelayMs", "must not exceed capture.reconnectMaxDelayMs");
    }
    v.put(CAPTURE_TABLES, tables(t));

    // TTLs: the default, the adaptive bounds and every strategy's ttl are within cache.maxTtl
    long maxTtl = v.get(CACHE_MAX_TTL);
    if (v.get(CACHE_DEFAULT_TTL) > maxTtl) {
      throw new ConfigException("cache.defaultTtl", "must not exceed cache.maxTtl (" + maxTtl + ")");
    }
    for (Key<Long> k : List.of(ADAPTIVE_WRITE_HEAVY_MAX_TTL, ADAPTIVE_MIN_TTL)) ConfigKeys.whole(k.path(), v.get(k), 1, maxTtl);

    // the stream: the hard history cap is at least the soft one; a healthy client answers a ping
    // within one interval, so the stall timeout must span at least two
    if (v.get(STREAM_HISTORY_HARD_MAX_LEN) < v.get(STREAM_HISTORY_MAX_LEN)) {
      throw new ConfigException("stream.historyHardMaxLen", "must be at least stream.historyMaxLen (" + v.get(STREAM_HISTORY_MAX_LEN) + ")");
    }
    if (v.get(STREAM_STALL_TIMEOUT_MS) < 2 * v.get(STREAM_PING_INTERVAL_MS)) {
      throw new ConfigException("stream.stallTimeoutMs", "must be at least twice stream.pingIntervalMs (" + v.get(STREAM_PING_INTERVAL_MS)
          + "), or quiet but healthy clients would be closed");
    }

    // auth: unset = on in external mode; a named JWT secret must exist; on needs a key
    v.resolve(AUTH_ENABLED, !embedded);
    byte[] secret = jwtSecret(v.get(AUTH_JWT_SECRET_ENV), env);
    v.put(AUTH_API_KEYS, apiKeys(t, env));
    v.put(STREAM_ALLOWED_ORIGINS, origins(t));
    v.put(AUTH_JWT_AUDIENCE, audience(t));
    checkJwksUrl(v.get(AUTH_JWT_JWKS_URL));
    if (!v.get(AUTH_JWT_JWKS_CA_FILE).isEmpty()) {
      if (v.get(AUTH_JWT_JWKS_URL).isEmpty()) throw new ConfigException("auth.jwt.jwksCaFile", "is set but auth.jwt.jwksUrl is not");
      v.put(AUTH_JWT_JWKS_CA_FILE, CaFile.check(v.get(AUTH_JWT_JWKS_CA_FILE), "auth.jwt.jwksCaFile", "the file"));
    }
    List<java.security.PublicKey> publicKeys = v.get(AUTH_JWT_PUBLIC_KEY_FILE).isEmpty() ? List.of()
        : PublicKeyFile.read(v.get(AUTH_JWT_PUBLIC_KEY_FILE), "auth.jwt.publicKeyFile");
    boolean providerKeys = !publicKeys.isEmpty() || !v.get(AUTH_JWT_JWKS_URL).isEmpty();
    if (v.get(AUTH_ENABLED) && v.get(AUTH_API_KEYS).isEmpty() && !providerKeys) {
      throw new ConfigException("auth.apiKeys", "auth.enabled is true but no API key is configured; "
          + "add auth.apiKeys: [{name, tokenEnv, scopes}] and set each tokenEnv variable, or set auth.enabled: false");
    }

    if (v.get(INSTANCE_ID).isEmpty()) v.put(INSTANCE_ID, defaultInstanceId());
    v.resolve(DEMO_ENABLED, embedded); // unset = on in embedded mode
    v.put(EVENTS, events(t));
    v.put(STRATEGIES, strategies(t, maxTtl));
    v.requireAll();
    return new GatewayConfig(v, new KeyMaterial(secret, publicKeys), t.copy());
  }

  /** A key's value: {@code config.get(ConfigKeys.CACHE_MAX_TTL)}. */
  public <T> T get(Key<T> key) {
    return values.get(key);
  }

  public Http http() { return http; }
  public Redis redis() { return redis; }
  public Postgres postgres() { return postgres; }
  public Capture capture() { return capture; }
  public Cache cache() { return cache; }
  public Stream stream() { return stream; }
  public Auth auth() { return auth; }
  public Limits limits() { return limits; }
  public Map<String, InvalidationRule> events() { return get(EVENTS); }
  public Map<String, Strategy> strategies() { return get(STRATEGIES); }
  public boolean demoSchema() { return get(EMBEDDED_DEMO_SCHEMA); }
  public long shutdownGraceMs() { return get(SHUTDOWN_GRACE_MS); }

  /** {@code instance.id}, or host-pid-random when it was empty. */
  public String instanceId() { return get(INSTANCE_ID); }

  /** {@code metrics.vertx}: Vert.x's own metrics (HTTP server, event bus, pools, JVM) in /metrics. */
  public boolean vertxMetrics() { return get(METRICS_VERTX); }

  /** {@code instance.reportIntervalMs}. */
  public long reportIntervalMs() { return get(INSTANCE_REPORT_INTERVAL_MS); }

  /** {@code demo.enabled}, resolved by the mode when unset. */
  public boolean demo() { return get(DEMO_ENABLED); }

  /** The merged tree (defaults, file, environment); holds the URLs as given, passwords included. */
  public JsonObject raw() { return raw; }

  public boolean embedded() { return redis.embedded(); }

  /** A copy with the given service URLs (used once embedded services are up). */
  public GatewayConfig withUrls(String redisUrl, String postgresUrl) {
    return new GatewayConfig(values.with(REDIS_URL, redisUrl).with(POSTGRES_URL, postgresUrl), keys, raw);
  }

  /** A copy listening on another port (tests, several instances on one host). */
  public GatewayConfig withPort(int port) {
    return new GatewayConfig(values.with(HTTP_PORT, port), keys, raw);
  }

  /** Without {@link #raw()}: the merged tree holds the URLs as given, passwords included. */
  @Override
  public String toString() {
    return "GatewayConfig[instance=" + instanceId() + ", http=" + http + ", redis=" + redis + ", postgres=" + postgres
        + ", auth=" + auth + ", tables=" + capture.tables().keySet() + "]";
  }

  // ---- the sections: views of the values, one line per accessor ----

  /**
   * Some keys of the configuration. {@link #get} reads any declared key; {@code toString} shows the
   * keys under the section's path, URLs without their password.
   */
  public abstract static class Section {
    private final Values values;
    private final String prefix;

    Section(Values values, String prefix) {
      this.values = values;
      this.prefix = prefix;
    }

    public <T> T get(Key<T> key) {
      return values.get(key);
    }

    @Override
    public String toString() {
      StringJoiner out = new StringJoiner(", ", getClass().getSimpleName() + "[", "]");
      for (Key<?> k : ConfigKeys.ALL) {
        if (!k.path().startsWith(prefix + ".")) continue;
        Object value = values.get(k);
        String shown = k.path().endsWith(".url") ? ConnectionErrors.redact(String.valueOf(value)) : String.valueOf(value); // never the password
        out.add(k.path().substring(prefix.length() + 1) + "=" + shown);
      }
      return out.toString();
    }
  }

  /** {@code http.*}: the listener. */
  public static final class Http extends Section {
    Http(Values v) {
      super(v, "http");
    }

    public String host() { return get(HTTP_HOST); }
    public int port() { return get(HTTP_PORT); }
    public long maxBodyBytes() { return get(HTTP_MAX_BODY_BYTES); }
    public int instances() { return get(HTTP_INSTANCES); }
    public String webroot() { return get(HTTP_WEBROOT); }
  }

  /** {@code redis.*}; {@code tlsCaFile}: {@code redis.tls.caFile}, the PEM CA bundle for rediss:// ("" = the JVM's trust store). */
  public static final class Redis extends Section {
    Redis(Values v) {
      super(v, "redis");
    }

    public String url() { return get(REDIS_URL); }
    public String namespace() { return get(REDIS_NAMESPACE); }
    public long commandTimeoutMs() { return get(REDIS_COMMAND_TIMEOUT_MS); }
    public int poolSize() { return get(REDIS_POOL_SIZE); }
    public long reconnectMaxDelayMs() { return get(REDIS_RECONNECT_MAX_DELAY_MS); }
    public String tlsCaFile() { return get(REDIS_TLS_CA_FILE); }
    public boolean embedded() { return url().isEmpty(); }
    /** {@code redis.mode: cluster}: a Redis Cluster, commands routed by slot. */
    public boolean cluster() { return "cluster".equals(get(REDIS_MODE)); }

    /** The URL's parts (scheme, host, user); it was checked at config load. */
    public RedisUrl parsed() { return RedisUrl.parse(url()); }
  }

  /** {@code postgres.*}. */
  public static final class Postgres extends Section {
    Postgres(Values v) {
      super(v, "postgres");
    }

    public String url() { return get(POSTGRES_URL); }
    public List<String> channels() { return get(POSTGRES_CHANNELS); }
    public int poolSize() { return get(POSTGRES_POOL_SIZE); }
    public long queryTimeoutMs() { return get(POSTGRES_QUERY_TIMEOUT_MS); }
    public boolean embedded() { return url().isEmpty(); }

    /** The URL read as libpq reads it (TLS settings included); it was checked at config load. */
    public PostgresUrl parsed() { return PostgresUrl.parse(url()); }
  }

  /** {@code capture.*}: triggers, the outbox drain and its leader election. */
  public static final class Capture extends Section {
    Capture(Values v) {
      super(v, "capture");
    }

    public boolean enabled() { return get(CAPTURE_ENABLED); }
    public String wakeupChannel() { return get(CAPTURE_WAKEUP_CHANNEL); }
    public long pollIntervalMs() { return get(CAPTURE_POLL_INTERVAL_MS); }
    public int batchSize() { return get(CAPTURE_BATCH_SIZE); }
    public long lingerMs() { return get(CAPTURE_LINGER_MS); }
    public long reconnectMinDelayMs() { return get(CAPTURE_RECONNECT_MIN_DELAY_MS); }
    public long reconnectMaxDelayMs() { return get(CAPTURE_RECONNECT_MAX_DELAY_MS); }
    public long leaderPollMs() { return get(CAPTURE_LEADER_POLL_MS); }
    public long heartbeatMs() { return get(CAPTURE_HEARTBEAT_MS); }
    public long heartbeatTimeoutMs() { return get(CAPTURE_HEARTBEAT_TIMEOUT_MS); }
    public long statusIntervalMs() { return get(CAPTURE_STATUS_INTERVAL_MS); }
    public Map<String, InvalidationRule> tables() { return get(CAPTURE_TABLES); }
    /** {@code capture.mode} is {@code wal}: a logical replication slot instead of triggers and the outbox. */
    public boolean wal() { return "wal".equals(get(CAPTURE_MODE)); }
    public String walSlot() { return get(CAPTURE_WAL_SLOT); }
    public String walPublication() { return get(CAPTURE_WAL_PUBLICATION); }
    public boolean walSetReplicaIdentity() { return get(CAPTURE_WAL_SET_REPLICA_IDENTITY); }
    public long walMaxLagBytes() { return get(CAPTURE_WAL_MAX_LAG_BYTES); }
    public long walStatusIntervalMs() { return get(CAPTURE_WAL_STATUS_INTERVAL_MS); }
    public int walMaxPending() { return get(CAPTURE_WAL_MAX_PENDING); }
  }

  /** {@code cache.*}, with the {@code adaptive.*} rules. */
  public static final class Cache extends Section {
    private final Adaptive adaptive;

    Cache(Values v) {
      super(v, "cache");
      this.adaptive = Adaptive.of(v);
    }

    public long defaultTtl() { return get(CACHE_DEFAULT_TTL); }
    public long maxTtl() { return get(CACHE_MAX_TTL); }
    public int maxCascade() { return get(CACHE_MAX_CASCADE); }
    public long leaseTtlMs() { return get(CACHE_LEASE_TTL_MS); }
    public long sweepIntervalMs() { return get(CACHE_SWEEP_INTERVAL_MS); }
    public double refreshAheadBeta() { return get(CACHE_REFRESH_AHEAD_BETA); }
    public long coAccessTtlMs() { return get(CACHE_CO_ACCESS_TTL_MS); }
    public int coAccessKeep() { return get(CACHE_CO_ACCESS_KEEP); }
    public int autoDependsLimit() { return get(CACHE_AUTO_DEPENDS_LIMIT); }
    public int autoDependsMinScore() { return get(CACHE_AUTO_DEPENDS_MIN_SCORE); }
    public int instances() { return get(CACHE_INSTANCES); }
    public Adaptive adaptive() { return adaptive; }
  }

  /** {@code stream.*}: the WebSocket stream and its notice history. */
  public static final class Stream extends Section {
    Stream(Values v) {
      super(v, "stream");
    }

    public long historyMaxLen() { return get(STREAM_HISTORY_MAX_LEN); }
    public long historyHardMaxLen() { return get(STREAM_HISTORY_HARD_MAX_LEN); }
    public long historyMaxAgeMs() { return get(STREAM_HISTORY_MAX_AGE_MS); }
    public long trimIntervalMs() { return get(STREAM_TRIM_INTERVAL_MS); }
    public int maxReplay() { return get(STREAM_MAX_REPLAY); }
    public int maxFrameBytes() { return get(STREAM_MAX_FRAME_BYTES); }
    public int writeQueueMaxBytes() { return get(STREAM_WRITE_QUEUE_MAX_BYTES); }
    public int writeQueueMaxFrames() { return get(STREAM_WRITE_QUEUE_MAX_FRAMES); }
    public int socketSendBufferBytes() { return get(STREAM_SOCKET_SEND_BUFFER_BYTES); }
    public int maxNamesPerSocket() { return get(STREAM_MAX_NAMES_PER_SOCKET); }
    public int maxMalformedFrames() { return get(STREAM_MAX_MALFORMED_FRAMES); }
    public long pingIntervalMs() { return get(STREAM_PING_INTERVAL_MS); }
    public long stallTimeoutMs() { return get(STREAM_STALL_TIMEOUT_MS); }
    public boolean compression() { return get(STREAM_COMPRESSION); }
  }

  /** The token keys that are not a key's value: the HS256 secret (null: none) and the PEM file's public keys. */
  record KeyMaterial(byte[] secret, List<java.security.PublicKey> publicKeys) {}

  /** {@code auth.*}; the HS256 secret read from {@code auth.jwt.secretEnv} (null: none) and the PEM public keys. */
  public static final class Auth extends Section {
    private final KeyMaterial keys;

    Auth(Values v, KeyMaterial keys) {
      super(v, "auth");
      this.keys = keys;
    }

    /** {@code auth.enabled}, resolved by the mode when unset. */
    public boolean enabled() { return get(AUTH_ENABLED); }
    public List<ApiKey> apiKeys() { return get(AUTH_API_KEYS); }
    public byte[] jwtSecret() { return keys.secret(); }
    public long jwtMaxTtl() { return get(AUTH_JWT_MAX_TTL); }
    /** The keys of {@code auth.jwt.publicKeyFile}, read and checked at start-up. */
    public List<java.security.PublicKey> publicKeys() { return keys.publicKeys(); }
    public String jwksUrl() { return get(AUTH_JWT_JWKS_URL); }
    public String jwksCaFile() { return get(AUTH_JWT_JWKS_CA_FILE); }
    public long jwksRefreshSeconds() { return get(AUTH_JWT_JWKS_REFRESH_SECONDS); }
    public long jwksMinRefreshSeconds() { return get(AUTH_JWT_JWKS_MIN_REFRESH_SECONDS); }
    public String issuer() { return get(AUTH_JWT_ISSUER); }
    public List<String> audience() { return get(AUTH_JWT_AUDIENCE); }
    public String claim() { return get(AUTH_JWT_CLAIM); }
    public long clockSkewSeconds() { return get(AUTH_JWT_CLOCK_SKEW_SECONDS); }
    public String scopeClaim() { return get(AUTH_JWT_SCOPE_CLAIM); }
    public String scopePrefix() { return get(AUTH_JWT_SCOPE_PREFIX); }

    @Override
    public String toString() {
      return "Auth[enabled=" + enabled() + ", keys=" + apiKeys() + ", jwt=" + (keys.secret() != null) // never the secret
          + ", publicKeys=" + keys.publicKeys().size() + ", jwks=" + (jwksUrl().isEmpty() ? "none" : jwksUrl()) + "]";
    }
  }

  /** Limits of the HTTP side: REST requests per second per API key (or per address with auth off), stream admission. */
  public static final class Limits extends Section {
    Limits(Values v) {
      super(v, "limits"); // no such section: its keys live under http.* and stream.*
    }

    @Override
    public String toString() { return "Limits[ratePerSecond=" + ratePerSecond() + ", burst=" + burst() + ", allowedOrigins=" + allowedOrigins() + "]"; }
    public int ratePerSecond() { return get(HTTP_RATE_LIMIT_PER_SECOND); }
    public int burst() { return get(HTTP_RATE_LIMIT_BURST); }
    public List<String> allowedOrigins() { return get(STREAM_ALLOWED_ORIGINS); }
    public int maxNamesPerSubscribe() { return get(STREAM_MAX_NAMES_PER_SUBSCRIBE); }
    public int maxSocketsPerAddress() { return get(STREAM_MAX_SOCKETS_PER_ADDRESS); }
  }

  /**
   * The adaptive TTL rules ({@code adaptive.*}), applied per data type. A plain record (the cache
   * package builds its own in tests); {@link #of} reads it from the declared keys.
   */
  public record Adaptive(boolean enabled, long windowMs, double hotReadsPerMin, double hotFactor, double coldReadsPerMin,
                         double coldFactor, double writeHeavyRatio, long writeHeavyMaxTtl, long minTtl) {
    static Adaptive of(Values v) {
      return new Adaptive(v.get(ADAPTIVE_ENABLED), v.get(ADAPTIVE_WINDOW_MS), v.get(ADAPTIVE_HOT_READS_PER_MIN),
          v.get(ADAPTIVE_HOT_FACTOR), v.get(ADAPTIVE_COLD_READS_PER_MIN), v.get(ADAPTIVE_COLD_FACTOR),
          v.get(ADAPTIVE_WRITE_HEAVY_RATIO), v.get(ADAPTIVE_WRITE_HEAVY_MAX_TTL), v.get(ADAPTIVE_MIN_TTL));
    }
  }

  public enum Scope { READ, WRITE, INVALIDATE, ADMIN }

  /** An API key; {@code token} was read from the environment variable {@code tokenEnv}. */
  public record ApiKey(String name, String tokenEnv, String token, Set<Scope> scopes) {
    @Override
    public String toString() {
      return "ApiKey[" + name + ", env " + tokenEnv + ", scopes " + scopes + "]"; // never print the token
    }
  }

  /** A data type's TTL policy: {@code strategies.<name>}; {@code adaptive}: the adaptive rules may adjust it. */
  public record Strategy(String name, Long ttl, List<Template> tags, List<Template> dependsOn, boolean adaptive) {}

  /** Every declared key's value: checked, mode-dependent ones resolved, structured ones parsed. */
  static final class Values {
    private final Map<Key<?>, Object> map;

    private Values() {
      this.map = new HashMap<>();
    }

    private Values(Map<Key<?>, Object> map) {
      this.map = map;
    }

    @SuppressWarnings("unchecked")
    <T> T get(Key<T> key) {
      Object v = map.get(key);
      if (v == null) throw new IllegalStateException(key.path() + " has no value (declared in ConfigKeys, not read in GatewayConfig.from?)");
      return (T) v;
    }

    /** A copy with one value replaced; the original stays as it was. */
    <T> Values with(Key<T> key, T value) {
      Map<Key<?>, Object> copy = new HashMap<>(map);
      copy.put(key, value);
      return new Values(copy);
    }

    // building, only in from(), before any GatewayConfig holds this

    private <T> void read(Key<T> key, Object fromTree) {
      map.put(key, key.read(fromTree));
    }

    private <T> void put(Key<T> key, T value) {
      map.put(key, value);
    }

    /** A mode-dependent switch left unset takes {@code byMode}. */
    private void resolve(Key<Boolean> key, boolean byMode) {
      map.putIfAbsent(key, byMode); // read(...) stored null for "unset"
    }

    private void requireAll() {
      for (Key<?> k : ConfigKeys.ALL) get(k);
    }
  }

  // ---- what the declarations cannot say: the structured keys' parsing, derived values ----

  private static final Pattern IDENT = ConfigKeys.IDENTIFIER.pattern();

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

  /** The secret in the variable {@code auth.jwt.secretEnv} names, or null when it names none. */
  private static byte[] jwtSecret(String secretEnv, Map<String, String> env) {
    if (secretEnv.isEmpty()) return null;
    String v = env.get(secretEnv);
    if (v == null || v.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException("auth.jwt.secretEnv", "environment variable " + secretEnv
          + " is unset or shorter than 32 bytes; refusing to start rather than accept unsigned stream tokens");
    }
    return v.getBytes(StandardCharsets.UTF_8);
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

  /** {@code auth.jwt.audience}: one string, or a list of them. */
  private static List<String> audience(JsonObject t) {
    Object a = ConfigLoader.get(t, "auth.jwt.audience");
    if (a instanceof String s) return s.isEmpty() ? List.of() : List.of(s);
    if (a instanceof JsonArray arr && arr.stream().allMatch(o -> o instanceof String s && !s.isEmpty())) {
      return List.copyOf(arr.stream().map(String::valueOf).toList());
    }
    throw new ConfigException("auth.jwt.audience", "must be a string or a list of strings, such as https://api.example.com");
  }

  /** https://, or http:// to a loopback host only (a local identity provider, a test). */
  private static void checkJwksUrl(String url) {
    if (url.isEmpty()) return;
    java.net.URI u;
    try {
      u = new java.net.URI(url);
    } catch (java.net.URISyntaxException e) {
      throw new ConfigException("auth.jwt.jwksUrl", "is not a URL: " + e.getMessage());
    }
    String host = u.getHost();
    boolean loopback = host != null && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1"));
    if (host == null || !("https".equalsIgnoreCase(u.getScheme()) || ("http".equalsIgnoreCase(u.getScheme()) && loopback))) {
      throw new ConfigException("auth.jwt.jwksUrl", "must be an https:// URL (http:// only to a loopback host such as 127.0.0.1), got " + url);
    }
  }

  private static List<String> origins(JsonObject t) {
    Object origins = ConfigLoader.get(t, "stream.allowedOrigins");
    if (!(origins instanceof JsonArray oa) || oa.stream().anyMatch(o -> !(o instanceof String))) {
      throw new ConfigException("stream.allowedOrigins", "must be a list of origins such as https://app.example.com");
    }
    return List.copyOf(oa.stream().map(String::valueOf).toList());
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
      if (o.getValue("ttl") != null) ttl = ConfigKeys.whole("ttl", o.getValue("ttl"), 1, maxTtl); // message as before: "ttl: ..."
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
