/** Embedded PostgreSQL and Redis for the default mode and the tests, and the demo schema. */
package io.cachegate.embedded;
