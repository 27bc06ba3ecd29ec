package io.cachegate.cache;

import io.cachegate.model.Targets;
import io.vertx.core.json.JsonArray;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One parser per script reply, next to each other: the scripts reply with field/value pairs (named in
 * each script's header comment) and only this class reads them, so no other code depends on a
 * reply's shape or on the order of its fields.
 */
final class ScriptReplies {

  private ScriptReplies() {}

  /** A flat field/value reply as a map; a field the script left out reads as absent. */
  private static Map<String, Response> fields(Response reply) {
    Map<String, Response> out = new HashMap<>();
    for (int i = 0; i + 1 < reply.size(); i += 2) out.put(reply.get(i).toString(), reply.get(i + 1));
    return out;
  }

  private static String text(Map<String, Response> f, String name) {
    Response r = f.get(name);
    return r == null ? "" : r.toString();
  }

  private static long number(Map<String, Response> f, String name) {
    Response r = f.get(name);
    return r == null ? 0 : Long.parseLong(r.toString());
  }

  private static List<String> jsonList(Map<String, Response> f, String name) {
    String s = text(f, name);
    return s.isEmpty() ? List.of() : Targets.strings(new JsonArray(s));
  }

  /**
   * get.lua. {@code lease}, {@code type}: "" when none; {@code leaseHeld}: a miss whose lease another
   * caller holds, for {@code retryAfterMs} more.
   */
  /**
   * get.lua. {@code renew}: a sliding entry the caller renews (renew.lua, then touch.lua), naming the filing read
   * here ({@code tagsJson}, {@code depsJson}, as stored) and its TTL ({@code ttlMs}).
   */
  record Get(boolean hit, String value, String version, long pttl, List<String> tags, String type, boolean stale,
             long computeMs, String lease, boolean leaseHeld, long retryAfterMs, boolean renew, String tagsJson,
             String depsJson, long ttlMs) {
    static Get parse(Response reply) {
      Map<String, Response> f = fields(reply);
      return new Get("hit".equals(text(f, "status")), text(f, "value"), text(f, "version"), number(f, "pttl"),
          jsonList(f, "tags"), text(f, "type"), "1".equals(text(f, "stale")), number(f, "cms"), text(f, "lease"),
          f.containsKey("retry_after_ms"), number(f, "retry_after_ms"), "1".equals(text(f, "renew")),
          f.containsKey("tags") ? text(f, "tags") : "[]", f.containsKey("deps") ? text(f, "deps") : "[]", number(f, "ttl"));
    }
  }

  /** write.lua: {@code status} is ok, version_mismatch or lease_voided. */
  record Put(String status, String version, long ttlMs, String current) {
    static Put parse(Response reply) {
      Map<String, Response> f = fields(reply);
      return new Put(text(f, "status"), text(f, "version"), number(f, "ttl_ms"), text(f, "current"));
    }
  }

  /** meta.lua; {@code found} false when the key does not exist. */
  record Meta(boolean found, String version, long pttl, List<String> tags, List<String> dependsOn, List<String> dependents) {
    static Meta parse(Response reply) {
      if (reply.size() == 0) return new Meta(false, "", 0, List.of(), List.of(), List.of());
      Map<String, Response> f = fields(reply);
      List<String> dependents = new ArrayList<>();
      Response d = f.get("dependents");
      if (d != null) for (Response k : d) dependents.add(k.toString());
      return new Meta(true, text(f, "version"), number(f, "pttl"), jsonList(f, "tags"), jsonList(f, "deps"), dependents);
    }
  }

  /** drop.lua, one per entry: whether it had a value, the tags its bookkeeping listed, its dependents. */
  record Dropped(boolean existed, String tagsJson, List<String> dependents) {
    /**
     * An entry of a reply without records: reached unconditionally, no bookkeeping, no dependents
     * (whether it had a value was not asked: it is listed in its notice either way).
     */
    static final Dropped PLAIN = new Dropped(false, "", List.of());

    /** drop.lua answered with its marker alone: nothing per entry to report. */
    static boolean plain(Response reply) {
      return reply.size() > 0 && reply.get(0).type() != ResponseType.MULTI;
    }

    /** The notice's id drop.lua appended after the {@code entries} records or its marker; null if none. */
    static String noticeId(Response reply, int entries) {
      int at = plain(reply) ? 1 : entries;
      return reply.size() > at ? reply.get(at).toString() : null;
    }

    /** The first {@code entries} records of drop.lua's reply (a notice's id may follow them). */
    static List<Dropped> parse(Response reply, int entries) {
      List<Dropped> out = new ArrayList<>(entries);
      if (plain(reply)) {
        for (int i = 0; i < entries; i++) out.add(PLAIN);
        return out;
      }
      for (int i = 0; i < entries; i++) {
        Response r = reply.get(i);
        List<String> dependents = new ArrayList<>();
        for (Response d : r.get(2)) dependents.add(d.toString());
        out.add(new Dropped(r.get(0).toInteger() == 1, r.get(1).toString(), dependents));
      }
      return out;
    }
  }

  /** expand.lua: one array of members per tag, in KEYS order. */
  static List<List<String>> lists(Response reply) {
    List<List<String>> out = new ArrayList<>(reply.size());
    for (Response r : reply) out.add(strings(r));
    return out;
  }

  /** An array of strings (tag.lua, prefixes.lua, notice.lua's ids). */
  static List<String> strings(Response reply) {
    List<String> out = new ArrayList<>(reply.size());
    for (Response r : reply) out.add(r.toString());
    return out;
  }

  /** verify.lua: the 1-based positions it confirmed. */
  static List<Integer> positions(Response reply) {
    List<Integer> out = new ArrayList<>(reply.size());
    for (Response r : reply) out.add(r.toInteger());
    return out;
  }

  /** suggest.lua: members with their scores (as ZREVRANGEBYSCORE WITHSCORES gives them), in order. */
  static Map<String, Double> scored(Response reply) {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < reply.size(); i += 2) out.put(reply.get(i).toString(), Double.parseDouble(reply.get(i + 1).toString()));
    return out;
  }

  /**
   * history.lua: the stream's first and last ids ("" when empty), whether the entry {@code since}
   * names exists, and the entries after it.
   */
  record History(String first, String last, boolean found, Response entries) {
    static History parse(Response reply) {
      Map<String, Response> f = fields(reply);
      return new History(text(f, "first"), text(f, "last"), "1".equals(text(f, "found")), f.get("entries"));
    }
  }
}
