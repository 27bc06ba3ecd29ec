package io.cachegate.stream;

import io.cachegate.bus.Messages.Notice;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Who is subscribed to what, indexed so that matching a notice costs the size of the notice, not the
 * number of clients: exact keys in a sorted map (sorted so a prefix invalidation finds the key
 * subscribers under it), tags in a hash map, prefixes in a {@link PrefixTrie}. Not thread-safe: one
 * per stream hub, used only on that hub's event loop.
 *
 * <p>What a subscriber hears of a notice, and is shown in its frame:
 * <ul>
 *   <li>a notice key it subscribed to, or that starts with a prefix it subscribed to;</li>
 *   <li>a notice tag it subscribed to;</li>
 *   <li>a notice prefix that starts with one of its prefixes, that one of its prefixes starts with, or
 *       that one of its keys starts with (the invalidation covers that key).</li>
 * </ul>
 */
public final class SubscriptionIndex<S> {

  /**
   * What of one notice a subscriber may see. Not changed once {@link #match} or {@link #matchOne}
   * returned it (its hash is kept): sessions reached the same way share one instance, and so one frame.
   */
  public static final class Match {
    public final Set<String> keys = new LinkedHashSet<>();
    public final Set<String> tags = new LinkedHashSet<>();
    public final Set<String> prefixes = new LinkedHashSet<>();
    /** True while this instance stands for every subscriber reached by one name only: copied before it grows. */
    private boolean shared;
    private int hash;

    private Match copy() {
      Match m = new Match();
      m.keys.addAll(keys);
      m.tags.addAll(tags);
      m.prefixes.addAll(prefixes);
      return m;
    }

    @Override
    public boolean equals(Object o) {
      return o == this || o instanceof Match m && keys.equals(m.keys) && tags.equals(m.tags) && prefixes.equals(m.prefixes);
    }

    @Override
    public int hashCode() {
      if (hash == 0) hash = Objects.hash(keys, tags, prefixes) | 1;
      return hash;
    }
  }

  /** Which part of a match a name goes to. */
  private enum Part { KEY, TAG, PREFIX }

  /**
   * The matches of one notice being built: a subscriber reached by one name only gets the one
   * instance made for that name (10,000 subscribers of one tag: one match, not 10,000); a second name
   * gives it a copy of its own.
   */
  private static final class Matches<S> {
    final Map<S, Match> out = new LinkedHashMap<>();
    /** The name being matched, and the one match for the subscribers it alone reaches. */
    private Part part;
    private String name;
    private Match current;

    /** Starts the subscribers reached by {@code name} as {@code part}. */
    void reach(Part part, String name) {
      this.part = part;
      this.name = name;
      current = new Match();
      current.shared = true;
      set(current, part).add(name);
    }

    void add(S s) {
      Match m = out.get(s);
      if (m == null) {
        out.put(s, current);
      } else if (m != current) {
        if (m.shared) out.put(s, m = m.copy());
        set(m, part).add(name);
      }
    }

    private static Set<String> set(Match m, Part part) {
      return switch (part) {
        case KEY -> m.keys;
        case TAG -> m.tags;
        case PREFIX -> m.prefixes;
      };
    }
  }

  private final TreeMap<String, Set<S>> keys = new TreeMap<>();
  private final Map<String, Set<S>> tags = new HashMap<>();
  private final PrefixTrie<S> prefixes = new PrefixTrie<>();

  public void addKey(String key, S s) {
    keys.computeIfAbsent(key, k -> new HashSet<>(2)).add(s);
  }

  public void addTag(String tag, S s) {
    tags.computeIfAbsent(tag, k -> new HashSet<>(2)).add(s);
  }

  public void addPrefix(String prefix, S s) {
    prefixes.add(prefix, s);
  }

  public void removeKey(String key, S s) {
    remove(keys, key, s);
  }

  public void removeTag(String tag, S s) {
    remove(tags, tag, s);
  }

  public void removePrefix(String prefix, S s) {
    prefixes.remove(prefix, s);
  }

  private static <S> void remove(Map<String, Set<S>> map, String name, S s) {
    Set<S> set = map.get(name);
    if (set != null && set.remove(s) && set.isEmpty()) map.remove(name);
  }

  /** The subscribers a notice reaches, each with the part of the notice it may see. */
  public Map<S, Match> match(Notice n) {
    Matches<S> m = new Matches<>();
    for (String k : n.keys()) {
      Set<S> exact = keys.get(k);
      m.reach(Part.KEY, k);
      if (exact != null) for (S s : exact) m.add(s);
      prefixes.prefixesOf(k, (p, s) -> m.add(s));
    }
    for (String t : n.tags()) {
      Set<S> set = tags.get(t);
      if (set == null) continue;
      m.reach(Part.TAG, t);
      for (S s : set) m.add(s);
    }
    for (String p : n.prefixes()) {
      m.reach(Part.PREFIX, p);
      prefixes.prefixesOf(p, (q, s) -> m.add(s));
      prefixes.extensionsOf(p, (q, s) -> m.add(s));
      for (Set<S> set : keys.subMap(p, true, p + Character.MAX_VALUE, true).values()) {
        for (S s : set) m.add(s);
      }
    }
    return m.out;
  }

  /** The same rules as {@link #match} for one subscriber's sets, without an index (used for replay). */
  public static Match matchOne(Notice n, Set<String> keys, Set<String> tags, Set<String> prefixes) {
    Match m = new Match();
    for (String k : n.keys()) {
      if (keys.contains(k) || prefixes.stream().anyMatch(k::startsWith)) m.keys.add(k);
    }
    for (String t : n.tags()) if (tags.contains(t)) m.tags.add(t);
    for (String p : n.prefixes()) {
      if (prefixes.stream().anyMatch(q -> p.startsWith(q) || q.startsWith(p)) || keys.stream().anyMatch(k -> k.startsWith(p))) {
        m.prefixes.add(p);
      }
    }
    return m;
  }

  public static boolean isEmpty(Match m) {
    return m.keys.isEmpty() && m.tags.isEmpty() && m.prefixes.isEmpty();
  }
}
