package io.cachegate.cache;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.Outcome;
import io.cachegate.cache.RedisScripts.Script;
import io.cachegate.model.NoticeIds;
import io.cachegate.model.Targets;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The operations that touch keys of several slots, as ordered steps of one script per slot. The same
 * steps run on one Redis and on a cluster (there, {@link #group} splits by slot; on one Redis it
 * keeps a step's keys together, so a step is one call). The order is what keeps a value from being
 * readable stale after a crash between steps, and is written down in docs/architecture.md:
 * <ul>
 *   <li>PUT: file the key under its tags, dependencies and index shard first (file.lua, which also
 *       refuses a fill leased before a tag or prefix invalidation), then write value and bookkeeping
 *       (write.lua). A crash in between leaves a member whose entry does not list it: ignored by every
 *       reader (drop.lua and verify.lua check the entry's own bookkeeping), gone when its score passes.</li>
 *   <li>Invalidation: read (and record) what the tags and prefixes hold, delete the entries slot by
 *       slot with their leases (drop.lua; with cascade, round after round over their dependents), and
 *       append the notice (notice.lua) last, after every delete answered.</li>
 *   <li>Renewing a sliding entry: raise its scores where it is filed (renew.lua), then its TTL
 *       (touch.lua), so a filing never ends before its value.</li>
 * </ul>
 * Filings are never removed, not even by the invalidation of their tag: a PUT that filed its key
 * before the invalidation read the tag and wrote its value after the delete would be left unfiled,
 * out of reach of the next invalidation of that tag. Members whose entry is gone or no longer lists
 * them are ignored (drop.lua, verify.lua), and expire with their scores.
 */
final class Steps {

  /** Filing scores exceed the value's expiry by this much, so a node's clock running ahead never drops a live member. */
  static final long SCORE_MARGIN_MS = 2000;
  /**
   * On a cluster, a lease issued this long after a tag or prefix invalidation (by another node's
   * clock) is still voided by it. On one Redis one clock orders both: no margin.
   */
  static final long CLUSTER_LEASE_MARGIN_MS = 250;
  /** At most this many entries per drop.lua or verify.lua call. */
  private static final int CHUNK = 500;
  /** At most this many named keys are invalidated in one step (drop.lua appending the notice). */
  private static final int ONE_STEP = 1000;

  private final RedisScripts scripts;
  private final String ns;
  private final boolean cluster;
  private final int maxCascade;
  private final long leaseTtlMs;
  private final long leaseMarginMs;

  Steps(RedisScripts scripts, String ns, boolean cluster, int maxCascade, long leaseTtlMs) {
    this.scripts = scripts;
    this.ns = ns;
    this.cluster = cluster;
    this.maxCascade = maxCascade;
    this.leaseTtlMs = leaseTtlMs;
    this.leaseMarginMs = cluster ? CLUSTER_LEASE_MARGIN_MS : 0;
  }

  /** Items by their slot (one group on one Redis, where {@code slotOf} is not called), in their order. */
  <T> List<List<T>> group(List<T> items, ToIntFunction<T> slotOf) {
    if (!cluster) return items.isEmpty() ? List.of() : List.of(items);
    Map<Integer, List<T>> by = new LinkedHashMap<>();
    for (T t : items) by.computeIfAbsent(slotOf.applyAsInt(t), s -> new ArrayList<>()).add(t);
    return new ArrayList<>(by.values());
  }

  /** Each key's entry (its slot found once). */
  private List<RedisKeys.Entry> entries(List<String> keys) {
    List<RedisKeys.Entry> out = new ArrayList<>(keys.size());
    for (String k : keys) out.add(RedisKeys.entry(ns, k));
    return out;
  }

  private static <T> List<List<T>> chunks(List<T> items) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i += CHUNK) out.add(items.subList(i, Math.min(items.size(), i + CHUNK)));
    return out;
  }

  // ---- PUT ----

  /** One place a key is filed: its kind letter (file.lua, renew.lua) and its keys. */
  private record Filing(char kind, List<String> keys) {}

  /** {@code script} once per slot of {@code filings}: their keys, then ARGV {@code args} and their kind letters. */
  private List<Future<Response>> perSlot(Redis redis, Script script, List<Filing> filings, List<String> args) {
    List<Future<Response>> calls = new ArrayList<>();
    for (List<Filing> g : group(filings, f -> SlotTags.slot(f.keys().get(0)))) {
      List<String> keys = new ArrayList<>();
      StringBuilder kinds = new StringBuilder();
      for (Filing f : g) {
        keys.addAll(f.keys());
        kinds.append(f.kind());
      }
      List<String> argv = new ArrayList<>(args);
      argv.add(kinds.toString());
      calls.add(scripts.run(redis, script, keys, argv));
    }
    return calls;
  }

  /**
   * Files {@code key} under its tags, dependencies and index shard; false when a lease issued at
   * {@code issuedMs} (null: no lease) was voided by a tag or prefix invalidation since.
   */
  Future<Boolean> file(Redis redis, String key, List<String> tags, List<String> deps, long ttlMs, Long issuedMs) {
    List<Filing> filings = new ArrayList<>();
    for (String t : tags) filings.add(new Filing('t', List.of(RedisKeys.TAG.in(ns, t), RedisKeys.TAG_INVALIDATED.in(ns, t))));
    for (String d : deps) filings.add(new Filing('d', List.of(RedisKeys.DEPENDENTS.in(ns, d))));
    int shard = RedisKeys.shardOf(ns, key);
    filings.add(new Filing('s', List.of(RedisKeys.LIVE.shard(ns, shard), RedisKeys.EXPIRY.shard(ns, shard),
        RedisKeys.PREFIXES_INVALIDATED.shard(ns, shard))));
    List<Future<Response>> calls = perSlot(redis, Script.FILE, filings, List.of(key, Long.toString(ttlMs),
        issuedMs == null ? "" : issuedMs.toString(), Long.toString(SCORE_MARGIN_MS), Long.toString(leaseMarginMs)));
    return Future.all(calls).map(all -> calls.stream().allMatch(c -> c.result().toInteger() == 1));
  }

  // ---- renewing a sliding entry ----

  /**
   * Raises the scores of {@code key} where the filing read before lists it ({@code tagsJson},
   * {@code depsJson}), to outlast a TTL of {@code ttlMs}; then touch.lua renews the value.
   */
  Future<Void> renewFilings(Redis redis, String key, String tagsJson, String depsJson, long ttlMs) {
    List<Filing> filings = new ArrayList<>();
    for (Object t : new JsonArray(tagsJson)) filings.add(new Filing('z', List.of(RedisKeys.TAG.in(ns, String.valueOf(t)))));
    for (Object d : new JsonArray(depsJson)) filings.add(new Filing('z', List.of(RedisKeys.DEPENDENTS.in(ns, String.valueOf(d)))));
    filings.add(new Filing('x', List.of(RedisKeys.EXPIRY.in(ns, key))));
    return Future.all(perSlot(redis, Script.RENEW, filings, List.of(key, Long.toString(ttlMs), Long.toString(SCORE_MARGIN_MS))))
        .mapEmpty();
  }

  // ---- reading a filing ----

  /**
   * Those of {@code candidates} (members of a tag's or a key's dependents zset) that exist and whose
   * bookkeeping lists {@code name} in {@code field} ("tags" or "deps"), in their order.
   */
  Future<List<String>> verify(Redis redis, List<String> candidates, String field, String name) {
    List<Future<List<String>>> calls = new ArrayList<>();
    for (List<RedisKeys.Entry> g : group(entries(candidates), RedisKeys.Entry::slot)) {
      for (List<RedisKeys.Entry> c : chunks(g)) {
        List<String> keys = new ArrayList<>(c.size() * 2);
        for (RedisKeys.Entry e : c) {
          keys.add(e.value());
          keys.add(e.of(RedisKeys.META));
        }
        calls.add(scripts.run(redis, Script.VERIFY, keys, List.of(field, name))
            .map(r -> ScriptReplies.positions(r).stream().map(i -> c.get(i - 1).key()).toList()));
      }
    }
    return Future.all(calls).map(all -> {
      Set<String> ok = new java.util.HashSet<>();
      calls.forEach(c -> ok.addAll(c.result()));
      return candidates.stream().filter(ok::contains).toList();
    });
  }

  // ---- invalidation ----

  /**
   * The requests of one command (a capture batch holds hundreds), together: the tags and prefixes of
   * all of them are read in one step per slot, the entries of all of them (of one kind: soft or not,
   * cascading or not) dropped in one step per slot and round, and last their notices appended in the
   * command's order, in one step, after every delete answered. Each notice lists what its own request
   * reached.
   */
  Future<List<Outcome>> invalidate(Redis redis, List<Invalidation> invalidations) {
    List<Found> found = new ArrayList<>();
    Set<String> tags = new LinkedHashSet<>();
    Set<String> prefixes = new LinkedHashSet<>();
    for (Invalidation inv : invalidations) {
      Found f = new Found();
      for (String k : inv.targets().keys()) {
        f.add(k, "");
        f.listed.add(k);
      }
      f.tags.addAll(inv.targets().tags());
      tags.addAll(inv.targets().tags());
      prefixes.addAll(inv.targets().prefixes());
      found.add(f);
    }
    if (oneStep(invalidations)) return dropAndNotice(redis, invalidations, found);
    Future<Map<String, List<String>>> byTag = expandTags(redis, new ArrayList<>(tags));
    Future<List<String>> byPrefix = expandPrefixes(redis, new ArrayList<>(prefixes));
    return Future.all(byTag, byPrefix).compose(v -> {
      for (int i = 0; i < invalidations.size(); i++) {
        Targets t = invalidations.get(i).targets();
        Found f = found.get(i);
        for (String tag : t.tags()) for (String k : byTag.result().getOrDefault(tag, List.of())) f.add(k, "t" + tag);
        if (!t.prefixes().isEmpty()) {
          for (String k : byPrefix.result()) {
            if (t.prefixes().stream().anyMatch(k::startsWith)) f.add(k, "");
          }
        }
      }
      // one merged drop per kind of request: soft or not, with cascade or not
      Map<List<Boolean>, List<Integer>> kinds = new LinkedHashMap<>();
      for (int i = 0; i < invalidations.size(); i++) {
        Invalidation inv = invalidations.get(i);
        kinds.computeIfAbsent(List.of(inv.soft(), inv.cascade()), k -> new ArrayList<>()).add(i);
      }
      List<Future<Void>> drops = new ArrayList<>();
      kinds.forEach((kind, members) -> drops.add(new Drop(redis, found, members, kind.get(0), kind.get(1)).run()));
      return Future.all(drops);
    }).compose(v -> notice(redis, invalidations, found));
  }

  /**
   * One request naming keys only (no tags, no prefixes), at most {@link #ONE_STEP} of them, on one
   * Redis (where the entries and the notice stream share the slot): the drop appends the notice
   * itself, one round trip instead of two, unless the keys have dependents to cascade to.
   */
  private boolean oneStep(List<Invalidation> invalidations) {
    if (cluster || invalidations.size() != 1) return false;
    Targets t = invalidations.get(0).targets();
    return t.tags().isEmpty() && t.prefixes().isEmpty() && !t.keys().isEmpty() && t.keys().size() <= ONE_STEP;
  }

  private Future<List<Outcome>> dropAndNotice(Redis redis, List<Invalidation> invalidations, List<Found> found) {
    Invalidation inv = invalidations.get(0);
    Found f = found.get(0);
    List<String> names = new ArrayList<>(f.why.keySet());
    List<RedisKeys.Entry> batch = entries(names);
    List<String> keys = new ArrayList<>(batch.size() * 4 + 1);
    List<String> args = new ArrayList<>(batch.size() + 4);
    dropCall(batch, f.why, inv.soft(), inv.cascade(), keys, args);
    keys.add(RedisKeys.NOTICES.in(ns));
    args.add(jsonArray(f.listed));
    args.add(inv.cause().toJson().encode());
    return scripts.run(redis, Script.DROP, keys, args).compose(reply -> {
      String id = ScriptReplies.Dropped.noticeId(reply, batch.size());
      if (id != null) {
        return Future.succeededFuture(List.of(new Outcome(NoticeIds.fromStreamId(id), List.copyOf(f.listed), false)));
      }
      // dependents: the cascade goes on from this round, then the notice as for any invalidation
      Map<String, ScriptReplies.Dropped> answers = new java.util.HashMap<>();
      putDropped(answers, batch, reply);
      Drop drop = new Drop(redis, found, List.of(0), inv.soft(), inv.cascade());
      return drop.after(names, answers).compose(v -> notice(redis, invalidations, found));
    });
  }

  /** The last step: every request's notice, in order, after every delete answered. */
  private Future<List<Outcome>> notice(Redis redis, List<Invalidation> invalidations, List<Found> found) {
    List<String> args = new ArrayList<>(invalidations.size() * 5);
    Cause lastCause = null;
    String lastCauseJson = null;
    for (int i = 0; i < invalidations.size(); i++) {
      Invalidation inv = invalidations.get(i);
      Found f = found.get(i);
      args.add(jsonArray(f.listed));
      args.add(jsonArray(f.tags));
      args.add(jsonArray(inv.targets().prefixes()));
      if (!inv.cause().equals(lastCause)) { // a capture batch: mostly one cause, encoded once
        lastCause = inv.cause();
        lastCauseJson = lastCause.toJson().encode();
      }
      args.add(lastCauseJson);
      args.add(inv.soft() ? "1" : "0");
    }
    return scripts.run(redis, Script.NOTICE, List.of(RedisKeys.NOTICES.in(ns)), args).map(reply -> {
      List<String> ids = ScriptReplies.strings(reply);
      List<Outcome> out = new ArrayList<>(invalidations.size());
      for (int i = 0; i < invalidations.size(); i++) {
        Found f = found.get(i);
        out.add(new Outcome(NoticeIds.fromStreamId(ids.get(i)), List.copyOf(f.listed), f.truncated));
      }
      return out;
    });
  }

  private static String jsonArray(java.util.Collection<String> names) {
    return names.isEmpty() ? "[]" : new JsonArray(new ArrayList<>(names)).encode();
  }

  /** What one request reached: each key with why (empty: unconditionally), what its notice lists. */
  private static final class Found {
    /** The reasons of a key reached unconditionally (never changed). */
    static final Set<String> ALWAYS = Set.of("");
    final Map<String, Set<String>> why = new LinkedHashMap<>();
    final Set<String> listed = new LinkedHashSet<>();
    final Set<String> tags = new LinkedHashSet<>();
    int cascaded;
    boolean truncated;

    /** Adds {@code key} for {@code reason} ("" = unconditionally, which replaces every other reason). */
    void add(String key, String reason) {
      if (reason.isEmpty()) {
        why.put(key, ALWAYS); // one shared set: most keys are named or found by a prefix
        return;
      }
      Set<String> r = why.get(key);
      if (r == ALWAYS) return;
      if (r == null) why.put(key, r = new LinkedHashSet<>());
      r.add(reason);
    }

    void merge(String key, Set<String> reasons) {
      for (String r : reasons) add(key, r);
    }
  }

  /**
   * The drop of the requests {@code members} (of one kind) together: round after round, each key
   * dropped once with every reason any of them has for it; a dependent found counts against the
   * cascade limit of each request that reached its parent.
   */
  private final class Drop {
    final Redis redis;
    final List<Found> found;
    final boolean soft;
    final boolean cascade;
    final Found merged = new Found();
    final Map<String, Set<Integer>> owners = new LinkedHashMap<>();
    final Map<String, ScriptReplies.Dropped> dropped = new java.util.HashMap<>();

    Drop(Redis redis, List<Found> found, List<Integer> members, boolean soft, boolean cascade) {
      this.redis = redis;
      this.found = found;
      this.soft = soft;
      this.cascade = cascade;
      for (int i : members) {
        found.get(i).why.forEach((k, reasons) -> {
          merged.merge(k, reasons);
          owners.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(i);
        });
      }
    }

    Future<Void> run() {
      return round(new ArrayList<>(merged.why.keySet()));
    }

    private Future<Void> round(List<String> batch) {
      if (batch.isEmpty()) return Future.succeededFuture();
      return drop(redis, batch, merged.why, soft, cascade).compose(answers -> after(batch, answers));
    }

    /** What the drop of {@code batch} answered: credited to its requests, and the next round (the dependents found). */
    Future<Void> after(List<String> batch, Map<String, ScriptReplies.Dropped> answers) {
      dropped.putAll(answers);
      for (String k : batch) for (int i : owners.get(k)) credit(i, k);
      List<String> next = new ArrayList<>();
      if (cascade) {
        for (String parent : batch) {
          for (String dep : answers.get(parent).dependents()) {
            for (int i : List.copyOf(owners.get(parent))) reach(i, parent, dep, next);
          }
        }
      }
      return round(next);
    }

    /** Request {@code i} reaches {@code dep} as a dependent of {@code parent}, within its cascade limit. */
    private void reach(int i, String parent, String dep, List<String> next) {
      Found f = found.get(i);
      if (f.why.containsKey(dep)) {
        f.add(dep, "d" + parent);
      } else if (f.cascaded >= maxCascade) {
        f.truncated = true;
        return;
      } else {
        f.add(dep, "d" + parent);
        f.cascaded++;
      }
      owners.computeIfAbsent(dep, x -> new LinkedHashSet<>()).add(i);
      boolean known = merged.why.containsKey(dep);
      boolean newReason = !known || !(merged.why.get(dep).contains("") || merged.why.get(dep).contains("d" + parent));
      merged.add(dep, "d" + parent);
      if (!known) {
        next.add(dep);
      } else if (dropped.containsKey(dep)) {
        // dropped in an earlier round: credit it, or drop it again when it was left (for a reason that no
        // longer held, a filing it had left) and this is a new one
        if (!dropped.get(dep).existed() && newReason && !next.contains(dep)) next.add(dep);
        else credit(i, dep);
      }
    }

    /** What dropping {@code key} found, in request {@code i}'s notice. */
    private void credit(int i, String key) {
      ScriptReplies.Dropped d = dropped.get(key);
      Found f = found.get(i);
      if (d.existed()) f.listed.add(key);
      if (!d.tagsJson().isEmpty()) for (Object tag : new JsonArray(d.tagsJson())) f.tags.add(String.valueOf(tag));
    }
  }

  /** Per tag, its members, after recording the invalidation. */
  private Future<Map<String, List<String>>> expandTags(Redis redis, List<String> tags) {
    Map<String, List<String>> members = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<?>> calls = new ArrayList<>();
    for (List<String> g : group(tags, tag -> SlotTags.slot(RedisKeys.TAG.in(ns, tag)))) {
      for (List<String> c : chunks(g)) {
        List<String> keys = new ArrayList<>();
        for (String tag : c) {
          keys.add(RedisKeys.TAG.in(ns, tag));
          keys.add(RedisKeys.TAG_INVALIDATED.in(ns, tag));
        }
        calls.add(scripts.run(redis, Script.EXPAND, keys, List.of(Long.toString(leaseTtlMs))).onSuccess(r -> {
          List<List<String>> each = ScriptReplies.lists(r);
          for (int i = 0; i < c.size(); i++) members.put(c.get(i), each.get(i));
        }));
      }
    }
    return Future.all(calls).map(v -> members);
  }

  /** The keys of every index shard that start with one of {@code prefixes}, after recording them. */
  private Future<List<String>> expandPrefixes(Redis redis, List<String> prefixes) {
    if (prefixes.isEmpty()) return Future.succeededFuture(List.of());
    List<String> args = new ArrayList<>();
    args.add(Long.toString(leaseTtlMs));
    args.addAll(prefixes);
    List<Future<Response>> calls = new ArrayList<>();
    for (int s = 0; s < RedisKeys.SHARDS; s++) {
      calls.add(scripts.run(redis, Script.PREFIXES, List.of(RedisKeys.LIVE.shard(ns, s), RedisKeys.PREFIXES_INVALIDATED.shard(ns, s)), args));
    }
    return Future.all(calls).map(v -> {
      List<String> out = new ArrayList<>();
      calls.forEach(c -> out.addAll(ScriptReplies.strings(c.result())));
      return out;
    });
  }

  /** drop.lua on {@code batch} with the reasons {@code why} gives, slot by slot; what each key's step answered. */
  private Future<Map<String, ScriptReplies.Dropped>> drop(Redis redis, List<String> batch, Map<String, Set<String>> why,
                                                          boolean soft, boolean cascade) {
    Map<String, ScriptReplies.Dropped> out = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<?>> calls = new ArrayList<>();
    for (List<RedisKeys.Entry> g : group(entries(batch), RedisKeys.Entry::slot)) {
      for (List<RedisKeys.Entry> c : chunks(g)) {
        List<String> keys = new ArrayList<>(c.size() * 4);
        List<String> args = new ArrayList<>(c.size() + 2);
        dropCall(c, why, soft, cascade, keys, args);
        calls.add(scripts.run(redis, Script.DROP, keys, args).onSuccess(r -> putDropped(out, c, r)));
      }
    }
    return Future.all(calls).map(v -> out);
  }

  /** What drop.lua answered for each of the entries {@code c}, by key. */
  private static void putDropped(Map<String, ScriptReplies.Dropped> out, List<RedisKeys.Entry> c, Response reply) {
    List<ScriptReplies.Dropped> d = ScriptReplies.Dropped.parse(reply, c.size());
    for (int i = 0; i < c.size(); i++) out.put(c.get(i).key(), d.get(i));
  }

  /** drop.lua's KEYS and ARGV for the entries {@code c}, with the reasons {@code why} gives. */
  private static void dropCall(List<RedisKeys.Entry> c, Map<String, Set<String>> why, boolean soft, boolean cascade,
                               List<String> keys, List<String> args) {
    args.add(soft ? "1" : "0");
    args.add(cascade ? "1" : "0");
    for (RedisKeys.Entry e : c) {
      keys.add(e.value());
      keys.add(e.of(RedisKeys.META));
      keys.add(e.of(RedisKeys.LEASE));
      keys.add(e.of(RedisKeys.DEPENDENTS));
      Set<String> reasons = why.get(e.key());
      args.add(reasons.contains("") ? "" : String.join("\n", reasons));
    }
  }
}
