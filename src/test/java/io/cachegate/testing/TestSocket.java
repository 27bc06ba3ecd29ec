package io.cachegate.testing;

import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** A real WebSocket client whose received frames queue up for the test to take, with timeouts. */
public final class TestSocket implements AutoCloseable {

  private final WebSocket ws;
  private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  volatile Short closeCode;

  TestSocket(WebSocket ws) {
    this.ws = ws;
    ws.textMessageHandler(t -> frames.add(new JsonObject(t)));
    ws.closeHandler(v -> {
      closeCode = ws.closeStatusCode();
      frames.add(new JsonObject().put("type", "_closed").put("code", ws.closeStatusCode()));
    });
  }

  public void send(JsonObject frame) {
    Await.get(ws.writeTextMessage(frame.encode()));
  }

  public void sendText(String text) {
    Await.get(ws.writeTextMessage(text));
  }

  /** The next frame, failing the test after 10 s. */
  public JsonObject next() {
    try {
      JsonObject f = frames.poll(10, TimeUnit.SECONDS);
      if (f == null) fail("no frame within 10 s");
      return f;
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  public JsonObject next(String type) {
    JsonObject f = next();
    assertThat(f.getString("type")).as("frame %s", f).isEqualTo(type);
    return f;
  }

  /** Subscribes (without since) and returns the {@code subscribed} reply, which must come first. */
  public JsonObject subscribe(JsonObject request) {
    send(request.copy().put("type", "subscribe"));
    return next("subscribed");
  }

  public boolean isEmpty() {
    return frames.isEmpty();
  }

  @Override
  public void close() {
    if (!ws.isClosed()) Await.get(ws.close());
  }
}
