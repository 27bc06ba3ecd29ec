package io.cachegate.cache;

import io.cachegate.config.GatewayConfig.Adaptive;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Adaptive TTL per data type. Reads and writes of each type are counted in two rolling windows
 * (this one and the last); a typed PUT without an explicit TTL then gets its strategy's TTL adjusted:
 * <ol>
 *   <li><b>write-heavy</b> (writes / reads at least {@code writeHeavyRatio}): capped at
 *       {@code writeHeavyMaxTtl}, since a value that changes often is soon stale anyway;</li>
 *   <li><b>hot</b> (at least {@code hotReadsPerMin} reads a minute): multiplied by {@code hotFactor},
 *       so the values read most stay longest;</li>
 *   <li><b>cold</b> (fewer than {@code coldReadsPerMin}, once the type was watched for a whole window):
 *       multiplied by {@code coldFactor}, so memory goes to data that is read;</li>
 * </ol>
 * always within [{@code minTtl}, the cache's {@code maxTtl}]. Counts are per instance (each instance
 * sees its own traffic). Shared by this instance's CacheVerticles (one per event loop), so its methods
 * are synchronized; each call is a few map operations.
 */
public final class AdaptiveTtl {

  /** The TTL chosen and the rule that chose it. */
  public record Decision(long ttlSeconds, String rule) {}

  private static final class Counts {
    long firstSeen;
    long windowStart;
    long reads;
    long writes;
    long prevReads;
    long prevWrites;
    Decision last;
  }

  private final Adaptive rules;
  private final long maxTtl;
  private final LongSupplier clock;
  private final Map<String, Counts> byType = new HashMap<>();

  public AdaptiveTtl(Adaptive rules, long maxTtl, LongSupplier clockMs) {
    this.rules = rules;
    this.maxTtl = maxTtl;
    this.clock = clockMs;
  }

  public synchronized void read(String type) {
    if (type != null && !type.isEmpty()) counts(type).reads++;
  }

  public synchronized void write(String type) {
    if (type != null && !type.isEmpty()) counts(type).writes++;
  }

  /** The TTL for a PUT of {@code type} whose strategy TTL is {@code base}. */
  public synchronized Decision decide(String type, long base) {
    if (!rules.enabled()) return new Decision(base, "disabled");
    Counts c = counts(type);
    double minutes = minutes(c);
    double readsPerMin = (c.reads + c.prevReads) / minutes;
    long writes = c.writes + c.prevWrites;
    long reads = c.reads + c.prevReads;
    Decision d;
    if (writes >= 3 && writes >= rules.writeHeavyRatio() * Math.max(1, reads)) {
      d = new Decision(Math.min(base, rules.writeHeavyMaxTtl()), "write-heavy");
    } else if (readsPerMin >= rules.hotReadsPerMin()) {
      d = new Decision((long) Math.min(maxTtl, base * rules.hotFactor()), "hot");
    } else if (readsPerMin < rules.coldReadsPerMin() && clock.getAsLong() - c.firstSeen >= rules.windowMs()) {
      d = new Decision((long) Math.max(rules.minTtl(), base * rules.coldFactor()), "cold");
    } else {
      d = new Decision(base, "base");
    }
    d = new Decision(Math.max(rules.minTtl(), Math.min(maxTtl, d.ttlSeconds())), d.rule());
    c.last = d;
    return d;
  }

  /** Every type seen: its reads and writes per minute and the last decision, for {@code /v1/stats}. */
  public synchronized JsonObject snapshot() {
    JsonObject types = new JsonObject();
    byType.forEach((type, c) -> {
      rotate(c);
      double minutes = minutes(c);
      JsonObject o = new JsonObject()
          .put("readsPerMin", Math.round((c.reads + c.prevReads) / minutes * 10) / 10.0)
          .put("writesPerMin", Math.round((c.writes + c.prevWrites) / minutes * 10) / 10.0);
      if (c.last != null) o.put("rule", c.last.rule()).put("ttl", c.last.ttlSeconds());
      types.put(type, o);
    });
    return new JsonObject()
        .put("enabled", rules.enabled())
        .put("rules", new JsonObject()
            .put("windowMs", rules.windowMs())
            .put("hotReadsPerMin", rules.hotReadsPerMin()).put("hotFactor", rules.hotFactor())
            .put("coldReadsPerMin", rules.coldReadsPerMin()).put("coldFactor", rules.coldFactor())
            .put("writeHeavyRatio", rules.writeHeavyRatio()).put("writeHeavyMaxTtl", rules.writeHeavyMaxTtl())
            .put("minTtl", rules.minTtl()))
        .put("types", types);
  }

  private Counts counts(String type) {
    Counts c = byType.computeIfAbsent(type, t -> {
      Counts n = new Counts();
      n.windowStart = clock.getAsLong();
      n.firstSeen = n.windowStart;
      return n;
    });
    rotate(c);
    return c;
  }

  private void rotate(Counts c) {
    long now = clock.getAsLong();
    long elapsed = now - c.windowStart;
    if (elapsed < rules.windowMs()) return;
    boolean skippedOne = elapsed >= 2 * rules.windowMs();
    c.prevReads = skippedOne ? 0 : c.reads;
    c.prevWrites = skippedOne ? 0 : c.writes;
    c.reads = 0;
    c.writes = 0;
    c.windowStart = now - (elapsed % rules.windowMs());
  }

  /** Minutes covered by the two windows: the whole last one (if any) and the current one so far. */
  private double minutes(Counts c) {
    long current = Math.max(1000, clock.getAsLong() - c.windowStart);
    long covered = current + (c.prevReads + c.prevWrites > 0 ? rules.windowMs() : 0);
    return covered / 60_000.0;
  }
}
