package io.cachegate.stream;

import io.cachegate.bus.Messages.Notice;
import io.cachegate.model.Names;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The WebSocket frames of docs/stream.md: parsing what clients send (plain, no I/O) and writing
 * what the server sends. A frame that cannot be used raises {@link BadFrame} with the code and
 * sentence of the {@code error} frame to answer with.
 */
public final class Frames {

  private Frames() {}

  public sealed interface ClientFrame permits Subscribe, Unsubscribe, Ping {
    String id();
  }

  /** {@code all}: every notice, in full (an extension for dashboards and trusted services). */
  public record Subscribe(String id, List<String> keys, List<String> tags, List<String> prefixes, String since, boolean all)
      implements ClientFrame {
    public int size() {
      return keys.size() + tags.size() + prefixes.size();
    }
  }

  public record Unsubscribe(String id, List<String> keys, List<String> tags, List<String> prefixes, boolean all)
      implements ClientFrame {}

  public record Ping(String id) implements ClientFrame {}

  public static final class BadFrame extends Exception {
    public final String id;
    public final String code;

    public BadFrame(String id, String code, String message) {
      super(message, null, false, false);
      this.id = id;
      this.code = code;
    }
  }

  public static ClientFrame parse(String text) throws BadFrame {
    JsonObject o;
    try {
      o = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new BadFrame(null, "malformed", "a frame must be one JSON object");
    }
    Object rawId = o.getValue("id");
    if (rawId != null && !(rawId instanceof String)) throw new BadFrame(null, "malformed", "id must be a string");
    String id = (String) rawId;
    if (id != null && id.length() > 128) throw new BadFrame(null, "malformed", "id is longer than 128 characters");
    if (!(o.getValue("type") instanceof String type)) throw new BadFrame(id, "malformed", "type must be a string");
    switch (type) {
      case "ping":
        return new Ping(id);
      case "subscribe": {
        Object since = o.getValue("since");
        if (since != null && (!(since instanceof String str) || io.cachegate.model.NoticeIds.toStreamId(str) == null)) {
          throw new BadFrame(id, "bad_since", "since must be a notice id as sent in an invalidate frame or a subscribed position");
        }
        return new Subscribe(id, names(o, "keys", "key", id), names(o, "tags", "tag", id), names(o, "prefixes", "prefix", id),
            (String) since, all(o, id));
      }
      case "unsubscribe":
        return new Unsubscribe(id, names(o, "keys", "key", id), names(o, "tags", "tag", id), names(o, "prefixes", "prefix", id),
            all(o, id));
      default:
        throw new BadFrame(id, "unknown_type", "type must be subscribe, unsubscribe or ping");
    }
  }

  /** {@code all}: absent (false), true or false; anything else is a malformed frame. */
  private static boolean all(JsonObject o, String id) throws BadFrame {
    Object all = o.getValue("all");
    if (all != null && !(all instanceof Boolean)) throw new BadFrame(id, "malformed", "all must be true or false");
    return Boolean.TRUE.equals(all);
  }

  private static List<String> names(JsonObject o, String field, String kind, String id) throws BadFrame {
    Object v = o.getValue(field);
    if (v == null) return List.of();
    if (!(v instanceof JsonArray arr)) throw new BadFrame(id, "malformed", field + " must be a list of strings");
    // a set, not List.contains: a 64 KiB frame can hold ~16,000 short names (quadratic on the event loop)
    java.util.Set<String> out = new java.util.LinkedHashSet<>(arr.size() * 2);
    for (Object x : arr) {
      if (!(x instanceof String s)) throw new BadFrame(id, "malformed", field + " must be a list of strings");
      String problem = Names.problem(kind, s);
      if (problem != null) throw new BadFrame(id, "bad_name", problem);
      out.add(s);
    }
    return List.copyOf(out);
  }

  public static String subscribed(String id, String position, boolean recovered) {
    return withId(new JsonObject().put("type", "subscribed"), id).put("position", position).put("recovered", recovered).encode();
  }

  public static String unsubscribed(String id) {
    return withId(new JsonObject().put("type", "unsubscribed"), id).encode();
  }

  public static String pong(String id) {
    return withId(new JsonObject().put("type", "pong"), id).encode();
  }

  public static String error(String id, String code, String message) {
    return withId(new JsonObject().put("type", "error"), id).put("error", code).put("message", message).encode();
  }

  public static String reset(String reason) {
    return new JsonObject().put("type", "reset").put("reason", reason).encode();
  }

  /** An invalidate frame listing only what the client may see of the notice. */
  public static String invalidate(Notice n, Collection<String> keys, Collection<String> tags, Collection<String> prefixes) {
    return new JsonObject().put("type", "invalidate").put("id", n.id())
        .put("keys", new JsonArray(new ArrayList<>(keys)))
        .put("tags", new JsonArray(new ArrayList<>(tags)))
        .put("prefixes", new JsonArray(new ArrayList<>(prefixes)))
        .put("cause", n.cause().toJson())
        .put("at", n.at())
        .put("soft", n.soft())
        .encode();
  }

  private static JsonObject withId(JsonObject o, String id) {
    if (id != null) o.put("id", id);
    return o;
  }
}
