package io.cachegate.auth;

import com.nimbusds.jose.jwk.JWKSet;
import io.cachegate.bus.Addresses;
import io.cachegate.metrics.GatewayMetrics;
import io.cachegate.support.Backoff;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The I/O of {@code auth.jwt.jwksUrl}: fetches the identity provider's key set at start, every
 * {@code jwksRefreshSeconds}, and when a token names a {@code kid} the set lacks. That last kind is
 * rate-limited (one fetch per {@code jwksMinRefreshSeconds}, however many such tokens arrive, and
 * requests arriving during a fetch share it), so a flood of made-up {@code kid}s costs the provider a
 * few requests a minute. A failed fetch keeps the last good set in use and is retried with backoff;
 * {@code /health} shows it. Non-blocking (Vert.x's HTTP client), so it never holds an event loop or a
 * worker thread on the provider's latency. One instance per gateway; it is the only writer of the
 * verifier's key set.
 */
public final class JwksVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(JwksVerticle.class);
  static final int MAX_BYTES = 512 * 1024;
  public static final long TIMEOUT_MS = 5_000;

  /** The reply to a refresh request: whether a fetch ran for it. */
  public static final String FETCHED = "fetched";
  public static final String RATE_LIMITED = "rate-limited";

  private final TokenVerifier verifier;
  private final GatewayMetrics metrics;
  private final String url;
  private final String caFile;
  private final long refreshMs;
  private final long minRefreshMs;
  private final Backoff retry;
  private HttpClient client;
  private Future<Void> inFlight;
  private long lastAskedMs = Long.MIN_VALUE / 2;
  private long timer = -1;
  private boolean stopped;

  public JwksVerticle(TokenVerifier verifier, GatewayMetrics metrics, String caFile, long refreshSeconds, long minRefreshSeconds) {
    this.verifier = verifier;
    this.metrics = metrics;
    this.url = verifier.settings().jwksUrl();
    this.caFile = caFile;
    this.refreshMs = refreshSeconds * 1000;
    this.minRefreshMs = minRefreshSeconds * 1000;
    this.retry = new Backoff(1_000, Math.min(30_000, refreshMs));
  }

  @Override
  public Future<?> start() {
    HttpClientOptions options = new HttpClientOptions().setConnectTimeout((int) TIMEOUT_MS).setVerifyHost(true)
        .setKeepAlive(false);
    if (!caFile.isEmpty()) options.setTrustOptions(new PemTrustOptions().addCertPath(caFile));
    client = vertx.createHttpClient(options);
    vertx.eventBus().<String>localConsumer(Addresses.JWKS_REFRESH, this::onAsked);
    fetch("start"); // not awaited: the gateway starts with the provider down, tokens wait for the keys
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) vertx.cancelTimer(timer);
    return client == null ? Future.succeededFuture() : client.close();
  }

  /** A token named a kid the set lacks: fetch unless one ran for such a token too recently. */
  private void onAsked(Message<String> msg) {
    if (inFlight != null) {
      inFlight.onComplete(ar -> msg.reply(FETCHED));
      return;
    }
    long now = System.currentTimeMillis();
    if (now - lastAskedMs < minRefreshMs) {
      msg.reply(RATE_LIMITED);
      return;
    }
    lastAskedMs = now;
    fetch("unknown_kid").onComplete(ar -> msg.reply(FETCHED));
  }

  private Future<Void> fetch(String trigger) {
    if (inFlight != null) return inFlight;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    inFlight = get().compose(this::apply)
        .onSuccess(v -> {
          metrics.jwksFetch(trigger, true);
          retry.reset();
          schedule(refreshMs);
        })
        .recover(err -> {
          String reason = describe(err);
          metrics.jwksFetch(trigger, false);
          verifier.remoteFailed(reason, System.currentTimeMillis());
          TokenVerifier.JwksStatus s = verifier.jwksStatus();
          log.warn("JWKS {} could not be fetched ({}); {}", url, reason, s.fetchedAtMs() > 0
              ? "the " + s.keyCount() + " keys fetched before stay in use" : "tokens signed by the identity provider are refused until it answers");
          schedule(retry.next());
          return Future.succeededFuture();
        })
        .onComplete(ar -> inFlight = null);
    return inFlight;
  }

  /** Why a fetch failed, in words that name the fix for a refused TLS certificate. */
  String describe(Throwable err) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.security.cert.CertPathBuilderException || t instanceof java.security.cert.CertPathValidatorException) {
        all.append(" pkix path");
      }
      all.append(' ').append(t.getMessage());
    }
    String lower = all.toString().toLowerCase(java.util.Locale.ROOT);
    String host = java.net.URI.create(url).getHost();
    if (lower.contains("pkix path") || lower.contains("unable to find valid certification path")) {
      return "TLS: the certificate of " + host + " is not trusted by " + (caFile.isEmpty() ? "the JDK's trusted CAs" : "auth.jwt.jwksCaFile (" + caFile + ")")
          + "; set auth.jwt.jwksCaFile to the CA that signed it";
    }
    if (lower.contains("no subject alternative") || lower.contains("no name matching")) {
      return "TLS: the certificate of " + host + " does not name that host (its subject alternative names)";
    }
    return err.getMessage() == null ? err.toString() : err.getMessage();
  }

  private void schedule(long delayMs) {
    if (!stopped) timer = vertx.setTimer(delayMs, id -> {
      timer = -1;
      fetch("refresh");
    });
  }

  private Future<Buffer> get() {
    RequestOptions req = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url)
        .setIdleTimeout(TIMEOUT_MS).setFollowRedirects(false)
        .putHeader(HttpHeaders.ACCEPT, "application/jwk-set+json, application/json");
    return client.request(req).compose(r -> r.send()).compose(this::body);
  }

  /** The body of a 200, at most {@link #MAX_BYTES}; anything else fails with what was wrong. */
  private Future<Buffer> body(HttpClientResponse resp) {
    if (resp.statusCode() != 200) {
      resp.request().reset();
      return Future.failedFuture("HTTP " + resp.statusCode() + " " + resp.statusMessage());
    }
    Promise<Buffer> done = Promise.promise();
    Buffer acc = Buffer.buffer();
    resp.handler(chunk -> {
      if (acc.length() + chunk.length() > MAX_BYTES) {
        done.tryFail("the key set is larger than " + MAX_BYTES + " bytes");
        resp.request().reset();
      } else {
        acc.appendBuffer(chunk);
      }
    });
    resp.exceptionHandler(done::tryFail);
    resp.endHandler(v -> done.tryComplete(acc));
    return done.future();
  }

  private Future<Void> apply(Buffer body) {
    JWKSet set;
    try {
      set = JWKSet.parse(body.toString(StandardCharsets.UTF_8));
    } catch (java.text.ParseException e) {
      return Future.failedFuture("not a JWK set (" + e.getMessage() + ")");
    }
    List<String> skipped = verifier.remoteKeys(set, System.currentTimeMillis());
    for (String s : skipped) log.warn("JWKS {}: {}", url, s);
    log.debug("JWKS {}: {} keys", url, verifier.jwksStatus().keyCount());
    return Future.succeededFuture();
  }
}
