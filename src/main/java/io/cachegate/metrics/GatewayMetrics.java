package io.cachegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cachegate's own counters, registered in the same registry as the Vert.x metrics, so {@code /metrics}
 * shows both and {@code /v1/stats} reads the same numbers ({@link #counts()}). Thread-safe. The figures
 * that are state rather than events are owned by their components and registered from there
 * ({@code capture.CaptureStats}, {@code stream.StreamStats}).
 */
public final class GatewayMetrics {

  private final PrometheusMeterRegistry registry;
  private final Counter hits;
  private final Counter misses;
  private final Counter sets;
  private final Counter invalidatedKeys;
  private final Counter notices;
  private final Counter framesSent;
  private final Counter framesDropped;
  private final Counter clientsDropped;
  private final Counter historyTrims;
  private final Counter historyTrimmed;
  private final Counter captureRows;
  private final Counter badPayloads;
  private final Counter reconnects;
  private final io.micrometer.core.instrument.Timer captureLag;
  private final Map<String, Counter> invalidations = new ConcurrentHashMap<>();
  private final Map<String, Counter> rejections = new ConcurrentHashMap<>();
  private final Map<String, Counter> tokenRefusals = new ConcurrentHashMap<>();
  private final Map<String, Counter> jwksFetches = new ConcurrentHashMap<>();

  public GatewayMetrics() {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // registered here, once, off the hot paths; those that stay at zero until something goes wrong
    // (dropped frames and clients, bad payloads, reconnects) still show, so an alert can watch them
    hits = counter("cachegate.cache.hits", "GETs that found the entry");
    misses = counter("cachegate.cache.misses", "GETs that found nothing");
    sets = counter("cachegate.cache.sets", "entries written");
    invalidatedKeys = counter("cachegate.invalidated.keys", "keys named by invalidations");
    notices = counter("cachegate.notices", "notices read from cg:notices and streamed by this instance");
    framesSent = counter("cachegate.stream.frames.sent", "frames written to WebSocket clients");
    framesDropped = counter("cachegate.stream.frames.dropped", "frames not sent: the client was closed or too slow");
    clientsDropped = counter("cachegate.stream.clients.dropped", "clients closed because they could not keep up");
    historyTrims = counter("cachegate.history.trims", "trims of the notice history");
    historyTrimmed = counter("cachegate.history.trimmed", "notices removed from the history by trimming");
    captureRows = counter("cachegate.capture.rows", "outbox rows invalidated");
    badPayloads = counter("cachegate.capture.bad.payloads", "foreign NOTIFY payloads skipped");
    reconnects = counter("cachegate.capture.reconnects", "listener (re)connections");
    captureLag = io.micrometer.core.instrument.Timer.builder("cachegate.capture.lag")
        .description("from a change's commit to its notice in cg:notices")
        .publishPercentileHistogram()
        .register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public MeterRegistry meterRegistry() {
    return registry;
  }

  public void hit() {
    hits.increment();
  }

  public void miss() {
    misses.increment();
  }

  public void set() {
    sets.increment();
  }

  /** One invalidation (one notice) with its cause source: api, db or event. */
  public void invalidation(String source, int keys) {
    tagged(invalidations, "cachegate.invalidations", "invalidations, by cause", "cause", source).increment();
    invalidatedKeys.increment(keys);
  }

  public void noticesStreamed(int n) {
    notices.increment(n);
  }

  public void frameSent() {
    framesSent.increment();
  }

  public void slowClientDropped() {
    clientsDropped.increment();
  }

  /** Bad input refused with a 4xx or an error frame, by reason. */
  public void rejected(String reason) {
    tagged(rejections, "cachegate.rejected", "bad requests and frames, by reason", "reason", reason).increment();
  }

  /** One trim of the notice history, and how many notices it removed. */
  /** A JWT refused, by {@code TokenVerifier.Reason} code (the stream's handshake and REST bearer tokens). */
  public void tokenRefused(String reason) {
    tagged(tokenRefusals, "cachegate.tokens.refused", "JWTs refused, by reason", "reason", reason).increment();
  }

  /** A fetch of auth.jwt.jwksUrl: why it ran (start, refresh, unknown_kid) and whether it succeeded. */
  public void jwksFetch(String trigger, boolean ok) {
    String key = trigger + (ok ? "/ok" : "/failed");
    jwksFetches.computeIfAbsent(key, k -> Counter.builder("cachegate.jwks.fetches").description("fetches of the JWKS")
        .tag("trigger", trigger).tag("result", ok ? "ok" : "failed").register(registry)).increment();
  }

  public void historyTrimmed(long removed) {
    historyTrims.increment();
    historyTrimmed.increment(removed);
  }

  /** From a change's commit (its outbox row's created_at) to its notice being appended. */
  public void captureLag(long millis) {
    captureLag.record(java.time.Duration.ofMillis(Math.max(0, millis)));
  }

  public void frameDropped() {
    framesDropped.increment();
  }

  public void framesDropped(int n) {
    framesDropped.increment(n);
  }

  public void captureRows(int n) {
    captureRows.increment(n);
  }

  public void captureBadPayload() {
    badPayloads.increment();
  }

  public void captureReconnect() {
    reconnects.increment();
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  /** A counter with one tag, registered on first use and looked up in a local map after that. */
  private Counter tagged(Map<String, Counter> cache, String name, String description, String tag, String value) {
    return cache.computeIfAbsent(value, v -> Counter.builder(name).description(description).tag(tag, v).register(registry));
  }

  /**
   * The counters as /v1/stats and /health show them, read from the meters this class holds (never
   * looked up by name, so renaming a meter cannot silently zero a stats field).
   */
  public record Counts(long hits, long misses, long sets, long notices, long framesSent, long slowClientsDropped,
                       long captureRows, long badPayloads, long reconnects, long invalidations,
                       Map<String, Long> invalidationsByCause, Map<String, Long> rejectedByReason) {}

  public Counts counts() {
    return new Counts((long) hits.count(), (long) misses.count(), (long) sets.count(), (long) notices.count(),
        (long) framesSent.count(), (long) clientsDropped.count(), (long) captureRows.count(), (long) badPayloads.count(),
        (long) reconnects.count(), sum(invalidations), byTag(invalidations), byTag(rejections));
  }

  private static long sum(Map<String, Counter> tagged) {
    long n = 0;
    for (Counter c : tagged.values()) n += (long) c.count();
    return n;
  }

  private static Map<String, Long> byTag(Map<String, Counter> tagged) {
    Map<String, Long> out = new java.util.TreeMap<>();
    tagged.forEach((tag, c) -> out.put(tag, (long) c.count()));
    return out;
  }

  /** Sum of a counter (over all its tags), looked up by name: for tests and tools, not for stats. */
  public long count(String name) {
    return (long) Search.in(registry).name(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  public String scrape() {
    return registry.scrape();
  }
}
