/**
 * The tests' own helpers, shared by the integration tests ({@code it}), the benchmark ({@code bench}),
 * the consistency checker ({@code check}) and the fuzzer ({@code fuzz}): the real servers of a test run
 * ({@link io.cachegate.testing.TestServices}: the leg's PostgreSQL and Redis, started once per JVM;
 * {@link io.cachegate.testing.RedisServerProcess}, {@link io.cachegate.testing.TestRedis},
 * {@link io.cachegate.testing.TestCerts}), a real gateway with real clients
 * ({@link io.cachegate.testing.TestGateway}, {@link io.cachegate.testing.TestSocket},
 * {@link io.cachegate.testing.GatewayProcess}, {@link io.cachegate.testing.Browser}), fault injection
 * ({@link io.cachegate.testing.TcpProxy}, {@link io.cachegate.testing.RawWebSocket}), bounded waits
 * ({@link io.cachegate.testing.Await}) and the OpenAPI check of every REST answer
 * ({@link io.cachegate.testing.OpenApiCheck}). Every process a helper starts is stopped by its pid.
 */
package io.cachegate.testing;
