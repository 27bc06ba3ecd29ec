package io.cachegate.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.cachegate.model.NoticeIds;
import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Notice;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads entries of the {@code cg:notices} stream (written by drop.lua and notice.lua) into
 * {@link Notice}s. Every instance reads every notice, so the lists are parsed from the reply's bytes
 * straight into strings (no intermediate JSON tree and no string of the whole value).
 */
public final class StreamEntries {

  private static final JsonFactory JSON = new JsonFactory();

  private StreamEntries() {}

  /**
   * Reads the entries of one reply (or a tail's every reply) in order. Notices of one batch mostly
   * share their cause (a capture batch: one table and operation), so the last cause read is kept and
   * an identical one is not parsed again. One per reader: not thread-safe.
   */
  public static final class Reader {
    private byte[] lastCauseBytes;
    private Cause lastCause;

    /** {@code entry} is {@code [id, [field, value, ...]]} as XRANGE and XREAD return it. */
    public Notice toNotice(Response entry) {
      String id = entry.get(0).toString();
      Response fields = entry.get(1);
      List<String> keys = List.of(), tags = List.of(), prefixes = List.of();
      Cause cause = Cause.api(null);
      long at = 0;
      boolean soft = false;
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        Response v = fields.get(i + 1);
        switch (fields.get(i).toString()) {
          case "k" -> keys = strings(v);
          case "t" -> tags = strings(v);
          case "p" -> prefixes = strings(v);
          case "c" -> cause = cause(v);
          case "a" -> at = Long.parseLong(v.toString());
          case "s" -> soft = v.toString().equals("1");
          default -> { }
        }
      }
      return new Notice(NoticeIds.fromStreamId(id), keys, tags, prefixes, cause, at, soft);
    }

    private Cause cause(Response v) {
      byte[] bytes = v.toBytes();
      if (lastCause == null || !Arrays.equals(bytes, lastCauseBytes)) {
        lastCause = Cause.fromJson(new JsonObject(new String(bytes, StandardCharsets.UTF_8)));
        lastCauseBytes = bytes;
      }
      return lastCause;
    }
  }

  /** A JSON array of names, each element as text. */
  static List<String> strings(Response value) {
    byte[] bytes = value.toBytes();
    if (bytes.length == 2 && bytes[0] == '[' && bytes[1] == ']') return List.of();
    try (JsonParser p = JSON.createParser(bytes)) {
      if (p.nextToken() != JsonToken.START_ARRAY) throw new IllegalArgumentException("a notice list is not a JSON array");
      List<String> out = new ArrayList<>();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        if (t == null || t.isStructStart()) throw new IllegalArgumentException("a notice list holds something other than names");
        out.add(p.getText());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalArgumentException("a notice list is not valid JSON: " + e.getMessage(), e);
    }
  }
}
