package io.cachegate.rules;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Key, tag and prefix templates filled from one JSON object: the rule for a watched table
 * ({@code capture.tables}) or for an application event ({@code events}). Immutable.
 */
public record InvalidationRule(String name, List<Template> keys, List<Template> tags, List<Template> prefixes,
                               boolean soft) {

  /** Parses {@code {keys: [..], tags: [..], prefixes: [..]}}; {@code where} names the config path for errors. */
  public static InvalidationRule parse(String name, JsonObject spec, String where) {
    if (spec == null) throw new IllegalArgumentException(where + " must be a mapping with keys, tags and/or prefixes");
    for (String f : spec.fieldNames()) {
      if (!List.of("keys", "tags", "prefixes", "mode").contains(f)) {
        throw new IllegalArgumentException(where + "." + f + " is unknown (allowed: keys, tags, prefixes, mode)");
      }
    }
    Object mode = spec.getValue("mode");
    if (mode != null && !"hard".equals(mode) && !"soft".equals(mode)) {
      throw new IllegalArgumentException(where + ".mode must be hard or soft");
    }
    InvalidationRule r = new InvalidationRule(name,
        templates(spec, "keys", where), templates(spec, "tags", where), templates(spec, "prefixes", where),
        "soft".equals(mode));
    if (r.keys.isEmpty() && r.tags.isEmpty() && r.prefixes.isEmpty()) {
      throw new IllegalArgumentException(where + " names no keys, tags or prefixes");
    }
    return r;
  }

  /** The templates of a list field ({@code where.field}); throws naming the field when it is not a list of strings. */
  public static List<Template> templates(JsonObject spec, String field, String where) {
    Object v = spec.getValue(field);
    if (v == null) return List.of();
    if (!(v instanceof JsonArray arr)) throw new IllegalArgumentException(where + "." + field + " must be a list");
    List<Template> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String s)) throw new IllegalArgumentException(where + "." + field + " must hold strings");
      try {
        out.add(Template.parse(s));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "." + field + ": " + e.getMessage());
      }
    }
    return out;
  }

  /** Every column or field the templates read (the trigger copies only these from a row). */
  public Set<String> fields() {
    Set<String> out = new LinkedHashSet<>();
    for (List<Template> l : List.of(keys, tags, prefixes)) for (Template t : l) out.addAll(t.fields());
    return out;
  }

  /** Renders every template against {@code values}; a template whose field is missing is left out. */
  public Targets render(JsonObject values) {
    return new Targets(renderAll(keys, values), renderAll(tags, values), renderAll(prefixes, values));
  }

  /** The first field the templates need that {@code values} lacks, or null. */
  public String missingField(JsonObject values) {
    for (List<Template> l : List.of(keys, tags, prefixes)) {
      for (Template t : l) {
        String m = t.missingField(values);
        if (m != null) return m;
      }
    }
    return null;
  }

  private static List<String> renderAll(List<Template> ts, JsonObject values) {
    List<String> out = new ArrayList<>();
    for (Template t : ts) {
      String s = t.render(values);
      if (s != null && !out.contains(s)) out.add(s);
    }
    return out;
  }
}
