package io.cachegate.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * Every scalar configuration key in one place: its path, type and default. This table drives the
 * defaults, the {@code CACHEGATE_*} environment overrides and the check for unknown keys, so a key is
 * added here once and nowhere else. Structured sections ({@code capture.tables}, {@code events},
 * {@code strategies}, {@code auth.apiKeys}, list-valued keys) are {@link Kind#JSON}: their environment
 * override is a JSON document.
 */
public final class ConfigKeys {

  public enum Kind { INT, LONG, DOUBLE, BOOL, STRING, JSON }

  public record Key(String path, Kind kind, Object defaultValue) {
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
  }

  private ConfigKeys() {}

  public static final List<Key> ALL = List.of(
      new Key("http.host", Kind.STRING, "127.0.0.1"),
      new Key("http.port", Kind.INT, 8080),
      new Key("http.maxBodyBytes", Kind.LONG, 1_048_576L),
      new Key("http.instances", Kind.INT, 0),
      new Key("http.webroot", Kind.STRING, "webroot"),
      new Key("redis.url", Kind.STRING, ""),
      new Key("redis.namespace", Kind.STRING, ""),
      new Key("redis.commandTimeoutMs", Kind.LONG, 2000L),
      new Key("redis.poolSize", Kind.INT, 8),
      new Key("redis.reconnectMaxDelayMs", Kind.LONG, 5000L),
      new Key("redis.tls.caFile", Kind.STRING, ""),
      new Key("postgres.url", Kind.STRING, ""),
      new Key("postgres.channels", Kind.JSON, new JsonArray().add("cache_invalidation")),
      new Key("postgres.poolSize", Kind.INT, 4),
      new Key("postgres.queryTimeoutMs", Kind.LONG, 5000L),
      new Key("instance.id", Kind.STRING, ""),
      new Key("capture.enabled", Kind.BOOL, true),
      new Key("capture.leaderPollMs", Kind.LONG, 1000L),
      new Key("capture.heartbeatMs", Kind.LONG, 2000L),
      new Key("capture.heartbeatTimeoutMs", Kind.LONG, 3000L),
      new Key("capture.statusIntervalMs", Kind.LONG, 2000L),
      new Key("capture.wakeupChannel", Kind.STRING, "cachegate_outbox"),
      new Key("capture.pollIntervalMs", Kind.LONG, 500L),
      new Key("capture.batchSize", Kind.INT, 500),
      new Key("capture.lingerMs", Kind.LONG, 2L),
      new Key("capture.reconnectMinDelayMs", Kind.LONG, 50L),
      new Key("capture.reconnectMaxDelayMs", Kind.LONG, 5000L),
      new Key("capture.tables", Kind.JSON, new JsonObject()),
      new Key("events", Kind.JSON, new JsonObject()),
      new Key("strategies", Kind.JSON, new JsonObject()),
      new Key("cache.instances", Kind.INT, 0),
      new Key("cache.defaultTtl", Kind.LONG, 3600L),
      new Key("cache.maxTtl", Kind.LONG, 2_592_000L),
      new Key("cache.maxCascade", Kind.INT, 10_000),
      new Key("cache.leaseTtlMs", Kind.LONG, 10_000L),
      new Key("cache.sweepIntervalMs", Kind.LONG, 60_000L),
      new Key("cache.refreshAheadBeta", Kind.DOUBLE, 1.0),
      new Key("cache.coAccessTtlMs", Kind.LONG, 86_400_000L),
      new Key("cache.coAccessKeep", Kind.INT, 50),
      new Key("cache.autoDependsLimit", Kind.INT, 5),
      new Key("cache.autoDependsMinScore", Kind.INT, 3),
      new Key("adaptive.enabled", Kind.BOOL, true),
      new Key("adaptive.windowMs", Kind.LONG, 60_000L),
      new Key("adaptive.hotReadsPerMin", Kind.DOUBLE, 600.0),
      new Key("adaptive.hotFactor", Kind.DOUBLE, 2.0),
      new Key("adaptive.coldReadsPerMin", Kind.DOUBLE, 1.0),
      new Key("adaptive.coldFactor", Kind.DOUBLE, 0.5),
      new Key("adaptive.writeHeavyRatio", Kind.DOUBLE, 0.5),
      new Key("adaptive.writeHeavyMaxTtl", Kind.LONG, 60L),
      new Key("adaptive.minTtl", Kind.LONG, 5L),
      new Key("stream.historyMaxLen", Kind.LONG, 100_000L),
      new Key("stream.historyHardMaxLen", Kind.LONG, 1_000_000L),
      new Key("stream.historyMaxAgeMs", Kind.LONG, 86_400_000L),
      new Key("stream.trimIntervalMs", Kind.LONG, 1000L),
      new Key("stream.maxReplay", Kind.INT, 10_000),
      new Key("stream.maxFrameBytes", Kind.INT, 65_536),
      new Key("stream.writeQueueMaxBytes", Kind.INT, 1_048_576),
      new Key("stream.writeQueueMaxFrames", Kind.INT, 5000),
      new Key("stream.socketSendBufferBytes", Kind.INT, 65_536),
      new Key("stream.maxNamesPerSocket", Kind.INT, 1000),
      new Key("stream.maxMalformedFrames", Kind.INT, 10),
      new Key("stream.pingIntervalMs", Kind.LONG, 20_000L),
      new Key("stream.compression", Kind.BOOL, false),
      new Key("stream.stallTimeoutMs", Kind.LONG, 60_000L),
      new Key("auth.enabled", Kind.BOOL, null),
      new Key("auth.apiKeys", Kind.JSON, new JsonArray()),
      new Key("auth.jwt.secretEnv", Kind.STRING, ""),
      new Key("auth.jwt.maxTtl", Kind.LONG, 86_400L),
      new Key("http.rateLimitPerSecond", Kind.INT, 10_000),
      new Key("http.rateLimitBurst", Kind.INT, 20_000),
      new Key("stream.allowedOrigins", Kind.JSON, new JsonArray()),
      new Key("stream.maxNamesPerSubscribe", Kind.INT, 100),
      new Key("stream.maxSocketsPerAddress", Kind.INT, 1000),
      new Key("embedded.demoSchema", Kind.BOOL, true),
      new Key("demo.enabled", Kind.BOOL, null),
      new Key("shutdown.graceMs", Kind.LONG, 10_000L));

  public static Key find(String path) {
    for (Key k : ALL) if (k.path().equals(path)) return k;
    return null;
  }
}
