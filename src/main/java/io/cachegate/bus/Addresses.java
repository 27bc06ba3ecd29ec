package io.cachegate.bus;

/**
 * Every event-bus address of the gateway, with what it carries. The bus is local to one gateway
 * process (instances share Redis and PostgreSQL, not an event bus); messages are immutable records
 * passed by reference through {@link LocalCodec}. A request that fails is answered with
 * {@code message.fail(code.busCode(), text)} with the {@link io.cachegate.model.ErrorCode} the REST
 * layer answers with ({@link io.cachegate.model.ErrorCode#ofReply} reads it back).
 */
public final class Addresses {

  private Addresses() {}

  /**
   * Request to the CacheVerticle: {@link Messages.InvalidateCommand} (one or more invalidations, each
   * becoming one notice). Reply: {@link Messages.InvalidateResult}, sent only after Redis has applied
   * every invalidation and appended its notice to {@code cg:notices}. Sent by the REST handlers and
   * by the capture verticle, which commits its outbox claim only after this reply.
   */
  public static final String CACHE_INVALIDATE = "gateway.cache.invalidate";

  /**
   * Request to the JwksVerticle (a String: the unknown kid, for the log): fetch the identity
   * provider's key set again, since a token named a kid it lacks. Reply: {@code "fetched"} once a fetch
   * (this one, or one in flight) has finished, or {@code "rate-limited"} at once when such a fetch ran
   * less than {@code auth.jwt.jwksMinRefreshSeconds} ago.
   */
  public static final String JWKS_REFRESH = "gateway.jwks.refresh";

  /** Request: {@link Messages.PutCommand}. Reply: {@link Messages.PutResult}; fails 412 or 409. */
  public static final String CACHE_PUT = "gateway.cache.put";

  /** Request: {@link Messages.GetQuery}. Reply: {@link Messages.GetResult} (found or not, lease). */
  public static final String CACHE_GET = "gateway.cache.get";

  /** Request: {@link Messages.TouchCommand}. Reply: {@link Messages.TouchResult}; fails 404. */
  public static final String CACHE_TOUCH = "gateway.cache.touch";

  /** Request: {@link Messages.MultiGetQuery}. Reply: {@link Messages.MultiGetResult}; records co-access. */
  public static final String CACHE_MULTI_GET = "gateway.cache.multiget";

  /** Request: {@link Messages.SuggestQuery}. Reply: {@link Messages.SuggestResult}, strongest first. */
  public static final String CACHE_SUGGEST = "gateway.cache.suggest";

  /** Request: {@link Messages.StatsQuery}. Reply: {@link Messages.CacheStats}. */
  public static final String CACHE_STATS = "gateway.cache.stats";

  /**
   * Request: {@link Messages.PreviewQuery}. Reply: {@link Messages.PreviewResult}: what the
   * invalidation would reach, found by reads only (a dry run).
   */
  public static final String CACHE_PREVIEW = "gateway.cache.preview";

  /**
   * Request to the InstancesVerticle (any body). Reply: a JsonArray of the live instances' reports
   * ({@code id, leader, clients, connections, subscriptions, captureMode, at, positionMs, self}).
   */
  public static final String INSTANCES = "gateway.instances";

  /**
   * Request to a CacheVerticle: {@link Messages.RecentQuery}. Reply: {@link Messages.RecentResult},
   * the last notices of the history (those naming a key or a tag, when asked), oldest first.
   */
  public static final String NOTICE_RECENT = "gateway.notice.recent";

  /** Request: {@link Messages.MetaQuery}. Reply: {@link Messages.MetaResult}; fails 404. */
  public static final String CACHE_META = "gateway.cache.meta";

  /** Request: {@link Messages.TagQuery}. Reply: {@link Messages.TagResult}. */
  public static final String CACHE_TAG = "gateway.cache.tag";

  /**
   * Request: {@link Messages.HistoryQuery} (the notices after a given id). Reply:
   * {@link Messages.HistoryResult}; {@code complete=false} when the history no longer reaches back.
   */
  public static final String NOTICE_HISTORY = "gateway.notice.history";

  /**
   * Published by the NoticeTailVerticle for every read of {@code cg:notices}, in stream order:
   * {@link Messages.Notices} (one message per read: per-message bus costs, metrics included, were the
   * tail's largest cost). Every stream hub of this instance consumes it; entries written by other
   * instances arrive here too, so every instance streams every notice.
   */
  public static final String NOTICE_APPENDED = "gateway.notice.appended";

  /**
   * Published by the NoticeTailVerticle when the history was lost (Redis restarted empty): a
   * {@link Messages.HistoryReset}. Stream hubs send {@code reset} to every client.
   */
  public static final String NOTICE_RESET = "gateway.notice.reset";

  /**
   * Published by the CacheVerticle when Redis becomes unreachable or reachable again:
   * {@link Messages.RedisState}. The capture verticle stops claiming outbox rows while Redis is down and
   * drains as soon as it is back.
   */
  public static final String REDIS_STATE = "gateway.redis.state";

  /** Request: any body. Reply: {@link Messages.Health} of the Redis side (CacheVerticle). */
  public static final String CACHE_HEALTH = "gateway.cache.health";

  /** Request: any body. Reply: {@link Messages.Health} of the capture side (CaptureVerticle). */
  public static final String CAPTURE_HEALTH = "gateway.capture.health";

}
