package io.cachegate.cache;

import io.cachegate.model.NoticeIds;
import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.model.Targets;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;

import java.util.List;

/** Reads entries of the {@code cg:notices} stream (written by invalidate.lua) into {@link Notice}s. */
public final class StreamEntries {

  private StreamEntries() {}

  /** {@code entry} is {@code [id, [field, value, ...]]} as XRANGE and XREAD return it. */
  public static Notice toNotice(Response entry) {
    String id = entry.get(0).toString();
    Response fields = entry.get(1);
    List<String> keys = List.of(), tags = List.of(), prefixes = List.of();
    Cause cause = Cause.api(null);
    long at = 0;
    boolean soft = false;
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      String f = fields.get(i).toString();
      String v = fields.get(i + 1).toString();
      switch (f) {
        case "k" -> keys = Targets.strings(new JsonArray(v));
        case "t" -> tags = Targets.strings(new JsonArray(v));
        case "p" -> prefixes = Targets.strings(new JsonArray(v));
        case "c" -> cause = Cause.fromJson(new JsonObject(v));
        case "a" -> at = Long.parseLong(v);
        case "s" -> soft = v.equals("1");
        default -> { }
      }
    }
    return new Notice(NoticeIds.fromStreamId(id), keys, tags, prefixes, cause, at, soft);
  }
}
