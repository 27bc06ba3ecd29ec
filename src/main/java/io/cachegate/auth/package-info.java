/**
 * Who may do what: stream tokens (HS256 JWTs with a {@code cg} claim, {@link io.cachegate.auth.Jwt}),
 * the grants they carry ({@link io.cachegate.auth.StreamGrant}), and the per-caller limits shared by an
 * instance's HTTP verticles (REST rate, sockets per address). API keys for the control plane are in
 * {@code api.ApiAuth}. Plain classes, tested without I/O.
 */
package io.cachegate.auth;
