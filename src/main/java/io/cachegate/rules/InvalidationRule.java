package io.cachegate.rules;

import io.cachegate.model.Targets;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Key, tag and prefix templates filled from one JSON object: the rule for a watched table
 * ({@code capture.tables}) or for an application event ({@code events}). Immutable.
 *
 * <p>{@code onTruncate} (tables only, else empty) is what a TRUNCATE of the table invalidates: no row
 * is there to fill the templates, so it names every entry any row could have named. By default it is
 * derived from the templates ({@link #truncateDefault}); a table's {@code onTruncate} replaces it.
 */
public record InvalidationRule(String name, List<Template> keys, List<Template> tags, List<Template> prefixes,
                               boolean soft, Targets onTruncate) {

  /** An event's rule: {@code {keys, tags, prefixes, mode}}; {@code where} names the config path for errors. */
  public static InvalidationRule parse(String name, JsonObject spec, String where) {
    return parse(name, spec, where, false);
  }

  /** A watched table's rule: as an event's, plus {@code onTruncate: {keys, tags, prefixes}} (constant names). */
  public static InvalidationRule parseTable(String name, JsonObject spec, String where) {
    return parse(name, spec, where, true);
  }

  private static InvalidationRule parse(String name, JsonObject spec, String where, boolean table) {
    if (spec == null) throw new IllegalArgumentException(where + " must be a mapping with keys, tags and/or prefixes");
    List<String> allowed = table ? List.of("keys", "tags", "prefixes", "mode", "onTruncate") : List.of("keys", "tags", "prefixes", "mode");
    for (String f : spec.fieldNames()) {
      if (!allowed.contains(f)) {
        throw new IllegalArgumentException(where + "." + f + " is unknown (allowed: " + String.join(", ", allowed) + ")");
      }
    }
    Object mode = spec.getValue("mode");
    if (mode != null && !"hard".equals(mode) && !"soft".equals(mode)) {
      throw new IllegalArgumentException(where + ".mode must be hard or soft");
    }
    List<Template> keys = templates(spec, "keys", where);
    List<Template> tags = templates(spec, "tags", where);
    List<Template> prefixes = templates(spec, "prefixes", where);
    if (keys.isEmpty() && tags.isEmpty() && prefixes.isEmpty()) {
      throw new IllegalArgumentException(where + " names no keys, tags or prefixes");
    }
    Targets onTruncate = Targets.EMPTY;
    if (table) {
      onTruncate = spec.getValue("onTruncate") != null
          ? constants(spec.getValue("onTruncate"), where + ".onTruncate")
          : truncateDefault(keys, tags, prefixes, where);
    }
    return new InvalidationRule(name, keys, tags, prefixes, "soft".equals(mode), onTruncate);
  }

  /**
   * What a TRUNCATE invalidates when the table does not say: for each key template, every key that
   * starts with its text before the first {@code {} (a prefix: {@code product:{id}} -> {@code product:});
   * for each tag template, the hierarchy parent every rendering of it is filed under: its text before
   * the first {@code {}, cut at its last {@code :} ({@code category:{category_id}} -> {@code category});
   * a template without placeholders as it is; a prefix template, like a key's. This may invalidate more
   * than the table's rows named, never less. A template with no such safe form (a key or prefix that
   * starts with a placeholder, a tag with no {@code :} before its first one) stops start-up here,
   * asking for {@code onTruncate}, rather than leave entries stale after a TRUNCATE.
   */
  static Targets truncateDefault(List<Template> keys, List<Template> tags, List<Template> prefixes, String where) {
    Set<String> k = new LinkedHashSet<>();
    Set<String> t = new LinkedHashSet<>();
    Set<String> p = new LinkedHashSet<>();
    for (Template key : keys) {
      if (key.fields().isEmpty()) k.add(key.toString());
      else p.add(safeLead(key, "key", where));
    }
    for (Template pre : prefixes) p.add(pre.fields().isEmpty() ? pre.toString() : safeLead(pre, "prefix", where));
    for (Template tag : tags) {
      if (tag.fields().isEmpty()) {
        t.add(tag.toString());
        continue;
      }
      String lead = tag.lead();
      int colon = lead.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("tag template '" + tag + "' has no hierarchy parent (no ':' before its first"
            + " placeholder), so a TRUNCATE of the table cannot be mapped to a tag; give " + where + ".onTruncate: {keys, tags, prefixes}");
      }
      t.add(lead.substring(0, colon));
    }
    return new Targets(List.copyOf(k), List.copyOf(t), List.copyOf(p));
  }

  private static String safeLead(Template template, String kind, String where) {
    String lead = template.lead();
    if (lead.isEmpty()) {
      throw new IllegalArgumentException(kind + " template '" + template + "' starts with a placeholder, so a TRUNCATE"
          + " of the table cannot be mapped to a prefix; give " + where + ".onTruncate: {keys, tags, prefixes}");
    }
    return lead;
  }

  /** {@code {keys, tags, prefixes}} of constant names (no placeholders: a TRUNCATE has no row). */
  private static Targets constants(Object spec, String where) {
    if (!(spec instanceof JsonObject o)) throw new IllegalArgumentException(where + " must be a mapping with keys, tags and/or prefixes");
    for (String f : o.fieldNames()) {
      if (!List.of("keys", "tags", "prefixes").contains(f)) {
        throw new IllegalArgumentException(where + "." + f + " is unknown (allowed: keys, tags, prefixes)");
      }
    }
    List<List<String>> lists = new ArrayList<>();
    for (String f : List.of("keys", "tags", "prefixes")) {
      List<String> names = new ArrayList<>();
      for (Template t : templates(o, f, where)) {
        if (!t.fields().isEmpty()) {
          throw new IllegalArgumentException(where + "." + f + ": '" + t + "' has a placeholder, but a TRUNCATE has no row to fill it");
        }
        names.add(t.toString());
      }
      lists.add(names);
    }
    return new Targets(lists.get(0), lists.get(1), lists.get(2));
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
