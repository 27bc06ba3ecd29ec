/**
 * Configuration: {@link io.cachegate.config.ConfigKeys} declares every key once (path, type, default,
 * range, a one-line doc with its unit), which drives defaults, {@code CACHEGATE_*} environment
 * overrides, each value's check and unknown-key detection, and says how to add a key;
 * {@link io.cachegate.config.GatewayConfig} is the validated, immutable result, read with
 * {@code config.get(KEY)} or through its sections. Order, later wins: defaults, the YAML file, the
 * environment. Every error names its key.
 */
package io.cachegate.config;
