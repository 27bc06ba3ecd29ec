/** cachegate's meters, in the same Prometheus registry as the Vert.x metrics. */
package io.cachegate.metrics;
