/**
 * The vocabulary every room of the gateway shares, with no I/O and no dependency on any feature
 * package: what a valid name is ({@link io.cachegate.model.Names}: keys, tags, prefixes, the tag
 * hierarchy), what an invalidation asks for ({@link io.cachegate.model.Targets}), and how notice ids
 * are written and ordered ({@link io.cachegate.model.NoticeIds}). The bus contract, capture, api and
 * stream import these instead of reaching into the cache package.
 *
 * <p>Everything here is immutable or stateless, hence safe on any thread.
 */
package io.cachegate.model;
