package io.cachegate.cache;

import java.util.List;

/**
 * The Redis schema on the Java side: every key the gateway uses, with its type and what it holds.
 * The Lua scripts build the same keys with the functions of {@code K} in {@code lua/common.lua} and
 * nowhere else; docs/architecture.md's "State in Redis" table lists them with writers and lifetimes.
 * {@code RedisSchemaTest} fails when the three disagree. Every key is under {@code redis.namespace}.
 */
public final class RedisKeys {

  /** One key (or family of keys: {@code suffix} true means {@code name} is followed by a key or tag). */
  public record Key(String name, boolean suffix, String type, String holds) {
    /** The full key in namespace {@code ns} (for a family, of {@code member}). */
    public String in(String ns, String member) {
      return ns + name + (suffix ? member : "");
    }

    public String in(String ns) {
      if (suffix) throw new IllegalStateException(name + " is a family of keys: give its member");
      return ns + name;
    }
  }

  public static final Key META = new Key("cg:m:", true, "hash", "an entry's version, tags, deps, sliding, ttl, type, cms, stale");
  public static final Key COACCESS = new Key("cg:co:", true, "zset", "keys read together with the key in multi-gets, score = count");
  public static final Key TAG = new Key("cg:t:", true, "zset", "keys filed under the tag, score = expiry (ms)");
  public static final Key DEPENDENTS = new Key("cg:d:", true, "zset", "keys that depend on the key, score = expiry (ms)");
  public static final Key LEASE = new Key("cg:l:", true, "string", "a fill lease: token.issue_ms");
  public static final Key LIVE = new Key("cg:k", false, "zset", "live keys, scores 0, for prefix look-ups");
  public static final Key EXPIRY = new Key("cg:x", false, "zset", "live keys, score = expiry (ms), to sweep cg:k");
  public static final Key TAGS_INVALIDATED = new Key("cg:ti", false, "zset", "tags invalidated in the last lease TTL, score = ms");
  public static final Key PREFIXES_INVALIDATED = new Key("cg:pi", false, "zset", "prefixes invalidated in the last lease TTL, score = ms");
  public static final Key VERSION = new Key("cg:ver", false, "string", "the version counter");
  public static final Key NOTICES = new Key("cg:notices", false, "stream", "the notices, in delivery order");
  public static final Key TRIMMED = new Key("cg:trimmed", false, "string", "id of the last notice the trim removed");
  public static final Key EPOCH = new Key("cg:epoch", false, "string", "a random id of this Redis data set");
  public static final Key TAILS = new Key("cg:tails", false, "zset", "each instance's streamed position (ms)");
  public static final Key TAILBEAT = new Key("cg:tailbeat", false, "zset", "when each instance last reported its position");

  /** Every key of the schema (besides the entries' values, stored under their own names). */
  public static final List<Key> ALL = List.of(META, COACCESS, TAG, DEPENDENTS, LEASE, LIVE, EXPIRY, TAGS_INVALIDATED,
      PREFIXES_INVALIDATED, VERSION, NOTICES, TRIMMED, EPOCH, TAILS, TAILBEAT);

  /** An entry's value: under the key's own name (applications read it with a plain GET). */
  public static String value(String ns, String key) {
    return ns + key;
  }

  private RedisKeys() {}
}
