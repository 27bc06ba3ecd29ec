/**
 * The WebSocket stream of docs/stream.md. One {@link io.cachegate.stream.StreamHub} per HTTP
 * verticle instance owns its sockets and its {@link io.cachegate.stream.SubscriptionIndex}; everything
 * runs on that instance's event loop, so no state is shared or locked. Frame parsing and matching are
 * plain classes with plain tests.
 *
 * <p>Invariants: a client sees only the keys, tags and prefixes of a notice that match its
 * subscriptions; notices reach a client in id order, at most once per subscription state (a
 * {@code since} replay and the live flow are merged by id); a client that cannot keep up is sent
 * {@code reset} and closed with 1013 instead of being buffered without bound.
 */
package io.cachegate.stream;
