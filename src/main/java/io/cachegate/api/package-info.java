/**
 * The HTTP boundary: REST control plane, WebSocket upgrade and dashboard on one port. Handlers check
 * auth ({@link io.cachegate.api.ApiAuth}), parse with {@link io.cachegate.api.Requests} (plain, every
 * field checked, nothing written on a refusal) and send bus commands; every refusal is a JSON error body
 * with a 4xx status and is counted in {@code cachegate_rejected_total}.
 */
package io.cachegate.api;
