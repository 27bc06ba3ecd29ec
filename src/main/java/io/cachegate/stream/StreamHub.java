package io.cachegate.stream;

import io.cachegate.bus.Addresses;
import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.HistoryQuery;
import io.cachegate.bus.Messages.HistoryReset;
import io.cachegate.bus.Messages.HistoryResult;
import io.cachegate.bus.Messages.Notice;
import io.cachegate.bus.Messages.Notices;
import io.cachegate.auth.StreamGrant;
import io.cachegate.model.NoticeIds;
import io.cachegate.config.GatewayConfig;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.stream.Frames.BadFrame;
import io.cachegate.stream.Frames.ClientFrame;
import io.cachegate.stream.Frames.Ping;
import io.cachegate.stream.Frames.Subscribe;
import io.cachegate.stream.Frames.Unsubscribe;
import io.cachegate.stream.SubscriptionIndex.Match;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The WebSocket side of one HTTP verticle instance: its clients, their subscriptions and the index
 * over them. Everything here runs on that instance's event loop, so nothing is locked; each
 * instance consumes {@link Addresses#NOTICE_APPENDED} and fans out to its own clients.
 *
 * <p>Per client, frames are handled one at a time (a subscribe with {@code since} waits for the
 * history before the next frame is read), and every notice is delivered at most once in id order:
 * while a subscribe recovers, live notices are held back and released after its {@code subscribed}
 * reply, skipping those the history already covered.
 */
public final class StreamHub {

  private static final Logger log = LoggerFactory.getLogger(StreamHub.class);
  private static final int MAX_QUEUED_FRAMES = 64;
  /**
   * Encoded bytes handed to Netty per socket before frames wait in the session's own queue (about:
   * Vert.x reports the socket full once Netty passes this mark and a few more writes wait in its queue).
   */
  private static final int SOCKET_WINDOW_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final GatewayConfig.Stream config;
  private final GatewayConfig.Limits limits;
  private final GatewayMetrics metrics;
  private final StreamStats stats;
  private final SubscriptionIndex<Session> index = new SubscriptionIndex<>();
  private final Set<Session> sessions = new LinkedHashSet<>();
  private final Set<Session> allSubscribers = new LinkedHashSet<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private String lastNoticeId = NoticeIds.ZERO;
  private long pingTimer = -1;

  /** One connected client. Owned by the hub. */
  final class Session {
    final ServerWebSocket ws;
    final StreamGrant grant;
    final Runnable onClose;
    long expiryTimer = -1;
    // made on first use and sized for a few names, the queues for none: a session is idle most of its
    // life, and 10,000 of them hold 10,000 of each (docs/performance.md, memory)
    Set<String> keys = Collections.emptySet();
    Set<String> tags = Collections.emptySet();
    Set<String> prefixes = Collections.emptySet();
    final ArrayDeque<String> inbox = new ArrayDeque<>(1);
    boolean all; // subscribed to every notice
    List<Notice> held; // non-null while a subscribe recovers
    String lastSentId = "";
    boolean busy;
    boolean closed;
    int malformed;
    long lastHeardMs = System.currentTimeMillis(); // a frame or pong from the client, or a drained queue
    /** Frames waiting for the socket to drain; shared String instances, so memory is shared too. */
    final ArrayDeque<String> queue = new ArrayDeque<>(1);
    long queuedChars;

    Session(ServerWebSocket ws, StreamGrant grant, Runnable onClose) {
      this.ws = ws;
      this.grant = grant;
      this.onClose = onClose;
    }

    int names() {
      return keys.size() + tags.size() + prefixes.size();
    }
  }

  public StreamHub(Vertx vertx, GatewayConfig.Stream config, GatewayConfig.Limits limits, GatewayMetrics metrics,
      StreamStats stats) {
    this.vertx = vertx;
    this.config = config;
    this.limits = limits;
    this.metrics = metrics;
    this.stats = stats;
  }

  public Future<Void> start() {
    consumers.add(vertx.eventBus().<Notices>localConsumer(Addresses.NOTICE_APPENDED, m -> m.body().notices().forEach(this::onNotice)));
    consumers.add(vertx.eventBus().<HistoryReset>localConsumer(Addresses.NOTICE_RESET, m -> onReset(m.body().reason())));
    pingTimer = vertx.setPeriodic(config.pingIntervalMs(), id -> ping());
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  /** Closes every socket with 1001 (going away). */
  public Future<Void> stop() {
    List<Future<Void>> closing = new ArrayList<>();
    vertx.cancelTimer(pingTimer);
    consumers.forEach(c -> closing.add(c.unregister()));
    for (Session s : new ArrayList<>(sessions)) {
      // bounded: a client that reads nothing never completes the close handshake (the server's close ends it)
      closing.add(close(s, (short) 1001, "gateway shutting down").timeout(2, java.util.concurrent.TimeUnit.SECONDS)
          .otherwise(err -> null));
    }
    return Future.join(closing).mapEmpty();
  }

  public int clients() {
    return sessions.size();
  }

  /**
   * A new client with what it may subscribe to; {@code onClose} runs once when it goes. A token that
   * expires while connected closes the socket with 4001.
   */
  public void accept(ServerWebSocket ws, StreamGrant grant, Runnable onClose) {
    if (ws.isClosed()) { // gone between the upgrade and here: nothing to register, the slot goes back now
      onClose.run();
      return;
    }
    Session s = new Session(ws, grant, onClose);
    if (grant.expiresAtMs() != Long.MAX_VALUE) {
      long left = Math.max(1, grant.expiresAtMs() - System.currentTimeMillis());
      s.expiryTimer = vertx.setTimer(left, t -> close(s, (short) 4001, "token expired"));
    }
    sessions.add(s);
    stats.opened();
    // Netty holds about this much encoded for the socket; the rest waits in the session's queue
    ws.setWriteQueueMaxSize(Math.min(config.writeQueueMaxBytes(), SOCKET_WINDOW_BYTES));
    ws.drainHandler(v -> flush(s));
    ws.textMessageHandler(text -> {
      s.lastHeardMs = System.currentTimeMillis();
      onText(s, text);
    });
    ws.binaryMessageHandler(buf -> malformed(s, null, "unsupported", "binary frames are not supported; send JSON text"));
    ws.pongHandler(buf -> s.lastHeardMs = System.currentTimeMillis());
    ws.exceptionHandler(err -> log.debug("stream client error: {}", err.getMessage()));
    ws.closeHandler(v -> {
      forget(s);
      // the TCP connection is gone only now (a dropped client that reads nothing holds it until the
      // server's idle timeout, stream.stallTimeoutMs):
      // only now does it stop counting against stream.maxSocketsPerAddress
      stats.disconnected();
      s.onClose.run();
    });
  }

  /**
   * Closes a session's socket with a code: the session is forgotten first, so nothing queued or
   * arriving later is written after the close frame.
   */
  private Future<Void> close(Session s, short code, String reason) {
    if (s.closed) return Future.succeededFuture();
    forget(s);
    return s.ws.isClosed() ? Future.succeededFuture() : s.ws.close(code, reason);
  }

  /** Drops a session from the hub (its subscriptions, its queue); its socket may still be closing. */
  private void forget(Session s) {
    if (s.closed) return;
    s.closed = true;
    vertx.cancelTimer(s.expiryTimer);
    if (!s.queue.isEmpty()) metrics.framesDropped(s.queue.size());
    s.queue.clear();
    s.queuedChars = 0;
    sessions.remove(s);
    allSubscribers.remove(s);
    stats.closed(s.names());
    s.keys.forEach(k -> index.removeKey(k, s));
    s.tags.forEach(t -> index.removeTag(t, s));
    s.prefixes.forEach(p -> index.removePrefix(p, s));
  }

  // ---- client frames ----

  private void onText(Session s, String text) {
    if (s.closed) return;
    if (s.busy) {
      if (s.inbox.size() >= MAX_QUEUED_FRAMES) {
        metrics.rejected("stream_rate");
        send(s, Frames.error(null, "rate_limited", "too many frames while a subscribe is in progress; frame dropped"));
      } else {
        s.inbox.add(text);
      }
      return;
    }
    ClientFrame frame;
    try {
      frame = Frames.parse(text);
    } catch (BadFrame e) {
      malformed(s, e.id, e.code, e.getMessage());
      return;
    }
    s.malformed = 0;
    if (frame instanceof Ping p) {
      send(s, Frames.pong(p.id()));
    } else if (frame instanceof Unsubscribe u) {
      unsubscribe(s, u);
    } else if (frame instanceof Subscribe sub) {
      subscribe(s, sub);
    }
    next(s);
  }

  private void next(Session s) {
    while (!s.busy && !s.closed && !s.inbox.isEmpty()) onText(s, s.inbox.poll());
  }

  private void malformed(Session s, String id, String code, String message) {
    metrics.rejected("stream_" + code);
    send(s, Frames.error(id, code, message));
    if (++s.malformed >= config.maxMalformedFrames()) close(s, (short) 1008, "too many malformed frames");
  }

  private void unsubscribe(Session s, Unsubscribe u) {
    int before = s.names();
    for (String k : u.keys()) if (s.keys.remove(k)) index.removeKey(k, s);
    for (String t : u.tags()) if (s.tags.remove(t)) index.removeTag(t, s);
    for (String p : u.prefixes()) if (s.prefixes.remove(p)) index.removePrefix(p, s);
    if (u.all()) {
      s.all = false;
      allSubscribers.remove(s);
    }
    stats.subscriptions(s.names() - before);
    send(s, Frames.unsubscribed(u.id()));
  }

  private void subscribe(Session s, Subscribe sub) {
    if (sub.size() > limits.maxNamesPerSubscribe()) {
      metrics.rejected("stream_limit");
      send(s, Frames.error(sub.id(), "too_many_names", "a subscribe may name at most " + limits.maxNamesPerSubscribe()
          + " keys, tags and prefixes; nothing of this request was subscribed"));
      return;
    }
    List<String> refused = new ArrayList<>();
    for (String k : sub.keys()) if (!s.grant.allowsKey(k)) refused.add("key " + k);
    for (String t : sub.tags()) if (!s.grant.allowsTag(t)) refused.add("tag " + t);
    for (String p : sub.prefixes()) if (!s.grant.allowsPrefix(p)) refused.add("prefix " + p);
    if (sub.all() && !s.grant.allowsAll()) refused.add("all");
    if (!refused.isEmpty()) {
      metrics.rejected("stream_forbidden");
      send(s, Frames.error(sub.id(), "forbidden", "not allowed by your token: " + String.join(", ", refused)
          + "; nothing of this request was subscribed"));
      return;
    }
    int added = (int) (sub.keys().stream().filter(k -> !s.keys.contains(k)).count()
        + sub.tags().stream().filter(t -> !s.tags.contains(t)).count()
        + sub.prefixes().stream().filter(p -> !s.prefixes.contains(p)).count());
    if (s.names() + added > config.maxNamesPerSocket()) {
      metrics.rejected("stream_limit");
      send(s, Frames.error(sub.id(), "too_many_subscriptions", "a socket may subscribe to at most "
          + config.maxNamesPerSocket() + " names; nothing of this request was subscribed"));
      return;
    }
    if (s.keys.isEmpty() && !sub.keys().isEmpty()) s.keys = new HashSet<>(2);
    if (s.tags.isEmpty() && !sub.tags().isEmpty()) s.tags = new HashSet<>(2);
    if (s.prefixes.isEmpty() && !sub.prefixes().isEmpty()) s.prefixes = new HashSet<>(2);
    for (String k : sub.keys()) if (s.keys.add(k)) index.addKey(k, s);
    for (String t : sub.tags()) if (s.tags.add(t)) index.addTag(t, s);
    for (String p : sub.prefixes()) if (s.prefixes.add(p)) index.addPrefix(p, s);
    if (sub.all()) {
      s.all = true;
      allSubscribers.add(s);
    }
    stats.subscriptions(added);

    s.busy = true;
    s.held = new ArrayList<>();
    vertx.eventBus().<HistoryResult>request(Addresses.NOTICE_HISTORY, new HistoryQuery(sub.since(), config.maxReplay()))
        .map(m -> m.body())
        .onComplete(ar -> {
          if (s.closed) return;
          if (ar.succeeded() && sub.since() != null && ar.result().complete()) {
            // replayed even if older than what this socket got for its other names: these names missed them
            for (Notice n : ar.result().notices()) replay(s, n);
            advance(s, ar.result().position());
            send(s, Frames.subscribed(sub.id(), ar.result().position(), true));
          } else {
            String position = ar.succeeded() ? ar.result().position() : lastNoticeId;
            if (sub.since() != null) {
              send(s, Frames.reset(ar.succeeded()
                  ? "the notice history no longer reaches back to " + sub.since()
                  : "the notice history is unavailable"));
            }
            advance(s, position);
            send(s, Frames.subscribed(sub.id(), position, false));
          }
          List<Notice> held = s.held;
          s.held = null;
          s.busy = false;
          for (Notice n : held) deliverNow(s, n);
          next(s);
        });
  }

  private static void advance(Session s, String position) {
    if (position.compareTo(s.lastSentId) > 0) s.lastSentId = position;
  }

  // ---- notices ----

  private void onNotice(Notice n) {
    if (n.id().compareTo(lastNoticeId) > 0) lastNoticeId = n.id();
    if (Cause.RESYNC.equals(n.cause().op())) {
      // the capture missed changes (its replication slot was lost): whatever a client holds may be stale
      for (Session s : new ArrayList<>(sessions)) {
        if (n.id().compareTo(s.lastSentId) <= 0) continue; // a replay that already covered it
        send(s, Frames.reset("the capture missed changes: " + n.cause().reason()));
      }
    }
    Map<Session, Match> matches = index.match(n);
    if (!allSubscribers.isEmpty()) {
      Match all = everything(n);
      for (Session s : allSubscribers) matches.put(s, all);
    }
    // sessions that see the same part of a notice share one encoded frame (and its memory while queued)
    Map<Match, String> frames = new HashMap<>();
    for (Map.Entry<Session, Match> e : matches.entrySet()) {
      Session s = e.getKey();
      if (s.held != null) {
        if (s.held.size() >= config.maxReplay()) slow(s);
        else s.held.add(n);
      } else {
        deliver(s, n, e.getValue(), frames);
      }
    }
  }

  private static Match everything(Notice n) {
    Match m = new Match();
    m.keys.addAll(n.keys());
    m.tags.addAll(n.tags());
    m.prefixes.addAll(n.prefixes());
    return m;
  }

  /** What one session may see of a notice, without the index (replays and held notices). */
  private static Match matchFor(Session s, Notice n) {
    return s.all ? everything(n) : SubscriptionIndex.matchOne(n, s.keys, s.tags, s.prefixes);
  }

  private void replay(Session s, Notice n) {
    Match m = matchFor(s, n);
    if (!SubscriptionIndex.isEmpty(m)) send(s, Frames.invalidate(n, m.keys, m.tags, m.prefixes));
  }

  private void deliverNow(Session s, Notice n) {
    Match m = matchFor(s, n);
    if (!SubscriptionIndex.isEmpty(m)) deliver(s, n, m, new HashMap<>(2));
  }

  /** Sends a notice at most once per session, in id order; {@code frames}: encodings shared between sessions. */
  private void deliver(Session s, Notice n, Match m, Map<Match, String> frames) {
    if (n.id().compareTo(s.lastSentId) <= 0) return; // already covered (replay or an earlier delivery)
    s.lastSentId = n.id();
    send(s, frames.computeIfAbsent(m, k -> Frames.invalidate(n, k.keys, k.tags, k.prefixes)));
  }

  private void onReset(String reason) {
    lastNoticeId = NoticeIds.ZERO;
    for (Session s : new ArrayList<>(sessions)) { // a send may drop a slow session from the set
      s.lastSentId = "";
      send(s, Frames.reset(reason));
    }
  }

  /**
   * Writes a frame, or queues it while the socket is behind. A session whose queue passes
   * {@code stream.writeQueueMaxBytes} or {@code stream.writeQueueMaxFrames} is a slow client.
   */
  private void send(Session s, String frame) {
    if (s.closed || s.ws.isClosed()) { // isClosed: the client's close frame came, our close handler has not run yet
      metrics.frameDropped();
      return;
    }
    if (s.queue.isEmpty() && !s.ws.writeQueueFull()) {
      write(s, frame);
      return;
    }
    if (s.queue.size() >= config.writeQueueMaxFrames() || s.queuedChars + frame.length() > config.writeQueueMaxBytes()) {
      metrics.frameDropped();
      slow(s);
      return;
    }
    s.queue.add(frame);
    s.queuedChars += frame.length();
  }

  private void flush(Session s) {
    s.lastHeardMs = System.currentTimeMillis(); // the socket drained: the client is reading
    while (!s.closed && !s.queue.isEmpty() && !s.ws.isClosed() && !s.ws.writeQueueFull()) {
      String frame = s.queue.poll();
      s.queuedChars -= frame.length();
      write(s, frame);
    }
  }

  private void write(Session s, String frame) {
    s.ws.writeTextMessage(frame);
    metrics.frameSent();
  }

  /**
   * A client that cannot keep up: told to reset, then closed with 1013 (try again later). Both frames
   * wait behind what the client has not read; if it never reads again, the connection is closed at
   * the TCP level after {@code stream.stallTimeoutMs} without a completed write.
   */
  private void slow(Session s) {
    if (s.closed) return;
    metrics.slowClientDropped();
    forget(s);
    s.ws.writeTextMessage(Frames.reset("client too slow: notices were dropped"));
    s.ws.close((short) 1013, "client too slow");
  }

  /**
   * Every {@code stream.pingIntervalMs}: a socket that has answered nothing (no frame, no pong, no
   * drained queue) for {@code stream.stallTimeoutMs} is closed (a vanished or hung peer; its writes may
   * still be landing in the kernel buffer, so the server's idle timeout alone would not see it); every
   * other socket that is not behind is sent a WebSocket ping, which a live client answers.
   */
  private void ping() {
    long now = System.currentTimeMillis();
    for (Session s : new ArrayList<>(sessions)) { // close() removes from the set
      if (now - s.lastHeardMs > config.stallTimeoutMs()) {
        close(s, (short) 1001, "no answer to pings for " + config.stallTimeoutMs() + " ms");
      } else if (s.queue.isEmpty() && !s.ws.isClosed() && !s.ws.writeQueueFull()) {
        s.ws.writePing(io.vertx.core.buffer.Buffer.buffer("cg")); // a fresh buffer: Netty releases what it wrote
      }
    }
  }
}
