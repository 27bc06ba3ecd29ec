package io.cachegate.cache;

import java.util.List;

/**
 * The Redis schema: every key the gateway uses, with its type, what it holds and where it is placed.
 * Scripts receive every key in KEYS, built here and nowhere else; docs/architecture.md's "State in
 * Redis" table lists them ({@code RedisSchemaTest} fails when the two disagree). Every key is under
 * {@code redis.namespace}.
 *
 * <p>The layout is the same on one Redis and on a Redis Cluster, so both run the same steps:
 * <ul>
 *   <li>{@link Placement#ENTRY}: in the slot of the entry's own key ({@code ns + key}), through the
 *       hash tag {@link SlotTags#tag} gives for that slot, whatever braces the key holds itself:
 *       {@code cg:m:{<slot tag>}:<key>}. An entry's value and bookkeeping are changed by one script.</li>
 *   <li>{@link Placement#SLOT}: one per slot, in the slot of the entry it serves ({@code cg:ver:{<slot tag>}}).</li>
 *   <li>{@link Placement#TAG}: in the slot of the tag's name: {@code cg:t:{<slot tag>}:<tag>}.</li>
 *   <li>{@link Placement#SHARD}: one of {@link #SHARDS} shards of the prefix index, at slots spread
 *       evenly over the slot range (so over the masters); a key is indexed in the shard of its slot.</li>
 *   <li>{@link Placement#GLOBAL}: one slot for all ({@code {cg}}): the notice log and what reads it,
 *       in one order.</li>
 * </ul>
 */
public final class RedisKeys {

  /** Index shards: a prefix invalidation reads each of them; a PUT files its key in one. */
  public static final int SHARDS = 16;
  private static final String GLOBAL_TAG = "{cg}:";

  /** Where a key is placed (see the class comment). */
  public enum Placement { ENTRY, SLOT, TAG, SHARD, GLOBAL }

  /** One key, or one family of keys (placed per entry, tag or shard). */
  public record Key(String name, Placement placement, String type, String holds) {

    /** The key of {@code member} (an entry's key, or a tag) in namespace {@code ns}. */
    public String in(String ns, String member) {
      return switch (placement) {
        case ENTRY, SLOT -> entry(ns, member).of(this);
        case TAG -> ns + name + "{" + SlotTags.tag(SlotTags.slot(member)) + "}:" + member;
        case SHARD -> shard(ns, shardOf(ns, member));
        case GLOBAL -> throw new IllegalStateException(name + " is one key: no member");
      };
    }

    /** A global key, or a per-slot one ({@link #VERSION}) given by a member of its slot. */
    public String in(String ns) {
      if (placement != Placement.GLOBAL) throw new IllegalStateException(name + " is a family of keys: give its member");
      return ns + name;
    }

    /** Shard {@code i} (0 to {@link #SHARDS} - 1) of a {@link Placement#SHARD} family. */
    public String shard(String ns, int i) {
      if (placement != Placement.SHARD) throw new IllegalStateException(name + " is not sharded");
      return ns + name + "{" + SlotTags.tag(i * (SlotTags.SLOTS / SHARDS)) + "}";
    }

    /** How the key is spelled, for the docs: {@code cg:m:{slot}:<key>}, {@code cg:k:{shard}}, ... */
    public String pattern() {
      return switch (placement) {
        case ENTRY -> name + "{slot}:<key>";
        case SLOT -> name + "{slot}";
        case TAG -> name + "{slot}:<tag>";
        case SHARD -> name + "{shard}";
        case GLOBAL -> name;
      };
    }
  }

