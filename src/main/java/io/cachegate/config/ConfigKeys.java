package io.cachegate.config;

import io.cachegate.config.GatewayConfig.ApiKey;
import io.cachegate.config.GatewayConfig.Strategy;
import io.cachegate.rules.InvalidationRule;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every configuration key, declared once: its path, type, default, allowed range or format, and a
 * one-line doc that starts with its unit. From these declarations come the built-in defaults, the
 * {@code CACHEGATE_*} environment variables and how they are parsed, the check of each value (the
 * message names the key), the check for unknown keys in the file and the environment, and typed
 * reading: {@code config.get(REDIS_COMMAND_TIMEOUT_MS)} is a {@code Long}, already checked.
 *
 * <h2>Adding a key</h2>
 * <ol>
 *   <li>Declare it below, with the keys of its section; the constant's name is the path in upper
 *       snake case (its environment variable without {@code CACHEGATE_}):
 *       <pre>{@code
 * public static final Key<Long> CACHE_FOO_MS = longKey("cache.fooMs", 500, 10, 60_000,
 *     "milliseconds; what it bounds, in one line");}</pre>
 *       That alone makes {@code cache.fooMs} a valid key in the YAML with default 500, makes
 *       {@code CACHEGATE_CACHE_FOO_MS} a valid variable, and refuses a value outside 10..60000 at start-up.</li>
 *   <li>Use it: {@code config.get(ConfigKeys.CACHE_FOO_MS)}, or {@code section.get(...)} in code
 *       that holds only its section ({@code config.cache()}, {@code GatewayConfig.Stream}, ...).</li>
 *   <li>Document it in {@code config/gateway.yaml} with its default, the comment beginning with the
 *       doc; {@code ConfigKeysTest} fails until the file and the declaration agree.</li>
 * </ol>
 * A rule that involves two keys (one must not exceed another) is written out in
 * {@link GatewayConfig#from}, next to the others. A structured key (a mapping or a list: rules,
 * strategies, API keys, channel and origin lists) is declared with {@link #structuredKey} and parsed
 * by its own method in {@link GatewayConfig#from}; its environment override is a JSON document.
 * Keys whose default depends on the mode (embedded or external) are {@link #modeDependentBoolKey}s,
 * resolved there too.
 */
public final class ConfigKeys {

  public enum Kind { INT, LONG, DOUBLE, BOOL, STRING, JSON }

  /** A string key's required shape; {@code problem} follows the key's name in the error. */
  public record Format(Pattern pattern, String problem) {
    static Format of(String regex, String problem) {
      return new Format(Pattern.compile(regex), problem);
    }
  }

  static final Format IDENTIFIER = Format.of("[A-Za-z_][A-Za-z0-9_]*", "must be a plain identifier");
  static final Format NOT_EMPTY = Format.of("(?sU).*\\S.*", "must not be empty"); // as isBlank: Unicode spaces count

  /** Filled by the factories below, in declaration order; must stay above the first key. */
  private static final List<Key<?>> DECLARED = new ArrayList<>();

  // ---- http ----
  public static final Key<String> HTTP_HOST = stringKey("http.host", "127.0.0.1", NOT_EMPTY,
      "bind address; use 0.0.0.0 to serve other hosts (turn auth on first)");
  public static final Key<Integer> HTTP_PORT = intKey("http.port", 8080, 0, 65535,
      "0 picks a free port; the chosen one is printed on stdout");
  public static final Key<Long> HTTP_MAX_BODY_BYTES = longKey("http.maxBodyBytes", 1_048_576, 64, 64L * 1024 * 1024,
      "bytes; larger request bodies get 413");
  public static final Key<Integer> HTTP_RATE_LIMIT_PER_SECOND = intKey("http.rateLimitPerSecond", 10_000, 1, 10_000_000,
      "REST requests a second per API key (per address with auth off); then 429 + Retry-After");
  public static final Key<Integer> HTTP_RATE_LIMIT_BURST = intKey("http.rateLimitBurst", 20_000, 1, 10_000_000,
      "requests a caller may burst above the rate");
  public static final Key<Integer> HTTP_INSTANCES = intKey("http.instances", 0, 0, 256,
      "HTTP/WebSocket verticles, one per event loop; 0 = one per CPU core");
  public static final Key<String> HTTP_WEBROOT = stringKey("http.webroot", "webroot",
      "directory of the dashboard (falls back to the copy inside the jar)");

  // ---- redis ----
  public static final Key<String> REDIS_URL = stringKey("redis.url", "",
      "redis://[[user]:password@]host:port[/db] or rediss:// (TLS); empty (with postgres.url empty) = embedded mode");
  public static final Key<String> REDIS_MODE = stringKey("redis.mode", "standalone",
      Format.of("standalone|cluster", "must be standalone or cluster"),
      "standalone (one Redis, or a primary with replicas) or cluster (a Redis Cluster; redis.url names any one node)");
  public static final Key<String> REDIS_NAMESPACE = stringKey("redis.namespace", "",
      "prepended to every key the gateway writes, bookkeeping included");
  public static final Key<Long> REDIS_COMMAND_TIMEOUT_MS = longKey("redis.commandTimeoutMs", 2000, 10, 600_000,
      "milliseconds; every Redis call fails after this");
  public static final Key<Integer> REDIS_POOL_SIZE = intKey("redis.poolSize", 8, 1, 1024,
      "connections for commands (the notice tail uses one more of its own)");
  public static final Key<Long> REDIS_RECONNECT_MAX_DELAY_MS = longKey("redis.reconnectMaxDelayMs", 5000, 10, 600_000,
      "milliseconds; cap of the reconnect backoff");
  public static final Key<String> REDIS_TLS_CA_FILE = stringKey("redis.tls.caFile", "",
      "PEM CA bundle the rediss:// server's certificate must chain to; \"\" = the JVM's default trust store");

  // ---- postgres ----
  public static final Key<String> POSTGRES_URL = stringKey("postgres.url", "",
      "postgresql://user:password@host:port/db; empty = embedded mode");
  public static final Key<List<String>> POSTGRES_CHANNELS = structuredKey("postgres.channels",
      new JsonArray().add("cache_invalidation"), "channels LISTENed for foreign payloads");
  public static final Key<Integer> POSTGRES_POOL_SIZE = intKey("postgres.poolSize", 4, 1, 1024,
      "connections for the outbox drain and health checks");
  public static final Key<Long> POSTGRES_QUERY_TIMEOUT_MS = longKey("postgres.queryTimeoutMs", 5000, 10, 600_000,
      "milliseconds; health and status queries fail after this");

  // ---- instance ----
  public static final Key<String> INSTANCE_ID = stringKey("instance.id", "",
      Format.of("[A-Za-z0-9._:-]{0,64}", "must be 1 to 64 letters, digits or . _ : -"),
      "this instance's name in /health, /v1/stats and PostgreSQL; empty = host-pid-random");
  public static final Key<Long> INSTANCE_REPORT_INTERVAL_MS = longKey("instance.reportIntervalMs", 5_000, 100, 60_000,
      "milliseconds; how often the instance reports itself (GET /v1/instances) and samples the dashboard's series");

  // ---- capture ----
  public static final Key<Boolean> CAPTURE_ENABLED = boolKey("capture.enabled", true,
      "install triggers and, on the leading instance, drain the outbox");
  public static final Key<Long> CAPTURE_LEADER_POLL_MS = longKey("capture.leaderPollMs", 1000, 10, 600_000,
      "milliseconds; how often a follower tries to take the lead (failover time)");
  public static final Key<Long> CAPTURE_HEARTBEAT_MS = longKey("capture.heartbeatMs", 2000, 10, 600_000,
      "milliseconds; the leader checks its lock and LISTEN connections this often");
  public static final Key<Long> CAPTURE_HEARTBEAT_TIMEOUT_MS = longKey("capture.heartbeatTimeoutMs", 3000, 10, 600_000,
      "milliseconds; a heartbeat slower than this replaces the connection");
  public static final Key<Long> CAPTURE_STATUS_INTERVAL_MS = longKey("capture.statusIntervalMs", 2000, 10, 600_000,
      "milliseconds; how often outbox depth, lag and NOTIFY queue use are measured");
  public static final Key<String> CAPTURE_WAKEUP_CHANNEL = stringKey("capture.wakeupChannel", "cachegate_outbox", IDENTIFIER,
      "NOTIFY channel the triggers use as a wake-up (never as the message)");
  public static final Key<Long> CAPTURE_POLL_INTERVAL_MS = longKey("capture.pollIntervalMs", 500, 10, 3_600_000,
      "milliseconds; the outbox is drained on this timer too, NOTIFY or not");
  public static final Key<Integer> CAPTURE_BATCH_SIZE = intKey("capture.batchSize", 500, 1, 100_000,
      "outbox rows claimed per transaction");
  public static final Key<Long> CAPTURE_LINGER_MS = longKey("capture.lingerMs", 2, 0, 1000,
      "milliseconds; after a batch smaller than batchSize, the drain waits this long before the next claim");
  public static final Key<Long> CAPTURE_RECONNECT_MIN_DELAY_MS = longKey("capture.reconnectMinDelayMs", 50, 1, 600_000,
      "milliseconds; first delay of the listener's reconnect backoff");
  public static final Key<Long> CAPTURE_RECONNECT_MAX_DELAY_MS = longKey("capture.reconnectMaxDelayMs", 5000, 10, 600_000,
      "milliseconds; cap of the listener's reconnect backoff");
  public static final Key<String> CAPTURE_MODE = stringKey("capture.mode", "outbox",
      Format.of("outbox|wal", "must be outbox or wal"),
      "outbox (triggers write an outbox table) or wal (a logical replication slot, no trigger; docs/capture.md)");
  public static final Key<String> CAPTURE_WAL_SLOT = stringKey("capture.wal.slot", "cachegate",
      Format.of("[a-z0-9_]{1,63}", "must be 1 to 63 lower-case letters, digits or _ (a replication slot name)"),
      "the logical replication slot (wal mode), created when missing; one per database and gateway group");
  public static final Key<String> CAPTURE_WAL_PUBLICATION = stringKey("capture.wal.publication", "cachegate", IDENTIFIER,
      "the publication of the watched tables (wal mode), created or brought in line when it differs");
  public static final Key<Boolean> CAPTURE_WAL_SET_REPLICA_IDENTITY = boolKey("capture.wal.setReplicaIdentity", true,
      "set REPLICA IDENTITY FULL on tables whose rule reads old-row columns outside the primary key; false = refuse to start");
  public static final Key<Long> CAPTURE_WAL_MAX_LAG_BYTES = longKey("capture.wal.maxLagBytes", 1L << 30, 1024, Long.MAX_VALUE,
      "bytes; /health degrades when the slot holds more WAL than this behind its confirmed position");
  public static final Key<Long> CAPTURE_WAL_STATUS_INTERVAL_MS = longKey("capture.wal.statusIntervalMs", 1000, 10, 600_000,
      "milliseconds; how often the confirmed position is reported to PostgreSQL (also when idle, so no WAL is kept)");
  public static final Key<Integer> CAPTURE_WAL_MAX_PENDING = intKey("capture.wal.maxPending", 10_000, 1, 1_000_000,
      "changes read from the slot but not yet applied to Redis; reading pauses beyond this");
  public static final Key<Map<String, InvalidationRule>> CAPTURE_TABLES = structuredKey("capture.tables", new JsonObject(),
      "watched tables; {column} reads the changed row (old and new row on UPDATE)");

  // ---- events, strategies ----
  public static final Key<Map<String, InvalidationRule>> EVENTS = structuredKey("events", new JsonObject(),
      "named events, POST /v1/events/{name}; {field} reads the posted JSON");
  public static final Key<Map<String, Strategy>> STRATEGIES = structuredKey("strategies", new JsonObject(),
      "data types' TTL policies, chosen by a PUT's \"type\"; ttl in seconds");

  // ---- adaptive ----
  public static final Key<Boolean> ADAPTIVE_ENABLED = boolKey("adaptive.enabled", true,
      "adapt the TTL of typed PUTs without a ttl to how their type is read and written");
  public static final Key<Long> ADAPTIVE_WINDOW_MS = longKey("adaptive.windowMs", 60_000, 1000, 86_400_000,
      "milliseconds; reads and writes are counted over this window and the last");
  public static final Key<Double> ADAPTIVE_HOT_READS_PER_MIN = doubleKey("adaptive.hotReadsPerMin", 600, 0, 1e9,
      "reads a minute of a type at which it counts as hot");
  public static final Key<Double> ADAPTIVE_HOT_FACTOR = doubleKey("adaptive.hotFactor", 2.0, 1, 1000,
      "hot: the type's TTL times this (at most cache.maxTtl)");
  public static final Key<Double> ADAPTIVE_COLD_READS_PER_MIN = doubleKey("adaptive.coldReadsPerMin", 1, 0, 1e9,
      "fewer reads a minute than this: cold");
  public static final Key<Double> ADAPTIVE_COLD_FACTOR = doubleKey("adaptive.coldFactor", 0.5, 0.001, 1,
      "cold: the type's TTL times this (at least minTtl)");
  public static final Key<Double> ADAPTIVE_WRITE_HEAVY_RATIO = doubleKey("adaptive.writeHeavyRatio", 0.5, 0, 1e6,
      "writes / reads at or above this (and 3+ writes): write-heavy");
  /** At most {@code cache.maxTtl} too (checked in {@link GatewayConfig#from}). */
  public static final Key<Long> ADAPTIVE_WRITE_HEAVY_MAX_TTL = longKey("adaptive.writeHeavyMaxTtl", 60, 1, Long.MAX_VALUE,
      "seconds; write-heavy types are capped at this");
  /** At most {@code cache.maxTtl} too (checked in {@link GatewayConfig#from}). */
  public static final Key<Long> ADAPTIVE_MIN_TTL = longKey("adaptive.minTtl", 5, 1, Long.MAX_VALUE,
      "seconds; no adaptive TTL goes below this");

  // ---- cache ----
  public static final Key<Integer> CACHE_INSTANCES = intKey("cache.instances", 0, 0, 256,
      "Redis verticles, one per event loop; 0 = one per CPU core");
  /** At most {@code cache.maxTtl} (checked in {@link GatewayConfig#from}). */
  public static final Key<Long> CACHE_DEFAULT_TTL = longKey("cache.defaultTtl", 3600, 1, Long.MAX_VALUE,
      "seconds; the TTL when neither the PUT nor its type gives one");
  public static final Key<Long> CACHE_MAX_TTL = longKey("cache.maxTtl", 2_592_000, 1, Long.MAX_VALUE,
      "seconds (30 days); a larger ttl is refused with 400");
  public static final Key<Integer> CACHE_MAX_CASCADE = intKey("cache.maxCascade", 10_000, 1, 1_000_000,
      "keys one dependency cascade may add; past it the answer says cascadeTruncated");
  public static final Key<Long> CACHE_LEASE_TTL_MS = longKey("cache.leaseTtlMs", 10_000, 100, 3_600_000,
      "milliseconds a fill lease (GET ?lease=true) is held");
  public static final Key<Long> CACHE_SWEEP_INTERVAL_MS = longKey("cache.sweepIntervalMs", 60_000, 100, 86_400_000,
      "milliseconds between sweeps of the prefix index for expired keys");
  public static final Key<Double> CACHE_REFRESH_AHEAD_BETA = doubleKey("cache.refreshAheadBeta", 1.0, 0, 100,
      "XFetch beta for entries PUT with computeMs; above 1 refreshes earlier");
  public static final Key<Long> CACHE_CO_ACCESS_TTL_MS = longKey("cache.coAccessTtlMs", 86_400_000, 1000, 30L * 86_400_000,
      "milliseconds co-access counts (from multi-gets) are kept");
  public static final Key<Integer> CACHE_CO_ACCESS_KEEP = intKey("cache.coAccessKeep", 50, 1, 10_000,
      "strongest co-accessed keys kept per key");
  public static final Key<Integer> CACHE_AUTO_DEPENDS_LIMIT = intKey("cache.autoDependsLimit", 5, 1, 256,
      "\"dependsOn\": \"auto\" takes at most this many suggestions");
  public static final Key<Integer> CACHE_AUTO_DEPENDS_MIN_SCORE = intKey("cache.autoDependsMinScore", 3, 1, 1_000_000,
      "\"dependsOn\": \"auto\" takes only keys read together with the key at least this often");

  // ---- stream ----
  public static final Key<Long> STREAM_HISTORY_MAX_LEN = longKey("stream.historyMaxLen", 100_000, 10, 100_000_000,
      "notices kept in cg:notices for `since`");
  /** At least {@code stream.historyMaxLen} (checked in {@link GatewayConfig#from}). */
  public static final Key<Long> STREAM_HISTORY_HARD_MAX_LEN = longKey("stream.historyHardMaxLen", 1_000_000, 10, 1_000_000_000,
      "notices kept at most, even for an instance that is live but behind");
  public static final Key<Long> STREAM_HISTORY_MAX_AGE_MS = longKey("stream.historyMaxAgeMs", 86_400_000, 1000, 365L * 86_400_000,
      "milliseconds (1 day); older notices are trimmed");
  public static final Key<Long> STREAM_TRIM_INTERVAL_MS = longKey("stream.trimIntervalMs", 1000, 10, 3_600_000,
      "milliseconds between trims (never past a live instance's read position)");
  public static final Key<Integer> STREAM_MAX_REPLAY = intKey("stream.maxReplay", 10_000, 1, 10_000_000,
      "notices one `since` may replay; further behind gets reset");
  public static final Key<Integer> STREAM_MAX_FRAME_BYTES = intKey("stream.maxFrameBytes", 65_536, 256, 16 * 1024 * 1024,
      "bytes; larger client frames close the socket (1009)");
  public static final Key<Integer> STREAM_WRITE_QUEUE_MAX_BYTES = intKey("stream.writeQueueMaxBytes", 1_048_576, 1024, 256 * 1024 * 1024,
      "bytes (counted as characters of the frames) queued per socket before the client is reset and closed (1013)");
  public static final Key<Integer> STREAM_WRITE_QUEUE_MAX_FRAMES = intKey("stream.writeQueueMaxFrames", 5000, 1, 10_000_000,
      "frames queued per socket before the client is reset and closed (1013)");
  public static final Key<Integer> STREAM_SOCKET_SEND_BUFFER_BYTES = intKey("stream.socketSendBufferBytes", 65_536, 0, 64 * 1024 * 1024,
      "bytes; the kernel send buffer of each client socket (Linux doubles it)");
  public static final Key<Integer> STREAM_MAX_NAMES_PER_SOCKET = intKey("stream.maxNamesPerSocket", 1000, 1, 1_000_000,
      "keys + tags + prefixes one socket may subscribe to (error too_many_subscriptions)");
  public static final Key<Integer> STREAM_MAX_NAMES_PER_SUBSCRIBE = intKey("stream.maxNamesPerSubscribe", 100, 1, 100_000,
      "names in one subscribe frame (error too_many_names)");
  public static final Key<Integer> STREAM_MAX_SOCKETS_PER_ADDRESS = intKey("stream.maxSocketsPerAddress", 1000, 1, 1_000_000,
      "open streams per remote address; more get 429 at the handshake");
  public static final Key<List<String>> STREAM_ALLOWED_ORIGINS = structuredKey("stream.allowedOrigins", new JsonArray(),
      "origins besides the gateway's own that may open the stream; others get 403");
  public static final Key<Integer> STREAM_MAX_MALFORMED_FRAMES = intKey("stream.maxMalformedFrames", 10, 1, 1_000_000,
      "consecutive bad frames before the socket is closed (1008)");
  public static final Key<Boolean> STREAM_COMPRESSION = boolKey("stream.compression", false,
      "permessage-deflate on the stream");
  public static final Key<Long> STREAM_PING_INTERVAL_MS = longKey("stream.pingIntervalMs", 20_000, 10, 3_600_000,
      "milliseconds; a quiet stream socket is sent a WebSocket ping this often");
  /** At least twice {@code stream.pingIntervalMs} (checked in {@link GatewayConfig#from}). */
  public static final Key<Long> STREAM_STALL_TIMEOUT_MS = longKey("stream.stallTimeoutMs", 60_000, 20, 86_400_000,
      "milliseconds; a stream socket that answered no ping (and sent nothing) for this long is closed");

  // ---- auth ----
  public static final Key<Boolean> AUTH_ENABLED = modeDependentBoolKey("auth.enabled",
      "require an API key (on the stream: a key or a stream token); unset = false in embedded mode, true in external mode");
  public static final Key<List<ApiKey>> AUTH_API_KEYS = structuredKey("auth.apiKeys", new JsonArray(),
      "API keys [{name, tokenEnv, scopes}]; each key is read from the variable tokenEnv names");
  public static final Key<String> AUTH_JWT_SECRET_ENV = stringKey("auth.jwt.secretEnv", "",
      "env variable holding the HS256 secret (32+ bytes) for stream tokens; empty = no tokens");
  public static final Key<Long> AUTH_JWT_MAX_TTL = longKey("auth.jwt.maxTtl", 86_400, 1, 30L * 86_400,
      "seconds; the longest token POST /v1/tokens mints");
  public static final Key<String> AUTH_JWT_JWKS_URL = stringKey("auth.jwt.jwksUrl", "",
      "the identity provider's JWKS (https://, or http:// on a loopback host); tokens signed by its keys are accepted");
  public static final Key<String> AUTH_JWT_JWKS_CA_FILE = stringKey("auth.jwt.jwksCaFile", "",
      "PEM CA bundle for the JWKS server's certificate; empty = the JDK's trusted CAs");
  public static final Key<Long> AUTH_JWT_JWKS_REFRESH_SECONDS = longKey("auth.jwt.jwksRefreshSeconds", 300, 1, 86_400,
      "seconds between fetches of the JWKS; a key removed there stops being accepted within this");
  public static final Key<Long> AUTH_JWT_JWKS_MIN_REFRESH_SECONDS = longKey("auth.jwt.jwksMinRefreshSeconds", 15, 1, 3_600,
      "seconds; tokens with an unknown kid make the JWKS be fetched at most once per this");
  public static final Key<String> AUTH_JWT_PUBLIC_KEY_FILE = stringKey("auth.jwt.publicKeyFile", "",
      "PEM file of the identity provider's public keys (PUBLIC KEY or CERTIFICATE blocks; RSA, EC, Ed25519)");
  public static final Key<String> AUTH_JWT_ISSUER = stringKey("auth.jwt.issuer", "",
      "when set, a provider-signed token's iss must equal it");
  public static final Key<List<String>> AUTH_JWT_AUDIENCE = structuredKey("auth.jwt.audience", new JsonArray(),
      "a string or a list; when set, a provider-signed token's aud must name one of them");
  public static final Key<String> AUTH_JWT_CLAIM = stringKey("auth.jwt.claim", "cg",
      "the claim holding the stream scope {keys, tags, prefixes}; a namespaced name such as https://example.com/cg works");
  public static final Key<Long> AUTH_JWT_CLOCK_SKEW_SECONDS = longKey("auth.jwt.clockSkewSeconds", 30, 0, 600,
      "seconds of clock difference allowed on a provider-signed token's exp and nbf");
  public static final Key<String> AUTH_JWT_SCOPE_CLAIM = stringKey("auth.jwt.scopeClaim", "scope",
      "the claim of a REST bearer JWT listing its scopes (space-separated string or list)");
  public static final Key<String> AUTH_JWT_SCOPE_PREFIX = stringKey("auth.jwt.scopePrefix", "",
      "a prefix the scope values carry, e.g. cachegate: for cachegate:invalidate");

  // ---- metrics ----
  public static final Key<Boolean> METRICS_VERTX = boolKey("metrics.vertx", true,
      "Vert.x's own series in /metrics (vertx_*, jvm_*); false saves CPU per request (docs/performance.md)");

  // ---- embedded, demo, shutdown ----
  public static final Key<Boolean> EMBEDDED_DEMO_SCHEMA = boolKey("embedded.demoSchema", true,
      "embedded mode only: create users and products, 100 rows each");
  public static final Key<Boolean> DEMO_ENABLED = modeDependentBoolKey("demo.enabled",
      "the demo endpoints GET /demo/products, POST /demo/products/{id}/bump; unset = on in embedded mode");
  public static final Key<Long> SHUTDOWN_GRACE_MS = longKey("shutdown.graceMs", 10_000, 0, 600_000,
      "milliseconds to finish in-flight work on SIGTERM");

  /** Every key, in declaration order. */
  public static final List<Key<?>> ALL = List.copyOf(DECLARED);

  private ConfigKeys() {}

  public static Key<?> find(String path) {
    for (Key<?> k : ALL) if (k.path().equals(path)) return k;
    return null;
  }

  /**
   * One key. Identity is the declaration (no {@code equals} override), so a key is a cheap map key.
   * {@code T} is what {@link GatewayConfig#get} returns: the checked value, or for a structured key
   * its parsed form.
   */
  public static final class Key<T> {
    private final String path;
    private final Kind kind;
    private final Object defaultValue;
    private final Number min;
    private final Number max;
    private final Format format;
    private final String doc;

    private Key(String path, Kind kind, Object defaultValue, Number min, Number max, Format format, String doc) {
      this.path = path;
      this.kind = kind;
      this.defaultValue = defaultValue;
      this.min = min;
      this.max = max;
      this.format = format;
      this.doc = doc;
    }

    public String path() { return path; }
    public Kind kind() { return kind; }

    /** The built-in value (JSON for a structured key, a fresh copy); null if it depends on the mode. */
    public Object defaultValue() {
      if (defaultValue instanceof JsonObject o) return o.copy();
      if (defaultValue instanceof JsonArray a) return a.copy();
      return defaultValue;
    }

    /** The smallest allowed value of a number key, else null. */
    public Number min() { return min; }

    /** The largest allowed value of a number key, else null. */
    public Number max() { return max; }

    /** One line, starting with the unit where there is one; {@code config/gateway.yaml} begins its comment with it. */
    public String doc() { return doc; }

    /** A mapping or list with its own parsing in {@link GatewayConfig#from}. */
    public boolean structured() { return kind == Kind.JSON; }

    /** Unset means a default that depends on the mode (embedded or external); resolved in {@link GatewayConfig#from}. */
    public boolean modeDependent() { return defaultValue == null; }

    /** {@code http.maxBodyBytes} -> {@code CACHEGATE_HTTP_MAX_BODY_BYTES}. */
    public String envName() {
      StringBuilder sb = new StringBuilder("CACHEGATE_");
      for (char c : path.toCharArray()) {
        if (c == '.') sb.append('_');
        else if (Character.isUpperCase(c)) sb.append('_').append(c);
        else sb.append(Character.toUpperCase(c));
      }
      return sb.toString().toUpperCase(Locale.ROOT);
    }

    /** The value of this key's {@code CACHEGATE_*} variable, as the YAML would have given it. */
    Object fromEnv(String raw) {
      String v = raw.trim();
      try {
        return switch (kind) {
          case INT -> Integer.parseInt(v);
          case LONG -> Long.parseLong(v);
          case DOUBLE -> Double.parseDouble(v);
          case BOOL -> {
            if (v.equalsIgnoreCase("true")) yield true;
            if (v.equalsIgnoreCase("false")) yield false;
            throw new ConfigException(path, "env " + envName() + " must be true or false, got '" + raw + "'");
          }
          case STRING -> raw;
          // a list or a mapping as JSON; anything else is a plain string (auth.jwt.audience may be one),
          // which the key's own parsing refuses where a string is not a value it takes
          case JSON -> v.startsWith("[") ? new JsonArray(v) : v.startsWith("{") ? new JsonObject(v) : raw;
        };
      } catch (NumberFormatException | DecodeException e) {
        throw new ConfigException(path, "env " + envName() + " cannot be read as " + kind + ": '" + raw + "'");
      }
    }

    /** The checked value of a scalar key from the merged tree; the error names the key. */
    @SuppressWarnings("unchecked")
    T read(Object v) {
      Object out = switch (kind) {
        case INT -> (int) whole(path, v, min.longValue(), max.longValue());
        case LONG -> whole(path, v, min.longValue(), max.longValue());
        case DOUBLE -> decimal(v);
        case BOOL -> v == null && modeDependent() ? null : bool(v);
        case STRING -> string(v);
        case JSON -> throw new IllegalStateException(path + " is structured: GatewayConfig.from parses it");
      };
      return (T) out;
    }

    private boolean bool(Object v) {
      if (v instanceof Boolean b) return b;
      throw new ConfigException(path, "must be true or false, got " + v);
    }

    private double decimal(Object v) {
      if (!(v instanceof Number n) || Double.isNaN(n.doubleValue())) throw new ConfigException(path, "must be a number, got " + v);
      double d = n.doubleValue();
      if (d < min.doubleValue() || d > max.doubleValue()) {
        throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + d);
      }
      return d;
    }

    private String string(Object v) {
      String s;
      if (v == null) s = "";
      else if (v instanceof String str) s = str.trim();
      else if (v instanceof Number || v instanceof Boolean) s = v.toString();
      else throw new ConfigException(path, "must be a string");
      if (format != null && !format.pattern().matcher(s).matches()) throw new ConfigException(path, format.problem());
      return s;
    }

    @Override
    public String toString() { return path; }
  }

  /** A whole number within [min, max]; beyond a long (Jackson's BigInteger) is out of range, never wrapped into it. */
  static long whole(String path, Object v, long min, long max) {
    if (!(v instanceof Number n) || (n.doubleValue() != Math.rint(n.doubleValue()))) {
      throw new ConfigException(path, "must be a whole number, got " + v);
    }
    long l = io.cachegate.support.Numbers.clampedLong(n);
    if (l < min || l > max) throw new ConfigException(path, "must be between " + min + " and " + max + ", got " + v);
    return l;
  }

  // ---- the declaration factories; each checks its default against its own rule ----

  static Key<Integer> intKey(String path, int dflt, int min, int max, String doc) {
    return declare(new Key<>(path, Kind.INT, dflt, (long) min, (long) max, null, doc));
  }

  static Key<Long> longKey(String path, long dflt, long min, long max, String doc) {
    return declare(new Key<>(path, Kind.LONG, dflt, min, max, null, doc));
  }

  static Key<Double> doubleKey(String path, double dflt, double min, double max, String doc) {
    return declare(new Key<>(path, Kind.DOUBLE, dflt, min, max, null, doc));
  }

  static Key<Boolean> boolKey(String path, boolean dflt, String doc) {
    return declare(new Key<>(path, Kind.BOOL, dflt, null, null, null, doc));
  }

  /** A switch with no fixed default: unset, {@link GatewayConfig#from} picks it by the mode. */
  static Key<Boolean> modeDependentBoolKey(String path, String doc) {
    return declare(new Key<>(path, Kind.BOOL, null, null, null, null, doc));
  }

  static Key<String> stringKey(String path, String dflt, String doc) {
    return stringKey(path, dflt, null, doc);
  }

  static Key<String> stringKey(String path, String dflt, Format format, String doc) {
    return declare(new Key<>(path, Kind.STRING, dflt, null, null, format, doc));
  }

  /** A mapping or list; {@code T} is its parsed form, which {@link GatewayConfig#from} must supply. */
  static <T> Key<T> structuredKey(String path, Object jsonDefault, String doc) {
    return declare(new Key<>(path, Kind.JSON, jsonDefault, null, null, null, doc));
  }

  private static <T> Key<T> declare(Key<T> key) {
    for (Key<?> k : DECLARED) {
      if (k.path().equals(key.path()) || k.envName().equals(key.envName())) {
        throw new IllegalStateException("config key " + key.path() + " is declared twice (or shares " + k.path() + "'s variable)");
      }
    }
    if (key.doc() == null || key.doc().isBlank() || key.doc().contains("\n")) {
      throw new IllegalStateException("config key " + key.path() + " needs a one-line doc");
    }
    if (!key.structured()) key.read(key.defaultValue()); // a default outside its own range fails here, at class load
    DECLARED.add(key);
    return key;
  }
}
