/** Small helpers without I/O: backoff, refused connections put in words (and passwords redacted), TLS refusals remembered. */
package io.cachegate.support;
