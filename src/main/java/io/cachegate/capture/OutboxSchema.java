package io.cachegate.capture;

import io.cachegate.config.ConfigException;
import io.cachegate.rules.InvalidationRule;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.cachegate.support.SqlText.ident;
import static io.cachegate.support.SqlText.literal;

/**
 * Installs the {@code cachegate} schema: the outbox table, the trigger function, and one trigger per
 * watched table. Idempotent and convergent: every object is compared with what the configuration
 * asks for and written only when it differs (a restart changes nothing; a changed rule replaces its
 * trigger; a table dropped from the configuration loses its trigger). Runs in one transaction under
 * an advisory lock, so instances starting together do not race.
 *
 * <p>Each watched table gets a row trigger and a TRUNCATE statement trigger, both {@code ENABLE
 * ALWAYS}: they fire under {@code session_replication_role = replica} too (pg_restore, bulk loaders,
 * logical-replication subscribers), where ordinary triggers stay silent. A trigger found disabled or
 * in the ordinary mode (an installation of an earlier version, or a hand-made change) is set back.
 */
public final class OutboxSchema {

  /** The row trigger (INSERT, UPDATE, DELETE) on each watched table. */
  public static final String TRIGGER = "cachegate_capture";
  /**
   * The trigger functions run as their owner (the gateway's role), with this search path pinned:
   * the application's roles write the watched tables without any grant on the {@code cachegate}
   * schema, and no caller's search_path can put its own functions or operators in the trigger's way.
   */
  static final String FUNCTION_SEARCH_PATH = "search_path=pg_catalog, pg_temp";

  /** The statement trigger (TRUNCATE) on each watched table. */
  public static final String TRUNCATE_TRIGGER = "cachegate_capture_truncate";
  /** Both capture triggers of a watched table. */
  private static final String[] TRIGGERS = {TRIGGER, TRUNCATE_TRIGGER};
  private static final long INSTALL_LOCK = 0x6361636865676174L; // "cachegat"

  static final String CLAIM = """
      DELETE FROM cachegate.outbox WHERE id IN (
        SELECT id FROM cachegate.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, tbl, op, old_row, new_row, created_at""";

  /** The session-level advisory lock that makes an instance the capture leader. */
  public static final long LEADER_LOCK = 0x63616368656C6561L; // "cachelea"

  /** Depth, age of the oldest row, and NOTIFY queue use; {@link #LEADER} may be appended after a comma. */
  static final String STATUS = """
      SELECT (SELECT count(*) FROM cachegate.outbox) AS depth,
             (SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)) * 1000, 0)::bigint
                FROM cachegate.outbox) AS oldest_ms,
             pg_notification_queue_usage() AS queue_usage""";

  /**
   * The application_name of the session holding the leader lock in this database (null: nobody leads).
   * One text block filled by {@code formatted}: gluing two blocks around the number once lost the
   * space after it ({@code ...561LIMIT 1}), which PostgreSQL 14 accepted and 15+ reject.
   */
  static final String LEADER = """
             (SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND ((l.classid::bigint << 32) | l.objid::bigint) = %d
               LIMIT 1) AS leader""".formatted(LEADER_LOCK);

  /**
   * The capture triggers of the given tables ({@code $1}) that are missing or do not fire always, as
   * rows {@code (rel, name)}: someone disabled one, or dropped and re-created a table (pg_restore, a
   * migration), after start-up installed them. Writes there are not captured until they are back.
   */
  static final String INACTIVE_TRIGGERS = """
      SELECT r.rel, t.name FROM unnest($1::text[]) AS r(rel), unnest($2::text[]) AS t(name)
      WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g
                        WHERE g.tgrelid = to_regclass(r.rel) AND g.tgname = t.name AND g.tgenabled = 'A')
      ORDER BY 1, 2""";

  /** The parameters of {@link #INACTIVE_TRIGGERS} for the watched tables. */
  static Tuple inactiveTriggersOf(Collection<String> tables) {
    return Tuple.tuple().addArrayOfString(tables.toArray(new String[0])).addArrayOfString(TRIGGERS);
  }

  private OutboxSchema() {}

  /** The function name for a watched table: {@code capture__users}, {@code capture__shop__orders}. */
  static String functionName(String table) {
    // PostgreSQL folds the unquoted name to lower case, and pg_proc is looked up by the folded name
    return "capture__" + table.toLowerCase(java.util.Locale.ROOT).replace(".", "__");
  }

