package io.cachegate.capture;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.InvalidateCommand;
import io.cachegate.bus.Messages.InvalidateResult;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.capture.wal.PgOutput;
import io.cachegate.capture.wal.WalChanges;
import io.cachegate.capture.wal.WalSchema;
import io.cachegate.config.GatewayConfig;
import io.cachegate.config.PostgresUrl;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.cachegate.support.ConnectionErrors;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The committed changes of the watched tables read from the write-ahead log through a logical
 * replication slot ({@code pgoutput}, the publication {@code capture.wal.publication}), as a
 * {@link ChangeSource}. Nothing runs on the writers' path: no trigger, no outbox row.
 *
 * <p><b>Guarantees.</b> Those of {@link ChangeSource}. The slot's confirmed position advances only to
 * the end of a transaction whose invalidations Redis applied and whose notices were appended, and
 * transactions are applied in commit order, so a crash, a lost connection or a new leader replays
 * from the first transaction not yet applied: at least once, never skipped. While nothing is waiting
 * to be applied, the position advances with what the server reports (keepalives, transactions that
 * touched no watched table), so an idle or unwatched database does not make the slot keep WAL.
 * A slot that PostgreSQL invalidated ({@code wal_status = lost}, past {@code max_slot_wal_keep_size})
 * or that vanished is re-created, and every watched table is invalidated once as a TRUNCATE would do
 * it (with cause op {@code RESYNC}, which tells every stream client to reset): changes in between
 * were never seen. That need is first written to {@code cachegate.wal_resync}, so it survives a crash.
 *
 * <p><b>Threads.</b> The replication connection (pgjdbc's {@link PGReplicationStream}) lives on a
 * thread of its own, which decodes, maps and hands each committed transaction to the capture's event
 * loop; everything else here runs on that event loop. At most {@code capture.wal.maxPending} changes
 * wait to be applied: beyond that the thread stops reading (the server keeps the WAL) and keeps the
 * connection alive with status updates.
 */
final class WalSource implements ChangeSource {

  private static final Logger log = LoggerFactory.getLogger(WalSource.class);
  /** PostgreSQL timestamps count microseconds from 2000-01-01. */
  private static final long PG_EPOCH_MS = 946_684_800_000L;

  private final Vertx vertx;
  private final GatewayConfig config;
  private final GatewayMetrics metrics;
  private final ChangeMapper mapper;
  private final DeliveryOptions bus;
  private final Pool pool;
  private final PostgresUrl url;
  private final Map<String, String> watched;

  /** One committed transaction (or the resync), mapped, waiting to be applied in order. */
  private record Item(long endLsn, long commitMs, int changes, List<Invalidation> invalidations, boolean resync) {}

  // event-loop state
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private Context context;
  private boolean running;
  private boolean redisUp = true;
  private boolean applying;
  private boolean resyncQueued;
  private Future<Void> currentApply = Future.succeededFuture();
  private final Backoff retry;
  private long retryTimer = -1;
  private long checkTimer = -1;
  private int pidMismatches;
  private Reader reader;
  private Promise<Void> streaming = Promise.promise();
  private Future<Void> stopped = Future.succeededFuture();
  private int starts;
  private boolean retrying; // a failed batch waits for its retry timer: new transactions do not resend it early

  // shared with the reader thread
  private final AtomicLong applied = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();

  WalSource(Vertx vertx, GatewayConfig config, GatewayMetrics metrics, Pool pool, ChangeMapper mapper, DeliveryOptions bus,
      Map<String, String> watched) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    this.pool = pool;
    this.mapper = mapper;
    this.bus = bus;
    this.url = config.postgres().parsed();
    this.watched = watched;
    this.retry = new Backoff(config.capture().reconnectMinDelayMs(), config.capture().reconnectMaxDelayMs());
  }

  @Override
  public void start() {
    context = vertx.getOrCreateContext();
    streaming = Promise.promise();
    int generation = ++starts;
    // a stop still running (its reader ending, its batch in flight) finishes first, and clears only
    // its own state: what this start reads must not be cleared by it
    stopped.onComplete(ar -> {
      if (generation != starts || running) return; // stopped or started again meanwhile
      running = true;
      pidMismatches = 0;
      reader = new Reader();
      reader.thread.start();
      checkTimer = vertx.setPeriodic(config.capture().heartbeatMs(), id -> checkSlotHolder());
    });
  }

  /** Completes once the replication stream started (or failed to, the first time): for a ready start-up. */
  Future<Void> streaming() {
    return streaming.future();
  }

  /** Whether the replication stream is open now. */
  boolean isStreaming() {
    return reader != null && reader.walPid > 0;
  }

  @Override
  public Future<Void> stop() {
    starts++; // a start waiting for an earlier stop no longer happens
    if (!running) return stopped;
    running = false;
    vertx.cancelTimer(retryTimer);
    retrying = false;
    vertx.cancelTimer(checkTimer);
    Reader r = reader;
    reader = null;
    Future<Void> ended = r == null ? Future.succeededFuture() : r.stop();
    stopped = currentApply.otherwiseEmpty()
        .compose(v -> ended)
        .onComplete(ar -> {
          // what was read and not applied is read again from the slot by the next leader (or by us)
          queue.clear();
          pending.set(0);
          resyncQueued = false;
        });
    return stopped;
  }

  @Override
  public void redisAvailable(boolean up) {
    redisUp = up;
    if (up) {
      vertx.cancelTimer(retryTimer); // Redis is back: retry now
      retrying = false;
      apply();
    }
  }

  // ---- applying, on the event loop ----

  private void offer(Item item) {
    if (!running) return;
    queue.add(item);
    apply();
  }

  private void apply() {
    if (applying || retrying || !running || !redisUp || queue.isEmpty()) return;
    List<Item> batch = new ArrayList<>();
    List<Invalidation> all = new ArrayList<>();
    int max = config.capture().batchSize();
    while (!queue.isEmpty() && (batch.isEmpty() || all.size() + queue.peek().invalidations().size() <= max)) {
      Item i = queue.poll();
      batch.add(i);
      all.addAll(i.invalidations());
    }
    applying = true;
    boolean resync = batch.stream().anyMatch(Item::resync);
    Future<?> done = all.isEmpty() ? Future.succeededFuture()
        : vertx.eventBus().<InvalidateResult>request(Addresses.CACHE_INVALIDATE, new InvalidateCommand(all), bus);
    if (resync) {
      done = done.compose(v -> WalSchema.clearResync(pool, config.capture().walSlot()));
    }
    currentApply = done.<Void>mapEmpty().onComplete(ar -> {
      applying = false;
      if (ar.succeeded()) {
        retry.reset();
        long end = 0;
        int changes = 0;
        long now = System.currentTimeMillis();
        for (Item i : batch) {
          end = Math.max(end, i.endLsn());
          changes += i.changes();
          if (i.commitMs() > 0) metrics.captureLag(now - i.commitMs());
          if (i.resync()) resyncQueued = false;
        }
        metrics.captureRows(changes);
        if (end > applied.get()) applied.set(end); // before pending shrinks: the reader reads them in that order
        pending.addAndGet(-changes);
        apply();
      } else {
        for (int i = batch.size() - 1; i >= 0; i--) queue.addFirst(batch.get(i));
        if (running) {
          long delay = retry.next();
          if (retry.attempts() == 1) {
            log.warn("WAL changes not applied ({}); retrying, the slot keeps them meanwhile", ar.cause().getMessage());
          }
          retrying = true;
          retryTimer = vertx.setTimer(delay, id -> {
            retrying = false;
            apply();
          });
        }
      }
    });
  }

  private void queueResync(String reason) {
    if (resyncQueued || !running) return;
    resyncQueued = true;
    queue.addFirst(new Item(0, 0, 0, List.of(mapper.resync(reason)), true));
    apply();
  }

  /**
   * A replication connection the server no longer counts as the slot's holder (a half-open connection:
   * the server ended its side) is replaced. Two checks in a row, so a reconnect in progress is not taken
   * for one.
   */
  private void checkSlotHolder() {
    Reader r = reader;
    if (!running || r == null || r.walPid <= 0) return;
    int mine = r.walPid;
    pool.preparedQuery(WalSchema.SLOT_STATUS).execute(Tuple.of(config.capture().walSlot()))
        .timeout(config.postgres().queryTimeoutMs(), TimeUnit.MILLISECONDS)
        .onSuccess(rows -> {
          Integer holder = rows.size() == 0 ? null : rows.iterator().next().getInteger("active_pid");
          if (holder != null && holder == mine) {
            pidMismatches = 0;
          } else if (++pidMismatches >= 2 && r.walPid == mine) {
            pidMismatches = 0;
            log.warn("the replication connection (pid {}) no longer holds slot {} on the server; reconnecting", mine, config.capture().walSlot());
            r.reconnect();
          }
        });
  }

  // ---- the replication thread ----

  private final class Reader implements Runnable {
    final Thread thread = new Thread(this, "cachegate-wal-" + config.instanceId());
    private volatile boolean stopping;
    private volatile Connection conn;
    volatile int walPid;
    private final Promise<Void> ended = Promise.promise();

    Reader() {
      thread.setDaemon(true);
    }

    Future<Void> stop() {
      stopping = true;
      LockSupport.unpark(thread);
      // a connection stuck in a write to a dead peer is cut after a grace period
      long t = vertx.setTimer(2000, id -> abort());
      return ended.future().onComplete(ar -> vertx.cancelTimer(t));
    }

    void reconnect() {
      abort();
    }

    private void abort() {
      Connection c = conn;
      if (c == null) return;
      try {
        c.abort(task -> new Thread(task, "cachegate-wal-abort").start()); // closing a socket may block: never on the event loop
      } catch (SQLException | RuntimeException ignored) {
        // it is being closed anyway
      }
    }

    @Override
    public void run() {
      Backoff backoff = new Backoff(config.capture().reconnectMinDelayMs(), config.capture().reconnectMaxDelayMs());
      try {
        while (!stopping) {
          try {
            session(backoff);
          } catch (SQLException | RuntimeException e) {
            walPid = 0;
            if (stopping) break;
            String why = e instanceof SQLException ? ConnectionErrors.explain(url.endpoint(), e) : String.valueOf(e);
            if (backoff.attempts() == 0) log.warn("replication from slot {} stopped: {}; reconnecting", config.capture().walSlot(), why);
            else log.debug("replication from slot {} not resumed: {}", config.capture().walSlot(), why);
            metrics.captureReconnect();
            context.runOnContext(v -> streaming.tryComplete());
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoff.next()));
          }
        }
      } finally {
        walPid = 0;
        context.runOnContext(v -> ended.complete());
      }
    }

    private Properties properties(boolean replication) {
      Properties p = url.jdbcProperties((replication ? "cachegate-wal-" : "cachegate-slot-") + config.instanceId());
      if (replication) {
        p.setProperty("replication", "database");
        p.setProperty("assumeMinServerVersion", "10");
        p.setProperty("preferQueryMode", "simple");
        // the server ends a replication connection silent this long; the slot-holder check then sees
        // ours is gone and replaces it (a half-open connection shows nothing on this side)
        long timeout = Math.max(config.capture().heartbeatTimeoutMs(), config.capture().walStatusIntervalMs()) * 3;
        p.setProperty("options", "-c wal_sender_timeout=" + timeout);
      }
      return p;
    }

    private void session(Backoff backoff) throws SQLException {
      ensureSlot();
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), properties(true))) {
        conn = c;
        int pid;
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
          r.next();
          pid = r.getInt(1);
        }
        PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
            .withSlotName(config.capture().walSlot())
            .withSlotOption("proto_version", 1)
            .withSlotOption("publication_names", config.capture().walPublication())
            .withStatusInterval((int) config.capture().walStatusIntervalMs(), TimeUnit.MILLISECONDS)
            .withAutomaticFlush(false)
            .start();
        walPid = pid;
        if (backoff.attempts() > 0) log.info("replication from slot {} resumed", config.capture().walSlot());
        backoff.reset();
        context.runOnContext(v -> streaming.tryComplete());
        stream(stream);
      } finally {
        conn = null;
        walPid = 0;
      }
    }

    private void stream(PGReplicationStream stream) throws SQLException {
      WalChanges changes = new WalChanges(watched, config.capture().walMaxPending());
      int maxPending = config.capture().walMaxPending();
      long confirmed = 0;
      long skippedEnd = 0;
      long lastForced = System.currentTimeMillis();
      while (!stopping) {
        ByteBuffer b = stream.readPending();
        if (b != null) {
          PgOutput.Message m = PgOutput.decode(b);
          WalChanges.Transaction t = changes.accept(m);
          if (t != null) hand(t);
          else if (m instanceof PgOutput.Commit c) skippedEnd = c.endLsn();
          // backpressure: stop reading while too much waits for Redis; the server keeps the WAL
          while (pending.get() >= maxPending && !stopping) {
            confirmed = confirm(stream, changes, skippedEnd, confirmed);
            long now = System.currentTimeMillis();
            if (now - lastForced >= config.capture().walStatusIntervalMs()) {
              stream.forceUpdateStatus(); // keeps the connection inside wal_sender_timeout
              lastForced = now;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
          }
          continue;
        }
        confirmed = confirm(stream, changes, skippedEnd, confirmed);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      confirm(stream, changes, skippedEnd, confirmed);
      stream.forceUpdateStatus();
      stream.close();
    }

    /** Maps a transaction here (off the event loop) and hands it over in commit order. */
    private void hand(WalChanges.Transaction t) {
      Item item = new Item(t.endLsn(), t.commitMicros() / 1000 + PG_EPOCH_MS, t.changes().size(), mapper.map(t.changes()), false);
      pending.addAndGet(item.changes());
      context.runOnContext(v -> offer(item));
    }

    /** Tells the server how far it may free WAL: what was applied, or all it sent while nothing waits. */
    private long confirm(PGReplicationStream stream, WalChanges changes, long skippedEnd, long confirmed) {
      long target = applied.get();
      if (pending.get() == 0 && !changes.inTransaction()) {
        target = Math.max(target, Math.max(stream.getLastReceiveLSN().asLong(), skippedEnd));
      }
      if (target > confirmed) {
        LogSequenceNumber lsn = LogSequenceNumber.valueOf(target);
        stream.setFlushedLSN(lsn);
        stream.setAppliedLSN(lsn);
        return target;
      }
      return confirmed;
    }

    /**
     * A slot PostgreSQL invalidated, or one that is gone, is replaced: the need to resync is written
     * down first, then the slot is re-created, then the resync is queued.
     */
    private void ensureSlot() throws SQLException {
      String slot = config.capture().walSlot();
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), properties(false))) {
        conn = c;
        // a resync owed (written by a leader before it crashed, or by us): read on every session, so a
        // failed read is retried with the session
        try (PreparedStatement s = c.prepareStatement("SELECT reason FROM " + WalSchema.RESYNC_TABLE + " WHERE slot = ?")) {
          s.setString(1, slot);
          try (ResultSet r = s.executeQuery()) {
            if (r.next()) {
              String owed = r.getString(1);
              context.runOnContext(v -> queueResync(owed));
            }
          }
        }
        String status;
        try (PreparedStatement s = c.prepareStatement("SELECT coalesce(wal_status, 'reserved') FROM pg_replication_slots WHERE slot_name = ?")) {
          s.setString(1, slot);
          try (ResultSet r = s.executeQuery()) {
            status = r.next() ? r.getString(1) : null;
          }
        }
        if (status != null && !"lost".equals(status)) return;
        String reason = status == null ? "replication slot " + slot + " was missing" : "replication slot " + slot
            + " was invalidated by PostgreSQL (wal_status lost: it fell more than max_slot_wal_keep_size behind)";
        log.error("INCIDENT: {}; re-creating it and invalidating every watched table, and every stream client is told to reset "
            + "(changes committed in between were never seen)", reason);
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + WalSchema.RESYNC_TABLE + " (slot, reason) VALUES (?, ?) "
            + "ON CONFLICT (slot) DO UPDATE SET reason = excluded.reason, at = clock_timestamp()")) {
          s.setString(1, slot);
          s.setString(2, reason);
          s.executeUpdate();
        }
        if (status != null) {
          try (PreparedStatement s = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            s.setString(1, slot);
            s.execute();
          }
        }
        try (PreparedStatement s = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
          s.setString(1, slot);
          s.execute();
        }
        context.runOnContext(v -> queueResync(reason));
      } finally {
        conn = null;
      }
    }
  }
}
