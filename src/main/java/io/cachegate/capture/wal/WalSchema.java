package io.cachegate.capture.wal;

import io.cachegate.config.ConfigException;
import io.cachegate.config.GatewayConfig;
import io.cachegate.rules.InvalidationRule;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.cachegate.support.SqlText.ident;

/**
 * What {@code capture.mode: wal} needs from PostgreSQL, checked and put in place at start-up by every
 * instance, in an order that loses no change when switching from the outbox: the server settings and
 * the role's REPLICATION right (refused with the setting or grant to apply), each watched table's
 * replica identity, the publication of the watched tables, then the logical replication slot. Only
 * then does the caller remove the capture triggers: a change committed between the slot's creation and
 * the triggers' removal is captured twice (harmless), none is captured by neither.
 */
public final class WalSchema {

  private static final Logger log = LoggerFactory.getLogger(WalSchema.class);

  /** Rows here ask the leader to invalidate every watched table once: the slot was lost or replaced. */
  public static final String RESYNC_TABLE = "cachegate.wal_resync";

  /** The slot's standing: retained WAL and lag in bytes behind the server's current position, wal_status, active. */
  public static final String SLOT_STATUS = """
      SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained,
             pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag,
             wal_status, active, active_pid
      FROM pg_replication_slots WHERE slot_name = $1""";

  /** Watched tables ($1) missing from the publication ($2): dropped and re-created since start-up, say. */
  public static final String UNPUBLISHED = """
      SELECT r.rel FROM unnest($1::text[]) AS r(rel)
      WHERE to_regclass(r.rel) IS NULL OR NOT EXISTS (
        SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
        WHERE p.pubname = $2 AND pr.prrelid = to_regclass(r.rel))
      ORDER BY 1""";

  /** What the publication must publish: every operation, partitions as their root. */
  static final String OPTIONS = "publish = 'insert, update, delete, truncate', publish_via_partition_root = true";

  private WalSchema() {}

  /** The resync owed for {@code slot} was applied: its marker goes. */
  public static Future<Void> clearResync(Pool pool, String slot) {
    return pool.preparedQuery("DELETE FROM " + RESYNC_TABLE + " WHERE slot = $1").execute(Tuple.of(slot)).mapEmpty();
  }

