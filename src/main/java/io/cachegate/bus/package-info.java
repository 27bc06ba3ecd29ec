/**
 * The event-bus contract between the verticles: every address in {@link io.cachegate.bus.Addresses}
 * with its payload documented there, the immutable message records in {@link io.cachegate.bus.Messages},
 * and the failure codes the replies carry.
 *
 * <p>Concurrency: records are immutable and passed by reference ({@link io.cachegate.bus.LocalCodec});
 * the bus is local to one process, since gateway instances meet in Redis and PostgreSQL, not on a
 * clustered bus. Invariant: no address is written as a string literal outside {@code Addresses}.
 */
package io.cachegate.bus;
