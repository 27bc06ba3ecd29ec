package io.cachegate.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes an immutable record through the local event bus by reference. The gateway never clusters
 * its event bus (instances meet in Redis), so the wire methods refuse.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private final String name;

  private LocalCodec(Class<T> type) {
    this.name = "local:" + type.getName();
  }

  /** Registers a codec for every message record of {@link Messages} on this Vert.x instance. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static void registerAll(Vertx vertx) {
    for (Class<?> c : Messages.class.getDeclaredClasses()) {
      if (c.isRecord()) vertx.eventBus().registerDefaultCodec((Class) c, new LocalCodec(c));
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is local only");
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