  /**
   * A trigger function written for one table: it copies only the columns the rule reads (with
   * jsonb_build_object, much cheaper than filtering to_jsonb(row)), skips UPDATEs that change nothing,
   * and sends the NOTIFY wake-up only while the drainer says it is idle ({@code cachegate.wake}): a
   * busy drainer finds the row anyway, and every NOTIFY costs the committing transaction a cluster-wide
   * lock. If the wake row is missing (an unlogged table after a crash) it notifies. The same function
   * serves the TRUNCATE statement trigger: no row, so both row columns stay null.
   */
  static String functionBody(String table, Collection<String> columns, String wakeupChannel) {
    String fields = columns.stream().map(c -> literal(c) + ", %s." + ident(c)).collect(Collectors.joining(", "));
    String oldRow = columns.isEmpty() ? "'{}'::jsonb" : "jsonb_build_object(" + fields.replace("%s", "OLD") + ")";
    String newRow = columns.isEmpty() ? "'{}'::jsonb" : "jsonb_build_object(" + fields.replace("%s", "NEW") + ")";
    return """

        DECLARE
          o jsonb;
          n jsonb;
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
            RETURN NULL;
          END IF;
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            o := %s;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            n := %s;
          END IF;
          INSERT INTO cachegate.outbox (tbl, op, old_row, new_row) VALUES (%s, TG_OP, o, n);
          IF coalesce((SELECT idle FROM cachegate.wake), true) THEN
            PERFORM pg_notify(%s, '');
          END IF;
          RETURN NULL;
        END
        """.formatted(oldRow, newRow, literal(table), literal(wakeupChannel));
  }

  public static Future<Void> install(Pool pool, String wakeupChannel, Map<String, InvalidationRule> tables) {
    // READ COMMITTED whatever the database's default: each statement after the lock must see what an
    // instance that held the lock before committed (a repeatable-read snapshot taken before the wait would not)
    return pool.withTransaction(conn -> conn.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED").execute()
        .compose(v -> conn.query("SELECT pg_advisory_xact_lock(" + INSTALL_LOCK + ")").execute())
        .compose(v -> conn.query("CREATE SCHEMA IF NOT EXISTS cachegate").execute())
        .compose(v -> conn.query("""
            CREATE TABLE IF NOT EXISTS cachegate.outbox (
              id bigserial PRIMARY KEY,
              tbl text NOT NULL,
              op text NOT NULL,
              old_row jsonb,
              new_row jsonb,
              created_at timestamptz NOT NULL DEFAULT clock_timestamp())""").execute())
        .compose(v -> conn.query("""
            CREATE UNLOGGED TABLE IF NOT EXISTS cachegate.wake (
              one boolean PRIMARY KEY DEFAULT true CHECK (one),
              idle boolean NOT NULL)""").execute())
        .compose(v -> conn.query("INSERT INTO cachegate.wake VALUES (true, true) ON CONFLICT DO NOTHING").execute())
        // the capture mode the latest instance started with (ModeGuard)
        .compose(v -> conn.query("""
            CREATE TABLE IF NOT EXISTS cachegate.capture_mode (
              one boolean PRIMARY KEY DEFAULT true CHECK (one),
              mode text NOT NULL,
              instance text NOT NULL,
              at timestamptz NOT NULL DEFAULT clock_timestamp())""").execute())
        .compose(v -> installTriggers(conn, wakeupChannel, tables))
        .mapEmpty());
  }

  /** Tells the triggers whether to send the NOTIFY wake-up (idle) or not (a drain is running). */
  static String setIdle(boolean idle) {
    return "UPDATE cachegate.wake SET idle = " + idle + " WHERE idle IS DISTINCT FROM " + idle;
  }

