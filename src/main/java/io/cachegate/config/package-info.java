/**
 * Configuration: {@link io.cachegate.config.ConfigKeys} lists every key once (path, type, default),
 * which drives defaults, {@code CACHEGATE_*} environment overrides and unknown-key detection;
 * {@link io.cachegate.config.GatewayConfig} is the validated, immutable result. Order, later wins:
 * defaults, the YAML file, the environment. Every error names its key.
 */
package io.cachegate.config;
