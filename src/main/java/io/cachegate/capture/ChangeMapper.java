package io.cachegate.capture;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.model.Names;
import io.cachegate.rules.InvalidationRule;
import io.cachegate.model.Targets;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns captured changes into invalidations by the {@code capture.tables} rules. Plain logic, no I/O.
 * INSERT reads the new row, DELETE the old one, UPDATE both (so a row moved between categories
 * invalidates both), TRUNCATE has no row and takes the rule's {@code onTruncate} targets. Names that a
 * row renders invalid (say, a value with a space) are dropped.
 */
public final class ChangeMapper {

  /** The op of a captured TRUNCATE (the trigger's TG_OP). */
  public static final String TRUNCATE = "TRUNCATE";

  private final Map<String, InvalidationRule> tables;

  public ChangeMapper(Map<String, InvalidationRule> tables) {
    this.tables = tables;
  }

  /** One outbox row; null when the table has no rule or the row renders no valid name. */
  public Invalidation map(String table, String op, JsonObject oldRow, JsonObject newRow) {
    InvalidationRule rule = tables.get(table);
    if (rule == null) return null;
    if (TRUNCATE.equals(op)) {
      Targets t = valid(rule.onTruncate());
      return t.isEmpty() ? null : new Invalidation(t, true, rule.soft(), Cause.db(table, op));
    }
    Targets t = Targets.EMPTY;
    if (oldRow != null) t = t.plus(rule.render(oldRow));
    if (newRow != null) t = t.plus(rule.render(newRow));
    t = valid(t);
    return t.isEmpty() ? null : new Invalidation(t, true, rule.soft(), Cause.db(table, op));
  }

  /** Row changes read from the WAL, in order; those that map to nothing are left out. */
  public List<Invalidation> map(List<io.cachegate.capture.wal.WalChanges.Change> changes) {
    List<Invalidation> out = new ArrayList<>(changes.size());
    for (io.cachegate.capture.wal.WalChanges.Change ch : changes) {
      Invalidation inv = map(ch.table(), ch.op(), ch.oldRow(), ch.newRow());
      if (inv != null) out.add(inv);
    }
    return out;
  }

  /**
   * Changes the capture never saw (its replication slot was lost): one invalidation of what a TRUNCATE
   * of every watched table would invalidate, with cause op {@link Cause#RESYNC} (every stream client is
   * told to reset).
   */
  public Invalidation resync(String reason) {
    Targets targets = Targets.EMPTY;
    for (String table : tables.keySet()) {
      Invalidation t = map(table, TRUNCATE, null, null);
      if (t != null) targets = targets.plus(t.targets());
    }
    return new Invalidation(targets, true, false, new Cause("db", null, Cause.RESYNC, null, reason));
  }

  /**
   * A payload on a foreign channel: {@code {"table":..,"operation":..,<columns>}} mapped by the
   * table's rule, or {@code {"keys":[..],"tags":[..],"prefixes":[..]}} taken as is.
   * Throws {@link IllegalArgumentException} saying why a payload is unusable.
   */
  public Invalidation mapForeign(String channel, String payload) {
    JsonObject o;
    try {
      o = new JsonObject(payload);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("payload is not a JSON object");
    }
    if (o.getValue("table") instanceof String table) {
      String op = o.getValue("operation") instanceof String s ? s.toUpperCase(java.util.Locale.ROOT) : "NOTIFY";
      if (!tables.containsKey(table)) throw new IllegalArgumentException("table '" + table + "' has no capture rule");
      Invalidation inv = map(table, op, null, o);
      if (inv == null) throw new IllegalArgumentException("payload for table '" + table + "' lacks the columns its rule needs");
      return inv;
    }
    Targets t = new Targets(strings(o, "keys"), strings(o, "tags"), strings(o, "prefixes"));
    Targets v = valid(t);
    if (v.isEmpty()) throw new IllegalArgumentException("payload names no table and no valid keys, tags or prefixes");
    return new Invalidation(v, true, false, new Cause("db", null, "NOTIFY", null, "channel " + channel));
  }

  private static List<String> strings(JsonObject o, String field) {
    Object v = o.getValue(field);
    if (v == null) return List.of();
    if (!(v instanceof JsonArray a)) throw new IllegalArgumentException(field + " must be a list");
    List<String> out = new ArrayList<>();
    for (Object x : a) {
      if (!(x instanceof String s)) throw new IllegalArgumentException(field + " must hold strings");
      out.add(s);
    }
    return out;
  }

  private static Targets valid(Targets t) {
    return new Targets(filter("key", t.keys()), filter("tag", t.tags()), filter("prefix", t.prefixes()));
  }

  private static List<String> filter(String kind, List<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) if (Names.problem(kind, n) == null) out.add(n);
    return out;
  }
}
