package io.cachegate.model;

import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What one invalidation is asked to remove: exact keys, tags and key prefixes. Immutable. */
public record Targets(List<String> keys, List<String> tags, List<String> prefixes) {

  public static final Targets EMPTY = new Targets(List.of(), List.of(), List.of());

  public Targets {
    keys = List.copyOf(keys);
    tags = List.copyOf(tags);
    prefixes = List.copyOf(prefixes);
  }

  public boolean isEmpty() {
    return keys.isEmpty() && tags.isEmpty() && prefixes.isEmpty();
  }

  /** Union without duplicates, in first-seen order. */
  public Targets plus(Targets other) {
    return new Targets(union(keys, other.keys), union(tags, other.tags), union(prefixes, other.prefixes));
  }

  private static List<String> union(List<String> a, List<String> b) {
    Set<String> s = new LinkedHashSet<>(a);
    s.addAll(b);
    return new ArrayList<>(s);
  }

  public static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    if (array != null) for (Object o : array) out.add(String.valueOf(o));
    return out;
  }
}
