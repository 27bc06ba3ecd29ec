/**
 * Who may do what: JWTs, verified by {@link io.cachegate.auth.TokenVerifier} (Nimbus JOSE+JWT) against
 * the gateway's HS256 secret or the identity provider's public keys, the JWKS fetched by
 * {@link io.cachegate.auth.JwksVerticle}; the grants they carry ({@link io.cachegate.auth.StreamGrant});
 * and the per-caller limits shared by an instance's HTTP verticles (REST rate, sockets per address).
 * API keys for the control plane are in {@code api.ApiAuth}. Plain classes, tested without I/O, but
 * for the JWKS verticle.
 */
package io.cachegate.auth;
