package io.cachegate.cache;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.MetaResult;
import io.cachegate.bus.Messages.PreviewResult;
import io.cachegate.model.Targets;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DryRunTest {

  /** Entries by key: their tags and dependents; tags' members; stored keys for prefixes. */
  record Store(Map<String, MetaResult> entries, Map<String, List<String>> tags) implements DryRun.Reads {
    @Override
    public Future<MetaResult> meta(String key) {
      return Future.succeededFuture(entries.get(key));
    }

    @Override
    public Future<List<String>> tag(String tag) {
      return Future.succeededFuture(tags.getOrDefault(tag, List.of()));
    }

    @Override
    public Future<List<String>> prefixed(List<String> prefixes) {
      return Future.succeededFuture(entries.keySet().stream().filter(k -> prefixes.stream().anyMatch(k::startsWith)).sorted().toList());
    }
  }

  static MetaResult entry(String key, List<String> tags, List<String> dependents) {
    return new MetaResult(key, "v1", 60, tags, List.of(), dependents);
  }

  static final Store STORE = new Store(Map.of(
      "p:1", entry("p:1", List.of("cat:1"), List.of("page:1")),
      "p:2", entry("p:2", List.of("cat:1", "sale"), List.of()),
      "page:1", entry("page:1", List.of(), List.of("p:1", "page:2")), // a cycle back to p:1
      "page:2", entry("page:2", List.of("pages"), List.of())),
      // a tag's zset can still name an entry that is gone: it is not listed
      Map.of("cat:1", List.of("p:1", "p:2", "p:gone")));

  static PreviewResult run(Targets t, boolean cascade, int maxCascade) {
    return DryRun.run(STORE, new Invalidation(t, cascade, false, Cause.api(null)), maxCascade).result();
  }

  @Test
  void aTagReachesItsLiveMembersTheirDependentsAndTheirTags() {
    PreviewResult r = run(new Targets(List.of(), List.of("cat:1"), List.of()), true, 100);
    assertThat(r.invalidated()).containsExactly("p:1", "p:2", "page:1", "page:2");
    assertThat(r.tags()).containsExactly("cat:1", "sale", "pages");
    assertThat(r.cascadeTruncated()).isFalse();
  }

  @Test
  void namedKeysAreListedEvenWhenMissingAndCascadeCanBeOffOrLimited() {
    PreviewResult r = run(new Targets(List.of("p:1", "nothing"), List.of(), List.of()), false, 100);
    assertThat(r.invalidated()).containsExactly("p:1", "nothing");
    assertThat(r.tags()).containsExactly("cat:1");
    PreviewResult limited = run(new Targets(List.of("p:1"), List.of(), List.of()), true, 1);
    assertThat(limited.invalidated()).containsExactly("p:1", "page:1");
    assertThat(limited.cascadeTruncated()).isTrue();
  }

  @Test
  void aPrefixReachesTheStoredKeysUnderIt() {
    PreviewResult r = run(new Targets(List.of(), List.of(), List.of("page:")), false, 100);
    assertThat(r.invalidated()).containsExactly("page:1", "page:2");
    assertThat(r.prefixes()).containsExactly("page:");
  }
}
