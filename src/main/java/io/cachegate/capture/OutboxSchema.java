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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Installs the {@code cachegate} schema: the outbox table, the trigger function, and one trigger per
 * watched table. Idempotent and convergent: every object is compared with what the configuration
 * asks for and written only when it differs (a restart changes nothing; a changed rule replaces its
 * trigger; a table dropped from the configuration loses its trigger). Runs in one transaction under
 * an advisory lock, so instances starting together do not race.
 */
public final class OutboxSchema {

  public static final String TRIGGER = "cachegate_capture";
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

  /** The application_name of the session holding the leader lock in this database (null: nobody leads). */
  static final String LEADER = """
             (SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND ((l.classid::bigint << 32) | l.objid::bigint) = """ + LEADER_LOCK + """
               LIMIT 1) AS leader""";

  private OutboxSchema() {}

  static String functionBody(String wakeupChannel) {
    return """

        DECLARE
          cols text[] := TG_ARGV[1:TG_NARGS - 1];
          o jsonb;
          n jsonb;
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
            RETURN NULL;
          END IF;
          IF TG_OP <> 'INSERT' THEN
            SELECT jsonb_object_agg(key, value) INTO o FROM jsonb_each(to_jsonb(OLD)) WHERE key = ANY (cols);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            SELECT jsonb_object_agg(key, value) INTO n FROM jsonb_each(to_jsonb(NEW)) WHERE key = ANY (cols);
          END IF;
          INSERT INTO cachegate.outbox (tbl, op, old_row, new_row) VALUES (TG_ARGV[0], TG_OP, o, n);
          PERFORM pg_notify('%s', '');
          RETURN NULL;
        END
        """.formatted(wakeupChannel);
  }

  public static Future<Void> install(Pool pool, String wakeupChannel, Map<String, InvalidationRule> tables) {
    String body = functionBody(wakeupChannel);
    return pool.withTransaction(conn -> conn.query("SELECT pg_advisory_xact_lock(" + INSTALL_LOCK + ")").execute()
        .compose(v -> conn.query("CREATE SCHEMA IF NOT EXISTS cachegate").execute())
        .compose(v -> conn.query("""
            CREATE TABLE IF NOT EXISTS cachegate.outbox (
              id bigserial PRIMARY KEY,
              tbl text NOT NULL,
              op text NOT NULL,
              old_row jsonb,
              new_row jsonb,
              created_at timestamptz NOT NULL DEFAULT clock_timestamp())""").execute())
        .compose(v -> conn.preparedQuery("""
            SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'cachegate' AND p.proname = 'capture'""").execute())
        .compose(rows -> {
          if (rows.size() == 1 && body.equals(rows.iterator().next().getString(0))) return Future.succeededFuture();
          return conn.query("CREATE OR REPLACE FUNCTION cachegate.capture() RETURNS trigger LANGUAGE plpgsql AS $cg$"
              + body + "$cg$").execute().mapEmpty();
        })
        .compose(v -> installTriggers(conn, tables))
        .mapEmpty());
  }

  private static Future<Void> installTriggers(SqlConnection conn, Map<String, InvalidationRule> tables) {
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, InvalidationRule> e : tables.entrySet()) {
      chain = chain.compose(v -> installTrigger(conn, e.getKey(), e.getValue()));
    }
    return chain.compose(v -> conn.preparedQuery("""
            SELECT t.tgrelid::regclass::text AS rel, obj_description(t.oid, 'pg_trigger') AS note
            FROM pg_trigger t WHERE t.tgname = $1""").execute(Tuple.of(TRIGGER)))
        .compose(rows -> {
          Set<String> wanted = tables.keySet();
          Future<Void> drops = Future.succeededFuture();
          for (Row r : rows) {
            String note = r.getString("note");
            String ruleName = note != null && note.startsWith("cachegate rule ") ? note.split(" ")[2] : null;
            if (ruleName != null && !wanted.contains(ruleName)) {
              String rel = r.getString("rel");
              drops = drops.compose(v -> conn.query("DROP TRIGGER " + TRIGGER + " ON " + rel).execute().mapEmpty());
            }
          }
          return drops;
        });
  }

  private static Future<Void> installTrigger(SqlConnection conn, String table, InvalidationRule rule) {
    List<String> args = new ArrayList<>();
    args.add(table);
    args.addAll(rule.fields());
    String argList = String.join(", ", args.stream().map(OutboxSchema::literal).toList());
    String note = "cachegate rule " + table + " " + fingerprint(argList);
    return conn.preparedQuery("SELECT to_regclass($1)::text AS rel").execute(Tuple.of(table))
        .compose(rows -> {
          String rel = rows.iterator().next().getString("rel");
          if (rel == null) {
            return Future.failedFuture(new ConfigException("capture.tables." + table, "table " + table + " does not exist"));
          }
          return conn.preparedQuery("""
                  SELECT obj_description(t.oid, 'pg_trigger') AS note FROM pg_trigger t
                  WHERE t.tgname = $1 AND t.tgrelid = $2::regclass""").execute(Tuple.of(TRIGGER, rel))
              .compose(existing -> {
                if (existing.size() == 1 && note.equals(existing.iterator().next().getString("note"))) {
                  return Future.succeededFuture();
                }
                Future<?> drop = existing.size() == 0 ? Future.succeededFuture()
                    : conn.query("DROP TRIGGER " + TRIGGER + " ON " + rel).execute();
                return drop
                    .compose(v -> conn.query("CREATE TRIGGER " + TRIGGER + " AFTER INSERT OR UPDATE OR DELETE ON " + rel
                        + " FOR EACH ROW EXECUTE FUNCTION cachegate.capture(" + argList + ")").execute())
                    .compose(v -> conn.query("COMMENT ON TRIGGER " + TRIGGER + " ON " + rel + " IS " + literal(note)).execute())
                    .mapEmpty();
              });
        });
  }

  private static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
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
