package io.cachegate.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * What a stream client may subscribe to: the {@code cg} claim of its token, or everything (an API key
 * with the read scope, or auth off). A pattern ending in {@code *} allows every name starting with
 * what precedes it; {@code *} alone allows all. A prefix subscription is allowed only when every key it
 * could cover is allowed: the prefix itself must start with an allowed pattern's stem. An entry of
 * {@code prefixes} names a prefix its holder may subscribe to, so {@code session:} allows the prefix
 * {@code session:} and everything under it, as {@code session:*} does. Immutable.
 */
public record StreamGrant(List<String> keys, List<String> tags, List<String> prefixes, long expiresAtMs) {

  public static final StreamGrant ALL = new StreamGrant(List.of("*"), List.of("*"), List.of("*"), Long.MAX_VALUE);

  public StreamGrant {
    keys = List.copyOf(keys);
    tags = List.copyOf(tags);
    prefixes = List.copyOf(prefixes);
  }

  public static StreamGrant fromClaim(JsonObject cg, long expiresAtMs) {
    return new StreamGrant(strings(cg, "keys"), strings(cg, "tags"), strings(cg, "prefixes"), expiresAtMs);
  }

  private static List<String> strings(JsonObject cg, String field) {
    List<String> out = new ArrayList<>();
    Object v = cg == null ? null : cg.getValue(field);
    if (v instanceof JsonArray a) for (Object o : a) if (o instanceof String s) out.add(s);
    return out;
  }

  /** A key subscription: allowed by a key pattern (or a prefix pattern, which covers every key under it). */
  public boolean allowsKey(String key) {
    return matches(keys, key) || underPrefix(key);
  }

  public boolean allowsTag(String tag) {
    return matches(tags, tag);
  }

  /**
   * A prefix subscription reaches every key that starts with it, so it is allowed only when one of the
   * key or prefix patterns covers all of those: the pattern is {@code *}, or it ends in {@code *} and the
   * requested prefix starts with its stem.
   */
  public boolean allowsPrefix(String prefix) {
    return coversByStem(keys, prefix) || underPrefix(prefix);
  }

  /** {@code name} starts with an allowed prefix (with or without its trailing {@code *}). */
  private boolean underPrefix(String name) {
    for (String p : prefixes) {
      String stem = p.endsWith("*") ? p.substring(0, p.length() - 1) : p;
      if (name.startsWith(stem)) return true;
    }
    return false;
  }

  /** Every notice in full ({@code "all": true}). */
  public boolean allowsAll() {
    return keys.contains("*") && tags.contains("*") && prefixes.contains("*");
  }

  private static boolean matches(List<String> patterns, String name) {
    for (String p : patterns) {
      if (p.equals("*") || p.equals(name)) return true;
      if (p.endsWith("*") && name.startsWith(p.substring(0, p.length() - 1))) return true;
    }
    return false;
  }

  private static boolean coversByStem(List<String> patterns, String name) {
    for (String p : patterns) {
      if (p.equals("*")) return true;
      if (p.endsWith("*") && name.startsWith(p.substring(0, p.length() - 1))) return true;
    }
    return false;
  }
}
