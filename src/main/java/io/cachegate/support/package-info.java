/** Small helpers without I/O (backoff). */
package io.cachegate.support;
