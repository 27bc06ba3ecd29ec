package io.cachegate.capture;

import io.vertx.core.Future;

/**
 * A source of committed changes of the watched tables, run by the capture leader only.
 *
 * <p><b>Guarantee.</b> Every committed change the source holds (for the outbox: every row the capture
 * triggers wrote) is handed to the cache as an invalidation (on
 * {@link io.cachegate.bus.Addresses#CACHE_INVALIDATE}) at least once, and never skipped: a change is
 * acknowledged to PostgreSQL (for the outbox: its row deleted) only after Redis applied its
 * invalidation and the notice was appended to the stream. A change that could not be applied (Redis
 * down, a timeout, a lost connection) is not acknowledged, so it is handed over again later, possibly
 * by another instance. Repeats are harmless (a delete is idempotent).
 * A change that maps to nothing under the rules is acknowledged without an invalidation.
 *
 * <p>Two sources running at once (a leader that has not yet noticed losing the lead, and its
 * successor) keep this guarantee: each change is acknowledged by at most one of them, and only after
 * its invalidation.
 *
 * <p>Every method is called on the capture's event loop.
 */
interface ChangeSource {

  /** Starts handing over changes, those already waiting first; called when this instance gains the lead. */
  void start();

  /**
   * Stops taking changes; called when this instance loses the lead or stops. Completes when the work in
   * flight ended: acknowledged if Redis had applied it, otherwise left for the next leader. Never fails.
   */
  Future<Void> stop();

  /**
   * Whether Redis can be reached, as the cache announces it. While it cannot, no change is taken (they
   * wait in PostgreSQL); when it is back, waiting changes are handed over at once.
   */
  void redisAvailable(boolean up);
}
