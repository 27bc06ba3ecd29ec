package io.cachegate.rules;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A name template such as {@code user:{id}:profile}: literal text with {@code {field}} placeholders
 * filled from a JSON object (a changed row, an event body, PUT params). Immutable and thread-safe.
 */
public final class Template {

  private final String source;
  private final List<String> literals = new ArrayList<>(); // literals.size() == fields.size() + 1
  private final List<String> fields = new ArrayList<>();

  private Template(String source) {
    this.source = source;
  }

  /** Parses a template; throws {@link IllegalArgumentException} with a reason when it is malformed. */
  public static Template parse(String source) {
    if (source == null || source.isEmpty()) throw new IllegalArgumentException("template is empty");
    Template t = new Template(source);
    StringBuilder lit = new StringBuilder();
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      if (c == '{') {
        int end = source.indexOf('}', i);
        if (end < 0) throw new IllegalArgumentException("unclosed '{' in template '" + source + "'");
        String field = source.substring(i + 1, end).trim();
        if (field.isEmpty() || field.contains("{")) {
          throw new IllegalArgumentException("empty or nested placeholder in template '" + source + "'");
        }
        t.literals.add(lit.toString());
        lit.setLength(0);
        t.fields.add(field);
        i = end + 1;
      } else if (c == '}') {
        throw new IllegalArgumentException("unmatched '}' in template '" + source + "'");
      } else {
        lit.append(c);
        i++;
      }
    }
    t.literals.add(lit.toString());
    return t;
  }

  /** The placeholder names, in order of appearance. */
  public List<String> fields() {
    return List.copyOf(fields);
  }

  /**
   * Fills the template. Returns {@code null} when a field is absent or JSON null in {@code values}
   * (there is no sensible name to produce); numbers are written without a trailing {@code .0}.
   */
  public String render(JsonObject values) {
    StringBuilder sb = new StringBuilder(literals.get(0));
    for (int i = 0; i < fields.size(); i++) {
      Object v = values == null ? null : values.getValue(fields.get(i));
      if (v == null) return null;
      sb.append(text(v)).append(literals.get(i + 1));
    }
    return sb.toString();
  }

  /** The literal text before the first placeholder (the whole template when it has none). */
  public String lead() {
    return literals.get(0);
  }

  /** The first field that {@code values} lacks, or null when all are present. */
  public String missingField(JsonObject values) {
    for (String f : fields) if (values == null || values.getValue(f) == null) return f;
    return null;
  }

  private static String text(Object v) {
    if (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) return Long.toString(d.longValue());
    if (v instanceof Float f && f == Math.rint(f) && !Float.isInfinite(f)) return Long.toString(f.longValue());
    return v.toString();
  }

  @Override
  public String toString() {
    return source;
  }
}
