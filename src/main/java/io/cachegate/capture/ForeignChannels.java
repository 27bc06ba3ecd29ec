package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Invalidations that applications send themselves as NOTIFY payloads on {@code postgres.channels}
 * (heard by the leader's {@link NotifyListener}).
 *
 * <p><b>Guarantees.</b> Best effort only: NOTIFY is not durable, so a payload sent while no leader
 * listens is lost, and nothing is acknowledged to PostgreSQL. A payload that is heard is applied once,
 * after every payload heard before it (its notice keeps the order of the NOTIFYs). A payload that does
 * not parse, or that arrives while {@value #MAX_PENDING} payloads already wait for Redis, is dropped,
 * logged and counted as a bad payload; one that Redis could not apply is logged and not retried. Use
 * the outbox for guaranteed capture.
 *
 * <p>Owned by one event loop; not thread-safe.
 */
final class ForeignChannels {

  private static final Logger log = LoggerFactory.getLogger(ForeignChannels.class);
  /** The most payloads that may wait for Redis at once; memory stays bounded while Redis is slow or down. */
  static final int MAX_PENDING = 10_000;

  private final Vertx vertx;
  private final GatewayMetrics metrics;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private Future<Void> chain = Future.succeededFuture();
  private int pending;

  ForeignChannels(Vertx vertx, GatewayMetrics metrics, ChangeMapper mapper, DeliveryOptions bus) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.mapper = mapper;
    this.bus = bus;
  }

  /** A payload heard on {@code channel}: applied after the ones heard before it, or dropped (see above). */
  void accept(String channel, String payload) {
    Invalidation inv;
    try {
      inv = mapper.mapForeign(channel, payload);
    } catch (IllegalArgumentException e) {
      metrics.captureBadPayload();
      log.warn("skipped a payload on channel {}: {} ({} bytes)", channel, e.getMessage(), payload.length());
      return;
    }
    if (pending >= MAX_PENDING) {
      metrics.captureBadPayload();
      log.error("dropped a payload on channel {}: {} payloads already wait for Redis", channel, pending);
      return;
    }
    // applied one after another, so notices keep the order of the NOTIFYs (the cache verticles run in parallel)
    pending++;
    chain = chain.transform(prev -> vertx.eventBus().request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(List.of(inv)), bus)
        .onComplete(ar -> pending--)
        .onFailure(err -> log.error("a payload on channel {} could not be applied (NOTIFY is not durable; "
            + "use the outbox for guaranteed capture): {}", channel, err.getMessage()))
        .<Void>mapEmpty());
  }
}
