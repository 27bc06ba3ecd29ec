package io.cachegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicLong;

/**
 * cachegate's own meters, registered in the same registry as the Vert.x metrics, so {@code /metrics}
 * shows both and {@code /v1/stats} reads the same numbers. Counters are thread-safe; gauges read
 * {@link AtomicLong}s that each have exactly one writer (the verticle that owns the state).
 */
public final class GatewayMetrics {

  private final PrometheusMeterRegistry registry;
  public final AtomicLong streamClients = new AtomicLong();
  public final AtomicLong streamSubscriptions = new AtomicLong();
  public final AtomicLong outboxDepth = new AtomicLong(-1);
  public final AtomicLong outboxOldestMs = new AtomicLong(-1);
  /** pg_notification_queue_usage() in millionths. */
  public final AtomicLong notifyQueuePpm = new AtomicLong(-1);
  public final AtomicLong leader = new AtomicLong();

  public GatewayMetrics() {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Gauge.builder("cachegate.stream.clients", streamClients, AtomicLong::get)
        .description("WebSocket clients connected to this instance").register(registry);
    Gauge.builder("cachegate.stream.subscriptions", streamSubscriptions, AtomicLong::get)
        .description("names subscribed by this instance's clients").register(registry);
    Gauge.builder("cachegate_capture_outbox_depth", outboxDepth, AtomicLong::get)
        .description("rows waiting in cachegate.outbox (measured by the leader; -1 on followers)").register(registry);
    Gauge.builder("cachegate_capture_oldest_pending_seconds", outboxOldestMs, v -> v.get() < 0 ? -1 : v.get() / 1000.0)
        .description("age of the oldest change still in the outbox (measured by the leader; -1 on followers)").register(registry);
    Gauge.builder("cachegate_capture_notify_queue_usage", notifyQueuePpm, v -> v.get() < 0 ? -1 : v.get() / 1e6)
        .description("pg_notification_queue_usage(), 0 to 1").register(registry);
    Gauge.builder("cachegate_capture_leader", leader, AtomicLong::get)
        .description("1 when this instance leads the capture").register(registry);
    // counters that are zero until something goes wrong still show, so an alert can watch them
    counter("cachegate.stream.frames.dropped", "frames not sent: the client was closed or too slow");
    counter("cachegate.stream.clients.dropped", "clients closed because they could not keep up");
    counter("cachegate.capture.bad.payloads", "foreign NOTIFY payloads skipped");
    counter("cachegate.capture.reconnects", "listener (re)connections");
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public MeterRegistry meterRegistry() {
    return registry;
  }

  public void hit() {
    counter("cachegate.cache.hits", "GETs that found the entry").increment();
  }

  public void miss() {
    counter("cachegate.cache.misses", "GETs that found nothing").increment();
  }

  public void set() {
    counter("cachegate.cache.sets", "entries written").increment();
  }

  /** One invalidation (one notice) with its cause source: api, db or event. */
  public void invalidation(String source, int keys) {
    Counter.builder("cachegate.invalidations").description("invalidations, by cause")
        .tag("cause", source).register(registry).increment();
    counter("cachegate.invalidated.keys", "keys named by invalidations").increment(keys);
  }

  public void noticeStreamed() {
    counter("cachegate.notices", "notices read from cg:notices and streamed by this instance").increment();
  }

  public void frameSent() {
    counter("cachegate.stream.frames.sent", "frames written to WebSocket clients").increment();
  }

  public void slowClientDropped() {
    counter("cachegate.stream.clients.dropped", "clients closed because they could not keep up").increment();
  }

  /** Bad input refused with a 4xx or an error frame, by reason. */
  public void rejected(String reason) {
    Counter.builder("cachegate.rejected").description("bad requests and frames, by reason")
        .tag("reason", reason).register(registry).increment();
  }

  /** One trim of the notice history, and how many notices it removed. */
  public void historyTrimmed(long removed) {
    counter("cachegate.history.trims", "trims of the notice history").increment();
    counter("cachegate.history.trimmed", "notices removed from the history by trimming").increment(removed);
  }

  /** From a change's commit (its outbox row's created_at) to its notice being appended. */
  public void captureLag(long millis) {
    io.micrometer.core.instrument.Timer.builder("cachegate.capture.lag")
        .description("from a change's commit to its notice in cg:notices")
        .publishPercentileHistogram()
        .register(registry).record(java.time.Duration.ofMillis(Math.max(0, millis)));
  }

  public void frameDropped() {
    counter("cachegate.stream.frames.dropped", "frames not sent: the client was closed or too slow").increment();
  }

  public void captureRows(int n) {
    counter("cachegate.capture.rows", "outbox rows invalidated").increment(n);
  }

  public void captureBadPayload() {
    counter("cachegate.capture.bad.payloads", "foreign NOTIFY payloads skipped").increment();
  }

  public void captureReconnect() {
    counter("cachegate.capture.reconnects", "listener (re)connections").increment();
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  /** Sum of a counter (over all its tags); 0 when it was never incremented. */
  public long count(String name) {
    return (long) Search.in(registry).name(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  public JsonObject countsByTag(String name, String tag) {
    JsonObject out = new JsonObject();
    for (Counter c : Search.in(registry).name(name).counters()) {
      out.put(c.getId().getTag(tag), (long) c.count());
    }
    return out;
  }

  public String scrape() {
    return registry.scrape();
  }
}
