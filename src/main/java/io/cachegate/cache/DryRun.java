package io.cachegate.cache;

import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.MetaResult;
import io.cachegate.bus.Messages.PreviewResult;
import io.cachegate.model.Targets;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What an invalidation would reach, found with reads only ({@code ?dryRun=true}): nothing is deleted,
 * no notice appended, no lease voided, and no tag or prefix invalidation recorded. It follows the same
 * rules as the invalidation ({@code Steps.invalidate}): the keys named are listed whether they exist or
 * not; a tag's and a prefix's members and the dependents a cascade reaches are listed when their entry
 * exists; the tags are those asked for and those the listed entries are filed under, as the notice
 * would name them; the cascade stops at {@code cache.maxCascade} dependents. What the Redis reads are is
 * given by {@link Reads}, so the walk is plain logic with plain tests.
 */
final class DryRun {

  /** The reads a dry run makes. */
  interface Reads {
    /** The entry's bookkeeping, or a null result when there is no such entry. */
    Future<MetaResult> meta(String key);

    /** The live members of a tag. */
    Future<List<String>> tag(String tag);

    /** The stored keys starting with any of {@code prefixes}. */
    Future<List<String>> prefixed(List<String> prefixes);
  }

  private final Reads reads;
  private final Invalidation inv;
  private final int maxCascade;
  private final Set<String> listed = new LinkedHashSet<>();
  private final Set<String> tags = new LinkedHashSet<>();
  private final Set<String> seen = new LinkedHashSet<>();
  private int cascaded;
  private boolean truncated;

  private DryRun(Reads reads, Invalidation inv, int maxCascade) {
    this.reads = reads;
    this.inv = inv;
    this.maxCascade = maxCascade;
  }

  static Future<PreviewResult> run(Reads reads, Invalidation inv, int maxCascade) {
    return new DryRun(reads, inv, maxCascade).run();
  }

  private Future<PreviewResult> run() {
    Targets t = inv.targets();
    listed.addAll(t.keys());
    tags.addAll(t.tags());
    List<Future<List<String>>> members = new ArrayList<>();
    for (String tag : t.tags()) members.add(reads.tag(tag));
    if (!t.prefixes().isEmpty()) members.add(reads.prefixed(t.prefixes()));
    return Future.all(members).compose(v -> {
      List<String> first = new ArrayList<>();
      for (String k : t.keys()) if (seen.add(k)) first.add(k);
      for (Future<List<String>> m : members) for (String k : m.result()) if (seen.add(k)) first.add(k);
      return round(first);
    }).map(v -> new PreviewResult(List.copyOf(listed), List.copyOf(tags), t.prefixes(), truncated));
  }

  private Future<Void> round(List<String> batch) {
    if (batch.isEmpty()) return Future.succeededFuture();
    List<Future<MetaResult>> metas = new ArrayList<>(batch.size());
    for (String k : batch) metas.add(reads.meta(k));
    return Future.all(metas).compose(v -> {
      List<String> next = new ArrayList<>();
      for (Future<MetaResult> f : metas) {
        MetaResult m = f.result();
        if (m == null) continue;
        listed.add(m.key());
        tags.addAll(m.tags());
        if (!inv.cascade()) continue;
        for (String dep : m.dependents()) {
          if (seen.contains(dep)) continue;
          if (cascaded >= maxCascade) {
            truncated = true;
            break;
          }
          cascaded++;
          seen.add(dep);
          next.add(dep);
        }
      }
      return round(next);
    });
  }
}
