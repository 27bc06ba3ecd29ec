package io.cachegate.bus;

import io.cachegate.model.Targets;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The immutable message records carried on the {@link Addresses}. */
public final class Messages {

  private Messages() {}

  /** Why an invalidation happened: {@code source} is {@code db}, {@code api} or {@code event}. */
  public record Cause(String source, String table, String op, String event, String reason) {
    /**
     * The op of an invalidation that stands for changes the capture never saw (its replication slot
     * was lost): every stream client is told to reset.
     */
    public static final String RESYNC = "RESYNC";

    public static Cause api(String reason) {
      return new Cause("api", null, null, null, reason);
    }

    public static Cause db(String table, String op) {
      return new Cause("db", table, op, null, null);
    }

    public static Cause event(String name, String reason) {
      return new Cause("event", null, null, name, reason);
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("source", source);
      if (table != null) o.put("table", table);
      if (op != null) o.put("op", op);
      if (event != null) o.put("event", event);
      if (reason != null) o.put("reason", reason);
      return o;
    }

    public static Cause fromJson(JsonObject o) {
      if (o == null) return new Cause("api", null, null, null, null);
      return new Cause(o.getString("source", "api"), o.getString("table"), o.getString("op"),
          o.getString("event"), o.getString("reason"));
    }
  }

  /**
   * One invalidation: its targets become one notice. {@code soft}: entries stay, marked stale, and the
   * next reader gets the lease to refresh them (stale-while-revalidate).
   */
  public record Invalidation(Targets targets, boolean cascade, boolean soft, Cause cause) {}

  public record InvalidateCommand(List<Invalidation> invalidations) {
    public InvalidateCommand {
      invalidations = List.copyOf(invalidations);
    }
  }

  /** Per invalidation, in order: the notice id and every key it covered. */
  public record InvalidateResult(List<Outcome> outcomes) {
    public InvalidateResult {
      outcomes = List.copyOf(outcomes);
    }
  }

  /** {@code cascadeTruncated}: the dependency walk stopped at {@code cache.maxCascade}. */
  public record Outcome(String noticeId, List<String> invalidated, boolean cascadeTruncated) {}

  /**
   * {@code type}: the strategy name or null; {@code ttlExplicit}: the caller gave the TTL (adaptive rules
   * leave it alone); {@code autoDepends}: add the strongest co-access suggestions to {@code dependsOn};
   * {@code computeMs}: how long the value takes to compute, for probabilistic early refresh (0 = none).
   */
  public record PutCommand(String key, String valueJson, long ttlSeconds, List<String> tags, List<String> dependsOn,
                           boolean sliding, String ifVersion, String lease, String type, boolean ttlExplicit,
                           boolean autoDepends, long computeMs) {}

  public record PutResult(String key, String version, long ttlSeconds) {}

  public record GetQuery(String key, boolean lease) {}

  /**
   * {@code found=false}: {@code lease} is the caller's fill lease, or null with {@code retryAfterMs}.
   * {@code found=true}: {@code stale} after a soft invalidation (then {@code lease}, for one caller, is the
   * refresh lease); {@code refreshAhead} when this caller should recompute early (XFetch).
   */
  public record GetResult(boolean found, String key, String valueJson, String version, long ttlSeconds,
                          List<String> tags, String lease, long retryAfterMs, String type, boolean stale,
                          boolean refreshAhead) {
    public static GetResult miss(String key, String lease, long retryAfterMs) {
      return new GetResult(false, key, null, null, 0, List.of(), lease, retryAfterMs, null, false, false);
    }
  }

  /** Renews an entry's TTL without rewriting it; {@code ttlSeconds} null keeps its own TTL. */
  public record TouchCommand(String key, Long ttlSeconds) {}

  public record TouchResult(String key, long ttlSeconds) {}

  /** Reads several keys, and records that they were read together (co-access). */
  public record MultiGetQuery(List<String> keys) {}

  public record MultiGetResult(List<GetResult> entries) {
    public MultiGetResult {
      entries = List.copyOf(entries);
    }
  }

  public record SuggestQuery(String key, int limit) {}

  public record Suggestion(String key, double score) {}

  public record SuggestResult(String key, List<Suggestion> suggestions) {
    public SuggestResult {
      suggestions = List.copyOf(suggestions);
    }
  }

  public record StatsQuery() {}

  /** The cache verticle's own view for {@code /v1/stats}: the adaptive TTL rules and their effect. */
  public record CacheStats(JsonObject adaptive) {
    public CacheStats {
      adaptive = adaptive.copy();
    }

    @Override
    public JsonObject adaptive() {
      return adaptive.copy();
    }
  }

  /** The last {@code limit} notices; with {@code key} or {@code tag}, only those naming it, among the last {@code scan}. */
  public record RecentQuery(int limit, String key, String tag, int scan) {}

  /** Oldest first; {@code scanned}: how many of the newest notices were looked at. */
  public record RecentResult(List<Notice> notices, int scanned) {
    public RecentResult {
      notices = List.copyOf(notices);
    }
  }

  /** A dry run of one invalidation: what it would reach, nothing changed. */
  public record PreviewQuery(Invalidation invalidation) {}

  /** What an invalidation would invalidate ({@code invalidated}) and the tags and prefixes its notice would name. */
  public record PreviewResult(List<String> invalidated, List<String> tags, List<String> prefixes, boolean cascadeTruncated) {
    public PreviewResult {
      invalidated = List.copyOf(invalidated);
      tags = List.copyOf(tags);
      prefixes = List.copyOf(prefixes);
    }
  }

  public record MetaQuery(String key) {}

  public record MetaResult(String key, String version, long ttlSeconds, List<String> tags, List<String> dependsOn,
                           List<String> dependents) {}

  public record TagQuery(String tag) {}

  public record TagResult(String tag, List<String> keys) {}

  /** The notices strictly after {@code since}, at most {@code max}. */
  public record HistoryQuery(String since, int max) {}

  /**
   * {@code complete=false}: the history does not reach back to {@code since} (trimmed, lost, or more
   * than {@code max} notices behind); the caller must reset. {@code position}: the newest notice id.
   */
  public record HistoryResult(boolean complete, List<Notice> notices, String position) {
    public HistoryResult {
      notices = List.copyOf(notices);
    }
  }

  /** One entry of {@code cg:notices}. {@code id} sorts in delivery order (see NoticeIds). */
  /** Consecutive notices of one read of {@code cg:notices}, in stream order: one bus message per read, not per notice. */
  public record Notices(List<Notice> notices) {
    public Notices {
      notices = List.copyOf(notices);
    }
  }

  public record Notice(String id, List<String> keys, List<String> tags, List<String> prefixes, Cause cause, long at,
                       boolean soft) {
    public Notice {
      keys = List.copyOf(keys);
      tags = List.copyOf(tags);
      prefixes = List.copyOf(prefixes);
    }
  }

  public record HistoryReset(String reason) {}

  /** Whether Redis answers; {@code error} says why not. */
  public record RedisState(boolean up, String error) {}

  /** A component's health: {@code up} plus details for {@code /health} and {@code /v1/stats}. */
  public record Health(String component, boolean up, JsonObject details) {
    public Health {
      details = details == null ? new JsonObject() : details.copy();
    }

    @Override
    public JsonObject details() {
      return details.copy();
    }
  }
}
