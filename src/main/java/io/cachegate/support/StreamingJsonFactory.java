package io.cachegate.support;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Vert.x's JSON codec for {@code JsonObject}, {@code JsonArray} and {@code Json}: Jackson's streaming
 * parser and generator. Vert.x would pick its databind codec because jackson-databind is on the class
 * path (for the YAML configuration), which runs every encode through an ObjectMapper and its
 * serializer lookups; that was a tenth of the CPU of a REST invalidation (docs/performance.md). Nothing
 * here maps POJOs through Vert.x's JSON types, which is all the databind codec adds. Registered in
 * META-INF/services; the lowest order wins.
 */
public final class StreamingJsonFactory implements JsonFactory {

  private static final JsonCodec CODEC = new JacksonCodec();

  @Override
  public int order() {
    return 0;
  }

  @Override
  public JsonCodec codec() {
    return CODEC;
  }
}
