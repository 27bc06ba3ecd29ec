/**
 * The Redis side. {@link io.cachegate.cache.CacheVerticle} is the only code that reads or writes
 * entries; each operation is one Lua script (under {@code src/main/resources/lua}), so an
 * invalidation with its tag and prefix expansion, cascade, lease voiding and notice append is atomic.
 * {@link io.cachegate.cache.NoticeTailVerticle} tails the notice stream {@code cg:notices} and
 * publishes it on the bus, on every instance.
 *
 * <p>Invariants: bookkeeping lives under {@code cg:} and expires with the data it indexes (tag and
 * dependency sets carry the TTL of their longest-lived member, expired members are trimmed on write,
 * the prefix index is swept); notice ids sort in stream order ({@link io.cachegate.model.NoticeIds}).
 * The scripts touch keys they compute, so the gateway needs a single Redis (or a primary with
 * replicas / Sentinel), not Redis Cluster.
 */
package io.cachegate.cache;