  private static Future<Void> installTriggers(SqlConnection conn, String wakeupChannel, Map<String, InvalidationRule> tables) {
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, InvalidationRule> e : tables.entrySet()) {
      chain = chain.compose(v -> installTrigger(conn, e.getKey(), e.getValue(), wakeupChannel));
    }
    return chain.compose(v -> conn.preparedQuery("""
            SELECT t.tgrelid::regclass::text AS rel, t.tgname AS name, obj_description(t.oid, 'pg_trigger') AS note
            FROM pg_trigger t WHERE t.tgname = ANY($1)""").execute(Tuple.tuple().addArrayOfString(TRIGGERS)))
        .compose(rows -> {
          Set<String> wanted = tables.keySet();
          Future<Void> drops = Future.succeededFuture();
          for (Row r : rows) {
            String note = r.getString("note");
            String ruleName = note != null && note.startsWith("cachegate rule ") ? note.split(" ")[2] : null;
            if (ruleName != null && !wanted.contains(ruleName)) {
              String rel = r.getString("rel");
              String name = r.getString("name");
              drops = drops.compose(v -> conn.query("DROP TRIGGER " + name + " ON " + rel).execute().mapEmpty());
            }
          }
          return drops;
        });
  }

  private static Future<Void> installTrigger(SqlConnection conn, String table, InvalidationRule rule, String wakeupChannel) {
    if (functionName(table).length() > 63) {
      return Future.failedFuture(new ConfigException("capture.tables." + table, "table name too long for its trigger function"));
    }
    String fn = "cachegate." + functionName(table);
    String body = functionBody(table, rule.fields(), wakeupChannel);
    String note = "cachegate rule " + table + " " + fingerprint(body);
    return conn.preparedQuery("SELECT to_regclass($1)::text AS rel").execute(Tuple.of(table))
        .compose(rows -> {
          String rel = rows.iterator().next().getString("rel");
          if (rel == null) {
            return Future.failedFuture(new ConfigException("capture.tables." + table, "table " + table + " does not exist"));
          }
          return conn.preparedQuery("SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped")
              .execute(Tuple.of(rel))
              .compose(cols -> {
                Set<String> present = new java.util.HashSet<>();
                for (Row c : cols) present.add(c.getString(0));
                for (String f : rule.fields()) {
                  if (!present.contains(f)) {
                    return Future.failedFuture(new ConfigException("capture.tables." + table,
                        "the rule reads column " + f + ", which table " + table + " does not have"));
                  }
                }
                return conn.preparedQuery("""
                        SELECT p.prosrc, p.prosecdef AND p.proconfig = ARRAY[$2] AS definer
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'cachegate' AND p.proname = $1""").execute(Tuple.of(functionName(table), FUNCTION_SEARCH_PATH));
              })
              .compose(fns -> fns.size() == 1 && body.equals(fns.iterator().next().getString(0))
                  && Boolean.TRUE.equals(fns.iterator().next().getBoolean(1)) ? Future.succeededFuture()
                  : conn.query("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET "
                      + FUNCTION_SEARCH_PATH + " AS $cg$" + body + "$cg$")
                      .execute().mapEmpty())
              .compose(v -> converge(conn, rel, TRIGGER, "AFTER INSERT OR UPDATE OR DELETE ON " + rel + " FOR EACH ROW", fn, note))
              .compose(v -> converge(conn, rel, TRUNCATE_TRIGGER, "AFTER TRUNCATE ON " + rel + " FOR EACH STATEMENT", fn, note));
        });
  }

  /**
   * One trigger as wanted: created (or replaced) when missing or made for another rule, then set to
   * fire always (replica sessions included) when it is not already.
   */
  private static Future<Void> converge(SqlConnection conn, String rel, String trigger, String timing, String fn, String note) {
    return conn.preparedQuery("""
            SELECT obj_description(t.oid, 'pg_trigger') AS note, t.tgenabled::text AS enabled FROM pg_trigger t
            WHERE t.tgname = $1 AND t.tgrelid = $2::regclass""").execute(Tuple.of(trigger, rel))
        .compose(existing -> {
          boolean current = existing.size() == 1 && note.equals(existing.iterator().next().getString("note"));
          if (current && "A".equals(existing.iterator().next().getString("enabled"))) return Future.succeededFuture();
          Future<?> replaced = current ? Future.succeededFuture()
              : (existing.size() == 0 ? Future.succeededFuture() : conn.query("DROP TRIGGER " + trigger + " ON " + rel).execute())
                  .compose(v -> conn.query("CREATE TRIGGER " + trigger + " " + timing + " EXECUTE FUNCTION " + fn + "()").execute())
                  .compose(v -> conn.query("COMMENT ON TRIGGER " + trigger + " ON " + rel + " IS " + literal(note)).execute());
          return replaced.compose(v -> conn.query("ALTER TABLE " + rel + " ENABLE ALWAYS TRIGGER " + trigger).execute()).mapEmpty();
        });
  }

  private static String fingerprint(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