  /**
   * Checks and installs; the watched tables as {@code schema.table} (pgoutput's spelling) mapped to
   * their names in {@code capture.tables}. Fails with a {@link ConfigException} naming the key and the fix.
   */
  public static Future<Map<String, String>> install(Pool pool, GatewayConfig.Capture capture) {
    Map<String, String> watched = new LinkedHashMap<>();
    return checkServer(pool)
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (Map.Entry<String, InvalidationRule> e : capture.tables().entrySet()) {
            chain = chain.compose(x -> table(pool, e.getKey(), e.getValue(), capture.walSetReplicaIdentity())
                .map(qualified -> {
                  watched.put(qualified, e.getKey());
                  return null;
                }));
          }
          return chain;
        })
        .compose(v -> publication(pool, capture.walPublication(), new ArrayList<>(capture.tables().keySet())))
        .compose(v -> slot(pool, capture.walSlot()))
        .map(v -> Map.copyOf(watched));
  }

  /** The resync marker table (in the cachegate schema, which the outbox installer creates). */
  public static Future<Void> installResyncTable(Pool pool) {
    return pool.query("CREATE TABLE IF NOT EXISTS " + RESYNC_TABLE
        + " (slot text PRIMARY KEY, reason text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())").execute().mapEmpty();
  }

  private static Future<Void> checkServer(Pool pool) {
    return pool.query("""
            SELECT current_setting('wal_level') AS wal_level, current_user AS who,
                   (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)
                   OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')
                       AND pg_has_role(current_user, 'rds_replication', 'member')) AS can_replicate,
                   current_setting('max_replication_slots')::int AS max_slots""").execute()
        .compose(rows -> {
          Row r = rows.iterator().next();
          String level = r.getString("wal_level");
          if (!"logical".equals(level)) {
            return Future.failedFuture(new ConfigException("capture.mode", "wal needs wal_level = logical, and this server has "
                + level + ": run ALTER SYSTEM SET wal_level = logical and restart PostgreSQL (managed services: "
                + "rds.logical_replication = 1 on RDS and Aurora, cloudsql.logical_decoding = on on Cloud SQL), "
                + "or use capture.mode: outbox"));
          }
          if (!Boolean.TRUE.equals(r.getBoolean("can_replicate"))) {
            String who = r.getString("who");
            return Future.failedFuture(new ConfigException("capture.mode", "wal needs a role that may replicate, and "
                + who + " may not: run ALTER ROLE " + ident(who) + " WITH REPLICATION (on RDS: GRANT rds_replication TO "
                + ident(who) + "), or use capture.mode: outbox"));
          }
          return Future.succeededFuture();
        });
  }

  /** Checks a watched table and its replica identity; its {@code schema.table}. */
  private static Future<String> table(Pool pool, String table, InvalidationRule rule, boolean setIdentity) {
    String key = "capture.tables." + table;
    return pool.preparedQuery("""
            SELECT c.oid::regclass::text AS rel, n.nspname AS ns, c.relname AS name, c.relreplident::text AS identity,
                   array(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS cols,
                   array(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                         AND attgenerated <> '') AS generated,
                   array(SELECT t.relid::regclass::text FROM pg_partition_tree(c.oid) t
                         JOIN pg_class p ON p.oid = t.relid WHERE t.relid <> c.oid AND p.relreplident <> 'f') AS partitions,
                   array(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                         WHERE i.indrelid = c.oid AND CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END) AS ident
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)""").execute(Tuple.of(table))
        .compose(rows -> {
          if (rows.size() == 0) return Future.failedFuture(new ConfigException(key, "table " + table + " does not exist"));
          Row r = rows.iterator().next();
          String rel = r.getString("rel");
          Set<String> cols = Set.of(r.getArrayOfStrings("cols"));
          Set<String> generated = Set.of(r.getArrayOfStrings("generated"));
          for (String f : rule.fields()) {
            if (!cols.contains(f)) return Future.failedFuture(new ConfigException(key, "the rule reads column " + f + ", which table " + table + " does not have"));
            if (generated.contains(f)) {
              return Future.failedFuture(new ConfigException(key, "the rule reads generated column " + f + " of table " + table
                  + ", which logical replication does not send: read the columns it is computed from, or use capture.mode: outbox"));
            }
          }
          String qualified = r.getString("ns") + "." + r.getString("name");
          String identity = r.getString("identity");
          Set<String> identityCols = "n".equals(identity) ? Set.of() : Set.of(r.getArrayOfStrings("ident"));
          Set<String> beyond = new TreeSet<>(rule.fields());
          beyond.removeAll(identityCols);
          // a published table without a replica identity makes its writers' UPDATEs and DELETEs fail
          // a partitioned table's identity is its partitions' (each logs its own rows): all of them need it
          List<String> partitions = List.of(r.getArrayOfStrings("partitions"));
          boolean needsFull = !(beyond.isEmpty() && !identityCols.isEmpty());
          if (!needsFull || ("f".equals(identity) && partitions.isEmpty())) return Future.succeededFuture(qualified);
          String why = identityCols.isEmpty()
              ? "it has no primary key or replica identity index, and a published table without one refuses UPDATE and DELETE"
              : "its rule reads " + String.join(", ", beyond) + " of the old row on UPDATE and DELETE, which is outside its replica identity " + identityCols;
          List<String> targets = new ArrayList<>();
          if (!"f".equals(identity)) targets.add(rel);
          targets.addAll(partitions);
          String statement = targets.stream().map(t -> "ALTER TABLE " + t + " REPLICA IDENTITY FULL").collect(java.util.stream.Collectors.joining("; "));
          if (!setIdentity) {
            return Future.failedFuture(new ConfigException("capture.wal.setReplicaIdentity", "table " + table + " needs REPLICA IDENTITY FULL"
                + (partitions.isEmpty() ? "" : " on its partitions") + ": " + why + "; run " + statement + ", or set capture.wal.setReplicaIdentity: true"));
          }
          log.info("setting REPLICA IDENTITY FULL on {}: {} (each UPDATE and DELETE then logs the whole old row)", targets, why);
          Future<Void> chain = Future.succeededFuture();
          for (String t : targets) chain = chain.compose(v -> pool.query("ALTER TABLE " + t + " REPLICA IDENTITY FULL").execute().mapEmpty());
          return chain.map(qualified);
        });
  }

  private static Future<Void> publication(Pool pool, String name, List<String> tables) {
    return pool.preparedQuery("""
            SELECT (SELECT count(*) FROM pg_publication WHERE pubname = $1) AS present,
                   array(SELECT pr.prrelid::regclass::text FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                         WHERE p.pubname = $1 ORDER BY 1) AS have,
                   array(SELECT to_regclass(t)::text FROM unnest($2::text[]) t ORDER BY 1) AS want,
                   (SELECT puballtables FROM pg_publication WHERE pubname = $1) AS alltables,
                   (SELECT pubinsert AND pubupdate AND pubdelete AND pubtruncate AND pubviaroot FROM pg_publication WHERE pubname = $1) AS complete,
                   (SELECT count(*) FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = $1
                      AND (to_jsonb(pr) ->> 'prqual' IS NOT NULL OR to_jsonb(pr) ->> 'prattrs' IS NOT NULL)) AS filtered""")
        .execute(Tuple.of(name).addArrayOfString(tables.toArray(new String[0])))
        .compose(rows -> {
          Row r = rows.iterator().next();
          List<String> want = List.of(r.getArrayOfStrings("want"));
          String list = String.join(", ", want);
          if (r.getLong("present") == 0) {
            log.info("creating publication {} for {}", name, want.isEmpty() ? "no table yet" : list);
            return pool.query("CREATE PUBLICATION " + ident(name) + (want.isEmpty() ? "" : " FOR TABLE " + list) + " WITH (" + OPTIONS + ")")
                .execute().mapEmpty();
          }
          // every operation, partitions under their root's name (the rule's table), no row filter or column list
          Future<Void> options = Boolean.TRUE.equals(r.getBoolean("complete")) ? Future.succeededFuture()
              : pool.query("ALTER PUBLICATION " + ident(name) + " SET (" + OPTIONS + ")").execute()
                  .onSuccess(v -> log.info("publication {} now publishes {}", name, OPTIONS)).mapEmpty();
          if (Boolean.TRUE.equals(r.getBoolean("alltables"))) return options; // publishes every table anyway
          List<String> have = List.of(r.getArrayOfStrings("have"));
          if (have.equals(want) && r.getLong("filtered") == 0) return options;
          log.info("publication {} had {}; it now publishes {}", name, have, want);
          // SET TABLE without a WHERE or a column list also drops any row filter or column list
          if (!want.isEmpty()) return options.compose(v -> pool.query("ALTER PUBLICATION " + ident(name) + " SET TABLE " + list).execute()).mapEmpty();
          return options.compose(v -> pool.query("ALTER PUBLICATION " + ident(name) + " DROP TABLE " + String.join(", ", have)).execute()).mapEmpty();
        });
  }

  private static Future<Void> slot(Pool pool, String slot) {
    return pool.preparedQuery("""
            SELECT s.plugin, d.datname = current_database() AS here, s.database
            FROM pg_replication_slots s LEFT JOIN pg_database d ON d.datname = s.database WHERE s.slot_name = $1""")
        .execute(Tuple.of(slot))
        .compose(rows -> {
          if (rows.size() == 1) {
            Row r = rows.iterator().next();
            if (!"pgoutput".equals(r.getString("plugin")) || !Boolean.TRUE.equals(r.getBoolean("here"))) {
              return Future.failedFuture(new ConfigException("capture.wal.slot", "replication slot " + slot + " already exists for "
                  + (r.getString("database") == null ? "physical replication" : "database " + r.getString("database"))
                  + " with plugin " + r.getString("plugin") + "; choose another capture.wal.slot"));
            }
            return Future.succeededFuture();
          }
          log.info("creating logical replication slot {} (pgoutput); it keeps WAL until the gateway confirms it", slot);
          return pool.preparedQuery("SELECT pg_create_logical_replication_slot($1, 'pgoutput')").execute(Tuple.of(slot))
              .<Void>mapEmpty()
              // another instance created it at the same moment
              .recover(err -> String.valueOf(err.getMessage()).contains("already exists") ? Future.succeededFuture() : Future.failedFuture(err));
        });
  }
}
