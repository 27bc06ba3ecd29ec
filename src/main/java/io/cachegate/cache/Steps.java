package io.cachegate.cache;

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
import java.util.function.Function;

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

  /** Items by the slot of their key (one group on one Redis), in their order. */
  <T> List<List<T>> group(List<T> items, Function<T, String> fullKey) {
    if (!cluster) return items.isEmpty() ? List.of() : List.of(items);
    Map<Integer, List<T>> by = new LinkedHashMap<>();
    for (T t : items) by.computeIfAbsent(SlotTags.slot(fullKey.apply(t)), s -> new ArrayList<>()).add(t);
    return new ArrayList<>(by.values());
  }

  private static <T> List<List<T>> chunks(List<T> items) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i += CHUNK) out.add(items.subList(i, Math.min(items.size(), i + CHUNK)));
    return out;
  }

  // ---- PUT ----

  /** One place a key is filed: its kind letter (file.lua) and its keys. */
  private record Filing(char kind, List<String> keys) {}

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
    List<Future<Response>> calls = new ArrayList<>();
    for (List<Filing> g : group(filings, f -> f.keys().get(0))) {
      List<String> keys = new ArrayList<>();
      StringBuilder kinds = new StringBuilder();
      for (Filing f : g) {
        keys.addAll(f.keys());
        kinds.append(f.kind());
      }
      calls.add(scripts.run(redis, Script.FILE, keys, List.of(key, Long.toString(ttlMs), issuedMs == null ? "" : issuedMs.toString(),
          Long.toString(SCORE_MARGIN_MS), Long.toString(leaseMarginMs), kinds.toString())));
    }
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
    List<Future<Response>> calls = new ArrayList<>();
    for (List<Filing> g : group(filings, f -> f.keys().get(0))) {
      StringBuilder kinds = new StringBuilder();
      List<String> keys = new ArrayList<>();
      for (Filing f : g) {
        keys.addAll(f.keys());
        kinds.append(f.kind());
      }
      calls.add(scripts.run(redis, Script.RENEW, keys, List.of(key, Long.toString(ttlMs), Long.toString(SCORE_MARGIN_MS), kinds.toString())));
    }
    return Future.all(calls).mapEmpty();
  }

  // ---- reading a filing ----

  /**
   * Those of {@code candidates} (members of a tag's or a key's dependents zset) that exist and whose
   * bookkeeping lists {@code name} in {@code field} ("tags" or "deps"), in their order.
   */
  Future<List<String>> verify(Redis redis, List<String> candidates, String field, String name) {
    List<Future<List<String>>> calls = new ArrayList<>();
    for (List<String> g : group(candidates, k -> RedisKeys.value(ns, k))) {
      for (List<String> c : chunks(g)) {
        List<String> keys = new ArrayList<>(c.size() * 2);
        for (String k : c) {
          keys.add(RedisKeys.value(ns, k));
          keys.add(RedisKeys.META.in(ns, k));
        }
        calls.add(scripts.run(redis, Script.VERIFY, keys, List.of(field, name))
            .map(r -> ScriptReplies.positions(r).stream().map(i -> c.get(i - 1)).toList()));
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
   * The requests of one command: each found and dropped on its own (all at once), then their notices
   * appended in the command's order, in one step, after every delete answered.
   */
  Future<List<Outcome>> invalidate(Redis redis, List<Invalidation> invalidations) {
    List<Future<Found>> collected = invalidations.stream().map(inv -> collect(redis, inv)).toList();
    return Future.all(collected).compose(v -> {
      List<String> args = new ArrayList<>();
      for (int i = 0; i < invalidations.size(); i++) {
        Invalidation inv = invalidations.get(i);
        Found f = collected.get(i).result();
        args.add(new JsonArray(new ArrayList<>(f.listed)).encode());
        args.add(new JsonArray(new ArrayList<>(f.tags)).encode());
        args.add(new JsonArray(inv.targets().prefixes()).encode());
        args.add(inv.cause().toJson().encode());
        args.add(inv.soft() ? "1" : "0");
      }
      return scripts.run(redis, Script.NOTICE, List.of(RedisKeys.NOTICES.in(ns)), args).map(reply -> {
        List<String> ids = ScriptReplies.strings(reply);
        List<Outcome> out = new ArrayList<>(invalidations.size());
        for (int i = 0; i < invalidations.size(); i++) {
          Found f = collected.get(i).result();
          out.add(new Outcome(NoticeIds.fromStreamId(ids.get(i)), List.copyOf(f.listed), f.truncated));
        }
        return out;
      });
    });
  }

  /** What one invalidation found so far: each key with why (empty: unconditionally). */
  private static final class Found {
    final Map<String, Set<String>> why = new LinkedHashMap<>();
    final Set<String> listed = new LinkedHashSet<>();
    final Set<String> tags = new LinkedHashSet<>();
    boolean truncated;

    /** Adds {@code key} for {@code reason} ("" = unconditionally); true when it is new. */
    boolean add(String key, String reason) {
      Set<String> r = why.get(key);
      if (r == null) {
        r = new LinkedHashSet<>();
        r.add(reason);
        why.put(key, r);
        return true;
      }
      if (!r.contains("")) {
        if (reason.isEmpty()) r.clear();
        r.add(reason);
      }
      return false;
    }
  }

  /** Finds what {@code inv} names and drops it (its notice is appended by the caller). */
  private Future<Found> collect(Redis redis, Invalidation inv) {
    Targets t = inv.targets();
    Found found = new Found();
    for (String k : t.keys()) {
      found.add(k, "");
      found.listed.add(k);
    }
    found.tags.addAll(t.tags());
    Future<List<List<String>>> byTag = expandTags(redis, t.tags());
    Future<List<String>> byPrefix = expandPrefixes(redis, t.prefixes());
    return Future.all(byTag, byPrefix).compose(v -> {
      List<List<String>> members = byTag.result();
      for (int i = 0; i < t.tags().size(); i++) {
        for (String k : members.get(i)) found.add(k, "t" + t.tags().get(i));
      }
      for (String k : byPrefix.result()) found.add(k, "");
      return dropRounds(redis, found, new ArrayList<>(found.why.keySet()), inv, 0);
    }).map(truncated -> {
      found.truncated = truncated;
      return found;
    });
  }

  /** Per tag, its members, after recording the invalidation. */
  private Future<List<List<String>>> expandTags(Redis redis, List<String> tags) {
    List<String> distinct = new ArrayList<>(new LinkedHashSet<>(tags));
    Map<String, List<String>> members = new LinkedHashMap<>();
    List<Future<?>> calls = new ArrayList<>();
    for (List<String> g : group(distinct, tag -> RedisKeys.TAG.in(ns, tag))) {
      List<String> keys = new ArrayList<>();
      for (String tag : g) {
        keys.add(RedisKeys.TAG.in(ns, tag));
        keys.add(RedisKeys.TAG_INVALIDATED.in(ns, tag));
      }
      calls.add(scripts.run(redis, Script.EXPAND, keys, List.of(Long.toString(leaseTtlMs))).onSuccess(r -> {
        List<List<String>> each = ScriptReplies.lists(r);
        for (int i = 0; i < g.size(); i++) members.put(g.get(i), each.get(i));
      }));
    }
    return Future.all(calls).map(v -> tags.stream().map(tag -> members.getOrDefault(tag, List.of())).toList());
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

  /**
   * Drops {@code batch}; with cascade, then the dependents it named that were not found before, round
   * after round, at most {@code maxCascade} in all. Completes with whether the cascade was cut short.
   */
  private Future<Boolean> dropRounds(Redis redis, Found found, List<String> batch, Invalidation inv, int added) {
    if (batch.isEmpty()) return Future.succeededFuture(false);
    return drop(redis, found, batch, inv).compose(dropped -> {
      List<String> next = new ArrayList<>();
      int total = added;
      boolean truncated = false;
      for (int i = 0; i < batch.size() && !truncated; i++) {
        ScriptReplies.Dropped d = dropped.get(batch.get(i));
        if (d == null) continue;
        for (String dep : d.dependents()) {
          if (found.why.containsKey(dep)) {
            found.add(dep, "d" + batch.get(i)); // known already: another reason, for a later round that has not run
            continue;
          }
          if (total >= maxCascade) {
            truncated = true;
            break;
          }
          found.add(dep, "d" + batch.get(i));
          next.add(dep);
          total++;
        }
      }
      if (truncated) return dropRounds(redis, found, next, inv, total).map(true);
      return dropRounds(redis, found, next, inv, total);
    });
  }

  /** drop.lua on {@code batch}, slot by slot; what each key's step answered, listed or not. */
  private Future<Map<String, ScriptReplies.Dropped>> drop(Redis redis, Found found, List<String> batch, Invalidation inv) {
    Map<String, ScriptReplies.Dropped> out = new LinkedHashMap<>();
    List<Future<?>> calls = new ArrayList<>();
    for (List<String> g : group(batch, k -> RedisKeys.value(ns, k))) {
      for (List<String> c : chunks(g)) {
        List<String> keys = new ArrayList<>(c.size() * 4);
        List<String> args = new ArrayList<>(c.size() + 2);
        args.add(inv.soft() ? "1" : "0");
        args.add(inv.cascade() ? "1" : "0");
        for (String k : c) {
          keys.add(RedisKeys.value(ns, k));
          keys.add(RedisKeys.META.in(ns, k));
          keys.add(RedisKeys.LEASE.in(ns, k));
          keys.add(RedisKeys.DEPENDENTS.in(ns, k));
          Set<String> why = found.why.get(k);
          args.add(why.contains("") ? "" : String.join("\n", why));
        }
        calls.add(scripts.run(redis, Script.DROP, keys, args).onSuccess(r -> {
          List<ScriptReplies.Dropped> d = ScriptReplies.Dropped.parse(r);
          for (int i = 0; i < c.size(); i++) out.put(c.get(i), d.get(i));
        }));
      }
    }
    return Future.all(calls).map(v -> {
      for (String k : batch) { // in the batch's order, so the notice lists keys as they were found
        ScriptReplies.Dropped d = out.get(k);
        if (d.existed()) found.listed.add(k);
        for (Object tag : new JsonArray(d.tagsJson())) found.tags.add(String.valueOf(tag));
      }
      return out;
    });
  }
}
