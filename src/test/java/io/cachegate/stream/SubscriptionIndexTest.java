package io.cachegate.stream;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.stream.SubscriptionIndex.Match;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SubscriptionIndexTest {

  private static Notice notice(List<String> keys, List<String> tags, List<String> prefixes) {
    return new Notice("1", keys, tags, prefixes, Cause.api(null), 0, false);
  }

  @Test
  void matchesExactKeysTagsAndPrefixesAndShowsOnlyWhatWasSubscribed() {
    SubscriptionIndex<String> idx = new SubscriptionIndex<>();
    idx.addKey("user:42:profile", "a");
    idx.addPrefix("user:42:", "b");
    idx.addTag("team", "c");
    idx.addKey("user:43:profile", "d");
    Map<String, Match> m = idx.match(notice(List.of("user:42:profile", "user:43:profile"), List.of("team", "other"), List.of()));
    assertThat(m.get("a").keys).containsExactly("user:42:profile");
    assertThat(m.get("b").keys).containsExactly("user:42:profile");
    assertThat(m.get("c").tags).containsExactly("team");
    assertThat(m.get("c").keys).isEmpty();
    assertThat(m.get("d").keys).containsExactly("user:43:profile");
  }

  /** Subscribers reached the same way share one match (so one frame); one reached twice sees both, alone. */
  @Test
  void subscribersReachedAlikeShareAMatchAndOneReachedTwiceDoesNotWidenTheOthers() {
    SubscriptionIndex<String> idx = new SubscriptionIndex<>();
    for (String s : List.of("a", "b", "c")) idx.addTag("team", s);
    idx.addKey("user:1", "c");
    idx.addPrefix("user:", "d");
    Map<String, Match> m = idx.match(notice(List.of("user:1"), List.of("team"), List.of()));
    assertThat(m.get("a")).isSameAs(m.get("b"));
    assertThat(m.get("a").tags).containsExactly("team");
    assertThat(m.get("a").keys).isEmpty();
    assertThat(m.get("c").keys).containsExactly("user:1");
    assertThat(m.get("c").tags).containsExactly("team");
    assertThat(m.get("d").keys).containsExactly("user:1");
    assertThat(m.get("d").tags).isEmpty();
    assertThat(m.get("a")).isNotEqualTo(m.get("c"));
  }

  @Test
  void prefixNoticesReachWiderNarrowerAndCoveredKeySubscribers() {
    SubscriptionIndex<String> idx = new SubscriptionIndex<>();
    idx.addPrefix("acct:", "wide");
    idx.addPrefix("acct:1:x", "narrow");
    idx.addKey("acct:1:k", "key");
    idx.addPrefix("acct:2:", "other");
    idx.addKey("acct:2:k", "otherKey");
    Map<String, Match> m = idx.match(notice(List.of(), List.of(), List.of("acct:1:")));
    assertThat(m).containsOnlyKeys("wide", "narrow", "key");
  }

  @Test
  void removalForgetsSubscribers() {
    SubscriptionIndex<String> idx = new SubscriptionIndex<>();
    idx.addPrefix("p:", "a");
    idx.addKey("p:1", "a");
    idx.removePrefix("p:", "a");
    idx.removeKey("p:1", "a");
    assertThat(idx.match(notice(List.of("p:1"), List.of(), List.of("p:")))).isEmpty();
  }

  /** The index and the per-subscriber rules agree on random subscriptions and notices. */
  @Test
  void theIndexAgreesWithMatchingOneByOne() {
    Random rnd = new Random(42);
    String[] alphabet = {"a", "b", ":", "1"};
    for (int round = 0; round < 200; round++) {
      SubscriptionIndex<Integer> idx = new SubscriptionIndex<>();
      Map<Integer, Set<String>[]> subs = new HashMap<>();
      for (int s = 0; s < 20; s++) {
        @SuppressWarnings("unchecked") Set<String>[] sets = new Set[] {new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashSet<>()};
        for (int i = 0; i < 3; i++) {
          String name = word(rnd, alphabet);
          int kind = rnd.nextInt(3);
          sets[kind].add(name);
          if (kind == 0) idx.addKey(name, s);
          else if (kind == 1) idx.addTag(name, s);
          else idx.addPrefix(name, s);
        }
        subs.put(s, sets);
      }
      List<String> keys = new ArrayList<>(), tags = new ArrayList<>(), prefixes = new ArrayList<>();
      for (int i = 0; i < 4; i++) keys.add(word(rnd, alphabet));
      tags.add(word(rnd, alphabet));
      prefixes.add(word(rnd, alphabet));
      Notice n = notice(keys, tags, prefixes);
      Map<Integer, Match> viaIndex = idx.match(n);
      for (Map.Entry<Integer, Set<String>[]> e : subs.entrySet()) {
        Match one = SubscriptionIndex.matchOne(n, e.getValue()[0], e.getValue()[1], e.getValue()[2]);
        Match fromIndex = viaIndex.get(e.getKey());
        if (SubscriptionIndex.isEmpty(one)) {
          assertThat(fromIndex).as("round %d subscriber %d", round, e.getKey()).isNull();
        } else {
          assertThat(fromIndex).as("round %d subscriber %d", round, e.getKey()).isNotNull();
          assertThat(fromIndex.keys).isEqualTo(one.keys);
          assertThat(fromIndex.tags).isEqualTo(one.tags);
          assertThat(fromIndex.prefixes).isEqualTo(one.prefixes);
        }
      }
    }
  }

  private static String word(Random rnd, String[] alphabet) {
    StringBuilder sb = new StringBuilder();
    int len = 1 + rnd.nextInt(4);
    for (int i = 0; i < len; i++) sb.append(alphabet[rnd.nextInt(alphabet.length)]);
    return sb.toString();
  }
}
