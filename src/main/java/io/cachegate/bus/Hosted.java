package io.cachegate.bus;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * A verticle that an HTTP verticle starts on its own event loop and asks directly, with the same
 * requests and answers as over the bus ({@link Addresses}): a REST request then crosses neither the
 * bus nor a thread. Failures are {@link io.vertx.core.eventbus.ReplyException}s carrying the error's bus
 * code, as a bus reply's would be.
 */
public interface Hosted {

  /** Starts it on {@code context} (the host's). */
  Future<?> host(Vertx vertx, Context context);

  /** Whether it answers {@code address}. */
  boolean serves(String address);

  /** The request {@code body} to {@code address}, answered as the bus would answer it. */
  <R> Future<R> call(String address, Object body);

  /** Stops it, after the requests in flight (bounded). */
  Future<?> stop();
}
