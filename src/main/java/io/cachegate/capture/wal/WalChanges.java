package io.cachegate.capture.wal;

import io.cachegate.capture.wal.PgOutput.Begin;
import io.cachegate.capture.wal.PgOutput.Column;
import io.cachegate.capture.wal.PgOutput.Commit;
import io.cachegate.capture.wal.PgOutput.Delete;
import io.cachegate.capture.wal.PgOutput.Insert;
import io.cachegate.capture.wal.PgOutput.Message;
import io.cachegate.capture.wal.PgOutput.Relation;
import io.cachegate.capture.wal.PgOutput.Truncate;
import io.cachegate.capture.wal.PgOutput.Tuple;
import io.cachegate.capture.wal.PgOutput.Update;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assembles decoded pgoutput messages into committed transactions of row changes of the watched
 * tables. Plain logic, no I/O; owned by the replication reader thread.
 *
 * <p>Rows become {@link JsonObject}s shaped as the outbox trigger's {@code jsonb_build_object} shapes
 * them, so a rule renders the same names in both capture modes: integers as numbers, {@code numeric}
 * and floating point as numbers, booleans as {@code true}/{@code false}, timestamps in JSON's
 * ISO 8601 form, {@code json}/{@code jsonb} as JSON; every other type as its text. A column whose value
 * is an unchanged TOASTed placeholder is taken from the old row when the old row has it, and is
 * otherwise left out: a rule never reads a placeholder as a value.
 *
 * <p>Memory is bounded: a transaction that changes more than {@code maxRowsPerTable} rows of one
 * table keeps no rows of that table and is invalidated as a TRUNCATE of it would be (what a bulk load,
 * a mass UPDATE or a pg_restore does to a table is best met that way).
 */
public final class WalChanges {

  /** One change of a watched table; op INSERT, UPDATE, DELETE or TRUNCATE (no rows). */
  public record Change(String table, String op, JsonObject oldRow, JsonObject newRow) {}

  /** A committed transaction's changes to watched tables; {@code endLsn} is what to confirm once applied. */
  public record Transaction(long endLsn, long commitMicros, List<Change> changes) {}

  private final Map<String, String> watched;
  private final int maxRowsPerTable;
  private final Map<Integer, Relation> relations = new HashMap<>();
  /** Each relation's name in capture.tables, or "" when it is not watched (looked up once per Relation message). */
  private final Map<Integer, String> tables = new HashMap<>();
  private boolean inTransaction;
  private final List<Change> changes = new ArrayList<>();
  private final Map<String, Integer> rowsPerTable = new HashMap<>();
  private final Set<String> collapsed = new LinkedHashSet<>();

  /**
   * {@code watched}: for each watched table, its {@code schema.table} (as {@link Relation#qualifiedName()})
   * mapped to its name in {@code capture.tables}.
   */
  public WalChanges(Map<String, String> watched, int maxRowsPerTable) {
    this.watched = Map.copyOf(watched);
    this.maxRowsPerTable = maxRowsPerTable;
  }

  /** Whether a transaction has begun and not yet committed (its changes are not confirmable). */
  public boolean inTransaction() {
    return inTransaction;
  }

  /** Takes one message; a {@link Transaction} when it was the commit of one that changed watched tables. */
  public Transaction accept(Message m) {
    if (m instanceof Begin) {
      inTransaction = true;
      clear();
    } else if (m instanceof Relation r) {
      relations.put(r.id(), r);
      tables.put(r.id(), watched.getOrDefault(r.qualifiedName(), ""));
    } else if (m instanceof Insert i) {
      row(i.relationId(), "INSERT", null, i.row());
    } else if (m instanceof Update u) {
      row(u.relationId(), "UPDATE", u.old(), u.row());
    } else if (m instanceof Delete d) {
      row(d.relationId(), "DELETE", d.old(), null);
    } else if (m instanceof Truncate t) {
      for (int id : t.relationIds()) {
        String table = table(id);
        if (table != null) collapsed.add(table);
      }
    } else if (m instanceof Commit c) {
      inTransaction = false;
      List<Change> out = new ArrayList<>(changes.size() + collapsed.size());
      for (Change ch : changes) if (!collapsed.contains(ch.table())) out.add(ch);
      for (String table : collapsed) out.add(new Change(table, "TRUNCATE", null, null));
      clear();
      return out.isEmpty() ? null : new Transaction(c.endLsn(), c.commitMicros(), List.copyOf(out));
    }
    return null;
  }

  private void clear() {
    changes.clear();
    rowsPerTable.clear();
    collapsed.clear();
  }

  private String table(int relationId) {
    String t = tables.get(relationId);
    if (t == null) throw new IllegalStateException("a change of relation " + relationId + " came before its Relation message");
    return t.isEmpty() ? null : t;
  }

  private void row(int relationId, String op, Tuple old, Tuple neu) {
    String table = table(relationId);
    if (table == null || collapsed.contains(table)) return;
    int n = rowsPerTable.merge(table, 1, Integer::sum);
    if (n > maxRowsPerTable) {
      collapsed.add(table);
      changes.removeIf(c -> c.table().equals(table));
      return;
    }
    Relation r = relations.get(relationId);
    JsonObject o = old == null ? null : json(r, old, null);
    JsonObject nw = neu == null ? null : json(r, neu, o);
    changes.add(new Change(table, op, o, nw));
  }

  private static JsonObject json(Relation r, Tuple t, JsonObject fallback) {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Column> cols = r.columns();
    String[] v = t.values();
    for (int i = 0; i < cols.size() && i < v.length; i++) {
      String name = cols.get(i).name();
      if (v[i] == PgOutput.UNCHANGED) {
        if (fallback != null && fallback.containsKey(name)) m.put(name, fallback.getValue(name));
        continue;
      }
      m.put(name, v[i] == null ? null : value(cols.get(i).typeOid(), v[i]));
    }
    return new JsonObject(m);
  }

  /** A column's text as the JSON value {@code to_jsonb} gives it (see the class comment). */
  static Object value(int typeOid, String text) {
    switch (typeOid) {
      case 16: // bool
        return "t".equals(text);
      case 20: case 21: case 23: case 26: // int8, int2, int4, oid
        try {
          return Long.parseLong(text);
        } catch (NumberFormatException e) {
          return text;
        }
      case 1700: // numeric: an integer as an integer (of any size), as JSON decoding gives it
        if (text.matches("-?\\d+")) {
          try {
            return Long.parseLong(text);
          } catch (NumberFormatException e) {
            return new java.math.BigInteger(text);
          }
        }
        // fall through: a fraction as a double, as JSON decoding gives it
      case 700: case 701: // float4, float8
        try {
          double d = Double.parseDouble(text);
          return Double.isFinite(d) ? d : text; // NaN and Infinity are strings in JSON
        } catch (NumberFormatException e) {
          return text;
        }
      case 1114: // timestamp
        return text.replaceFirst(" ", "T");
      case 1184: // timestamptz: "2026-12-01 10:00:00.5+00" as "2026-12-01T10:00:00.5+00:00"
        String s = text.replaceFirst(" ", "T");
        return s.matches(".*[+-]\\d\\d$") ? s + ":00" : s;
      case 114: case 3802: // json, jsonb
        try {
          return Json.decodeValue(text);
        } catch (DecodeException e) {
          return text;
        }
      default:
        return text;
    }
  }
}
