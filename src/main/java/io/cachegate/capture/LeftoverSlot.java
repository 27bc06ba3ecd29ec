package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.capture.wal.PgOutput;
import io.cachegate.capture.wal.WalChanges;
import io.cachegate.capture.wal.WalSchema;
import io.cachegate.config.GatewayConfig;
import io.cachegate.support.Backoff;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * After a switch from wal to outbox mode: the slot wal mode left may hold changes committed after the
 * last wal-mode leader stopped and before the triggers were installed. The outbox-mode leader reads
 * them (peeking, a page at a time), invalidates them, moves the slot past each page only once Redis
 * applied it, and drops the slot when it has caught up with the moment the triggers were in place.
 * A slot PostgreSQL invalidated, or a resync still owed ({@code cachegate.wal_resync}), is met with
 * the resync (every watched table as a TRUNCATE, every client told to reset) before the slot goes.
 * A slot a gateway streams (a wal-mode instance still running) is left alone. A failure is retried
 * with backoff while this instance leads.
 *
 * <p>Runs on the capture's event loop. A page is decoded there; pages hold about 1,000 changes, but a
 * single transaction comes whole (PostgreSQL returns whole transactions).
 */
final class LeftoverSlot {

  private static final Logger log = LoggerFactory.getLogger(LeftoverSlot.class);
  private static final int PAGE = 1000;

  private final Vertx vertx;
  private final GatewayConfig config;
  private final Pool pool;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private final String slot;
  private final Backoff retry;
  private boolean running;
  private long retryTimer = -1;

  LeftoverSlot(Vertx vertx, GatewayConfig config, Pool pool, ChangeMapper mapper, DeliveryOptions bus) {
    this.vertx = vertx;
    this.config = config;
    this.pool = pool;
    this.mapper = mapper;
    this.bus = bus;
    this.slot = config.capture().walSlot();
    this.retry = new Backoff(Math.max(100, config.capture().reconnectMinDelayMs()), Math.max(1000, config.capture().reconnectMaxDelayMs()));
  }

  /** On gaining the lead (the triggers are in place by then). */
  void start() {
    running = true;
    retry.reset();
    drain();
  }

  void stop() {
    running = false;
    vertx.cancelTimer(retryTimer);
  }

  private void drain() {
    if (!running) return;
    pool.preparedQuery("""
            SELECT s.active, coalesce(s.wal_status, 'reserved') AS wal_status, pg_current_wal_lsn()::text AS upto,
                   (SELECT count(*) FROM pg_publication WHERE pubname = $2) AS pub,
                   to_regclass('%s') IS NOT NULL AS marker_table
            FROM pg_replication_slots s WHERE s.slot_name = $1 AND s.plugin = 'pgoutput' AND s.database = current_database()"""
            .formatted(WalSchema.RESYNC_TABLE))
        .execute(Tuple.of(slot, config.capture().walPublication()))
        .compose(rows -> {
          if (rows.size() == 0) return Future.succeededFuture();
          Row r = rows.iterator().next();
          if (Boolean.TRUE.equals(r.getBoolean("active"))) {
            log.warn("replication slot {} is streamed by another instance (capture.mode wal): instances of one group must use one mode", slot);
            return Future.succeededFuture();
          }
          String upto = r.getString("upto");
          return owedResync(r.getBoolean("marker_table"), "lost".equals(r.getString("wal_status")))
              .compose(reason -> {
                if (reason != null) return resync(reason);
                if (r.getLong("pub") == 0) {
                  return Future.failedFuture(new IllegalStateException("there is no publication " + config.capture().walPublication()
                      + " to read it through; drop it with cachegate --drop-slot"));
                }
                log.info("reading what replication slot {} (left by capture.mode wal) holds up to {}, then dropping it", slot, upto);
                return watched().compose(w -> page(upto, new WalChanges(w, config.capture().walMaxPending()), 0))
                    .map(n -> {
                      log.info("replication slot {}: {} changes read and invalidated", slot, n);
                      return (Void) null;
                    });
              })
              .compose(v -> pool.preparedQuery("SELECT pg_drop_replication_slot($1)").execute(Tuple.of(slot)))
              .onSuccess(v -> log.info("replication slot {} dropped", slot))
              .mapEmpty();
        })
        .onFailure(err -> {
          if (!running) return;
          long delay = retry.next();
          log.warn("replication slot {} not drained ({}); it is kept and tried again in {} ms", slot, err.getMessage(), delay);
          retryTimer = vertx.setTimer(delay, id -> drain());
        });
  }

  /** The reason a resync is owed (a marker, or the slot lost), or null. */
  private Future<String> owedResync(boolean markerTable, boolean lost) {
    if (lost) return Future.succeededFuture("replication slot " + slot + " was invalidated by PostgreSQL while unused (wal_status lost)");
    if (!markerTable) return Future.succeededFuture(null);
    return pool.preparedQuery("SELECT reason FROM " + WalSchema.RESYNC_TABLE + " WHERE slot = $1").execute(Tuple.of(slot))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString("reason"));
  }

  private Future<Void> resync(String reason) {
    log.error("INCIDENT: {}; invalidating every watched table, and every stream client is told to reset", reason);
    return vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(List.of(mapper.resync(reason))), bus)
        .compose(v -> WalSchema.clearResync(pool, slot)
            .recover(err -> Future.succeededFuture())) // no marker table: nothing to clear
        .mapEmpty();
  }

  /** schema.table of each watched table (pgoutput's relation names), resolved as the installer resolves them. */
  private Future<Map<String, String>> watched() {
    List<String> names = new ArrayList<>(config.capture().tables().keySet());
    return pool.preparedQuery("""
            SELECT t.name, n.nspname || '.' || c.relname AS qualified FROM unnest($1::text[]) AS t(name)
            JOIN pg_class c ON c.oid = to_regclass(t.name) JOIN pg_namespace n ON n.oid = c.relnamespace""")
        .execute(Tuple.tuple().addArrayOfString(names.toArray(new String[0])))
        .map(rows -> {
          Map<String, String> out = new HashMap<>();
          for (Row r : rows) out.put(r.getString("qualified"), r.getString("name"));
          return out;
        });
  }

  private Future<Integer> page(String upto, WalChanges assembler, int done) {
    return pool.preparedQuery("SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, $3, "
            + "'proto_version', '1', 'publication_names', $4)")
        .execute(Tuple.of(slot, upto, PAGE, config.capture().walPublication()))
        .compose(rows -> {
          List<Invalidation> invs = new ArrayList<>();
          long end = 0;
          int changes = 0;
          for (Row r : rows) {
            Buffer data = r.getBuffer("data");
            PgOutput.Message m = PgOutput.decode(ByteBuffer.wrap(data.getBytes()));
            WalChanges.Transaction t = assembler.accept(m);
            if (m instanceof PgOutput.Commit c) end = c.endLsn();
            if (t == null) continue;
            invs.addAll(mapper.map(t.changes()));
            changes += t.changes().size();
          }
          if (end == 0) return Future.succeededFuture(done); // nothing more up to the triggers' installation
          long advanceTo = end;
          int total = done + changes;
          Future<?> applied = invs.isEmpty() ? Future.succeededFuture()
              : vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(invs), bus);
          return applied
              .compose(v -> pool.preparedQuery("SELECT pg_replication_slot_advance($1, $2::pg_lsn)")
                  .execute(Tuple.of(slot, LogSequenceNumber.valueOf(advanceTo).asString())))
              .compose(v -> page(upto, assembler, total));
        });
  }
}