  public static final Key META = new Key("cg:m:", Placement.ENTRY, "hash", "an entry's version, tags, deps, sliding, ttl, type, cms, stale");
  public static final Key LEASE = new Key("cg:l:", Placement.ENTRY, "string", "a fill lease: token.issue_ms");
  public static final Key COACCESS = new Key("cg:co:", Placement.ENTRY, "zset", "keys read together with the key in multi-gets, score = count");
  public static final Key DEPENDENTS = new Key("cg:d:", Placement.ENTRY, "zset", "keys that depend on the key, score = expiry (ms) + margin");
  public static final Key VERSION = new Key("cg:ver:", Placement.SLOT, "string", "the version counter of the slot's entries");
  public static final Key TAG = new Key("cg:t:", Placement.TAG, "zset", "keys filed under the tag, score = expiry (ms) + margin");
  public static final Key TAG_INVALIDATED = new Key("cg:ti:", Placement.TAG, "string", "when the tag was last invalidated (ms), kept one lease TTL");
  public static final Key LIVE = new Key("cg:k:", Placement.SHARD, "zset", "the shard's keys, scores 0, for prefix look-ups");
  public static final Key EXPIRY = new Key("cg:x:", Placement.SHARD, "zset", "the shard's keys, score = expiry (ms) + margin, to sweep cg:k:");
  public static final Key PREFIXES_INVALIDATED = new Key("cg:pi:", Placement.SHARD, "zset", "prefixes invalidated in the last lease TTL, score = ms");
  public static final Key NOTICES = new Key("cg:" + GLOBAL_TAG + "notices", Placement.GLOBAL, "stream", "the notices, in delivery order");
  public static final Key TRIMMED = new Key("cg:" + GLOBAL_TAG + "trimmed", Placement.GLOBAL, "string", "id of the last notice the trim removed");
  public static final Key EPOCH = new Key("cg:" + GLOBAL_TAG + "epoch", Placement.GLOBAL, "string", "a random id of this Redis data set");
  public static final Key TAILS = new Key("cg:" + GLOBAL_TAG + "tails", Placement.GLOBAL, "zset", "each instance's streamed position (ms)");
  public static final Key TAILBEAT = new Key("cg:" + GLOBAL_TAG + "tailbeat", Placement.GLOBAL, "zset", "when each instance last reported its position");
  public static final Key INSTANCES = new Key("cg:" + GLOBAL_TAG + "instances", Placement.GLOBAL, "hash", "each live instance's self-report (JSON)");

  /** Every key of the schema (besides the entries' values, stored under their own names). */
  public static final List<Key> ALL = List.of(META, LEASE, COACCESS, DEPENDENTS, VERSION, TAG, TAG_INVALIDATED, LIVE, EXPIRY,
      PREFIXES_INVALIDATED, NOTICES, TRIMMED, EPOCH, TAILS, TAILBEAT, INSTANCES);

  /**
   * The keys of one entry, its slot found once: every {@link Placement#ENTRY} and {@link Placement#SLOT}
   * key of it is spelled here ({@link Key#in} too), with one CRC16 for all of them.
   */
  public record Entry(String ns, String key, int slot) {
    /** Its value, under the key's own name. */
    public String value() {
      return ns + key;
    }

    /** Its {@code k} (placed per entry or per slot). */
    public String of(Key k) {
      String tag = SlotTags.braced(slot);
      return switch (k.placement()) {
        case ENTRY -> ns + k.name() + tag + ":" + key;
        case SLOT -> ns + k.name() + tag;
        default -> throw new IllegalStateException(k.name() + " is not placed by entry");
      };
    }
  }

  /** The keys of entry {@code key} in namespace {@code ns}. */
  public static Entry entry(String ns, String key) {
    return new Entry(ns, key, SlotTags.slot(ns + key));
  }

  /** An entry's value: under the key's own name (applications read it with a plain GET). */
  public static String value(String ns, String key) {
    return ns + key;
  }

  /** The index shard of a key: its slot's sixteenth of the slot range. */
  public static int shardOf(String ns, String key) {
    return SlotTags.slot(ns + key) / (SlotTags.SLOTS / SHARDS);
  }

  private RedisKeys() {}
}
