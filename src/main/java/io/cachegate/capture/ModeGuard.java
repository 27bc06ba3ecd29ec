package io.cachegate.capture;

import io.cachegate.config.GatewayConfig;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * One capture mode per database. Every instance records its {@code capture.mode} at start-up in
 * {@code cachegate.capture_mode}; an instance whose mode is no longer the one recorded (another
 * instance started since with the other mode) may not lead, and steps down if it does, so that the
 * newer mode's instances take over: a wal-mode instance removed the triggers an outbox leader would
 * need (its slot, created first, holds every change since), and an outbox-mode instance put them back
 * and reads what a slot left behind. {@code /health} reports the mismatch. Checked every
 * {@code capture.statusIntervalMs}.
 *
 * <p>Owned by the capture's event loop.
 */
final class ModeGuard {

  private static final Logger log = LoggerFactory.getLogger(ModeGuard.class);
  static final String TABLE = "cachegate.capture_mode";

  private final GatewayConfig config;
  private final Pool pool;
  private final Leadership leadership;
  private final String mode;
  private String problem; // null: this instance's mode is the recorded one

  ModeGuard(GatewayConfig config, Pool pool, Leadership leadership) {
    this.config = config;
    this.pool = pool;
    this.leadership = leadership;
    this.mode = config.capture().wal() ? "wal" : "outbox";
  }

  /** At start-up, after the schema is installed: this instance's mode becomes the recorded one. */
  static Future<Void> record(Pool pool, GatewayConfig config) {
    // the table is created by OutboxSchema.install, under its lock
    return pool.preparedQuery("INSERT INTO " + TABLE + " (mode, instance) VALUES ($1, $2) ON CONFLICT (one) DO UPDATE "
            + "SET mode = excluded.mode, instance = excluded.instance, at = clock_timestamp()")
        .execute(Tuple.of(config.capture().wal() ? "wal" : "outbox", config.instanceId()))
        .mapEmpty();
  }

  void check() {
    pool.query("SELECT mode, instance FROM " + TABLE).execute()
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rows -> {
          if (rows.size() == 0) return;
          Row r = rows.iterator().next();
          String recorded = r.getString("mode");
          if (mode.equals(recorded)) {
            if (problem != null) log.info("capture.mode {} is the recorded mode again; this instance may lead", mode);
            problem = null;
            leadership.eligible(true, null);
            return;
          }
          String why = "instance " + r.getString("instance") + " started with capture.mode " + recorded + " after this one ("
              + mode + "); all instances of one database must use one mode: this one does not lead until restarted with it";
          if (problem == null) log.warn("{}", why);
          problem = why;
          leadership.eligible(false, why);
        })
        .onFailure(err -> log.debug("capture mode not checked: {}", err.getMessage()));
  }

  /** Why this instance may not lead, or null. */
  String problem() {
    return problem;
  }
}
