package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.capture.wal.PgOutput;
import io.cachegate.capture.wal.WalChanges;
import io.cachegate.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * After a switch from wal to outbox mode: the slot wal mode left may hold changes committed after the
 * last wal-mode leader stopped and before the triggers were installed. The outbox-mode leader reads
 * them (peeking, a page at a time), invalidates them, moves the slot past each page only once Redis
 * applied it, and drops the slot when it has caught up with the moment the triggers were in place. A
 * slot a gateway streams (a wal-mode instance still running) is left alone.
 *
 * <p>Runs on the capture's event loop; at most once per lead.
 */
final class LeftoverSlot {

  private static final Logger log = LoggerFactory.getLogger(LeftoverSlot.class);
  private static final int PAGE = 5000;

  private final Vertx vertx;
  private final GatewayConfig config;
  private final Pool pool;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private final String slot;

  LeftoverSlot(Vertx vertx, GatewayConfig config, Pool pool, ChangeMapper mapper, DeliveryOptions bus) {
    this.vertx = vertx;
    this.config = config;
    this.pool = pool;
    this.mapper = mapper;
    this.bus = bus;
    this.slot = config.capture().walSlot();
  }

  /**
   * Reads and applies what the slot holds up to now (the triggers were installed before this ran), then
   * drops it. Never fails: a failure is logged and the slot kept for the next lead.
   */
  Future<Void> drain() {
    return pool.preparedQuery("""
            SELECT s.active, pg_current_wal_lsn()::text AS upto, to_regclass('cachegate.outbox') IS NOT NULL AS ours,
                   (SELECT count(*) FROM pg_publication WHERE pubname = $2) AS pub
            FROM pg_replication_slots s WHERE s.slot_name = $1 AND s.plugin = 'pgoutput' AND s.database = current_database()""")
        .execute(Tuple.of(slot, config.capture().walPublication()))
        .compose(rows -> {
          if (rows.size() == 0) return Future.succeededFuture();
          Row r = rows.iterator().next();
          if (Boolean.TRUE.equals(r.getBoolean("active"))) {
            log.warn("replication slot {} is streamed by another instance (capture.mode wal): instances of one group must use one mode", slot);
            return Future.succeededFuture();
          }
          if (r.getLong("pub") == 0) {
            log.warn("replication slot {} has no publication {} to read it through; drop it with cachegate --drop-slot", slot,
                config.capture().walPublication());
            return Future.succeededFuture();
          }
          log.info("reading what replication slot {} (left by capture.mode wal) holds up to {}, then dropping it", slot, r.getString("upto"));
          WalChanges assembler = new WalChanges(watched(), config.capture().walMaxPending());
          return page(r.getString("upto"), assembler, 0)
              .compose(n -> pool.preparedQuery("SELECT pg_drop_replication_slot($1)").execute(Tuple.of(slot))
                  .onSuccess(v -> log.info("replication slot {} drained ({} changes invalidated) and dropped", slot, n)))
              .mapEmpty();
        })
        .<Void>mapEmpty()
        .otherwise(err -> {
          log.warn("replication slot {} not drained ({}); it is kept and tried again on the next lead", slot, err.getMessage());
          return null;
        });
  }

  /** schema.table of each watched table (the slot's relation names) mapped to its rule name. */
  private Map<String, String> watched() {
    Map<String, String> out = new java.util.HashMap<>();
    for (String t : config.capture().tables().keySet()) out.put(t.contains(".") ? t : "public." + t, t);
    return out;
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
            for (WalChanges.Change ch : t.changes()) {
              Invalidation inv = mapper.map(ch.table(), ch.op(), ch.oldRow(), ch.newRow());
              if (inv != null) invs.add(inv);
              changes++;
            }
          }
          if (end == 0) return Future.succeededFuture(done); // nothing more up to the triggers' installation
          long advanceTo = end;
          int total = done + changes;
          Future<?> applied = invs.isEmpty() ? Future.succeededFuture()
              : vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(invs), bus);
          return applied
              .compose(v -> pool.preparedQuery("SELECT pg_replication_slot_advance($1, $2::pg_lsn)")
                  .execute(Tuple.of(slot, org.postgresql.replication.LogSequenceNumber.valueOf(advanceTo).asString())))
              .compose(v -> page(upto, assembler, total));
        });
  }
}
