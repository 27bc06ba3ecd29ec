package io.cachegate.support;

import io.vertx.pgclient.PgException;

import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Says in one sentence why a connection to PostgreSQL or Redis was refused: which server, what was
 * refused, and the likely fix. Used for start-up failures, {@code /health} reasons and log lines, so
 * an operator never has to read a TLS stack trace. Also {@link #redact(String)}: any
 * {@code scheme://user:password@} in a text becomes {@code scheme://user:***@}.
 */
public final class ConnectionErrors {

  public static final String POSTGRES = "PostgreSQL";
  public static final String REDIS = "Redis";

  private ConnectionErrors() {}

  /**
   * The server a connection was for. {@code trust}: where its certificate is checked against, in
   * words ("the CA in redis.tls.caFile (/etc/ca.pem)"), or null when TLS is off or not verified;
   * {@code refusals}: what that trust refused lately, when the client library does not say (or null).
   */
  public record Endpoint(String server, String host, String hostPort, String user, boolean hasPassword, boolean tls, String trust,
                         TlsRefusals refusals) {
    public String describe() {
      return server + " at " + hostPort;
    }
  }

  /** A refusal already put in words; the message is the whole story, so it carries no stack trace. */
  public static final class Refused extends RuntimeException {
    public Refused(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  /** {@code host:port}, an IPv6 address in brackets: how a server is named in every message. */
  public static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** {@link #explain} as an exception (kept as is when it already is one). */
  public static Refused refused(Endpoint to, Throwable err) {
    if (err instanceof Refused r) return r;
    return new Refused(explain(to, err), err);
  }

  private static final Pattern USERINFO = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://)([^:/@\\s]*):\\S*@"); // to the last @: a raw @ may be in the password
  private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)([?&]password=)[^&\\s]*");

  /**
   * {@code scheme://user:secret@host} -> {@code scheme://user:***@host} (up to the last {@code @} of the
   * word, so a password with a raw {@code @} is hidden whole); {@code ?password=x} -> {@code ?password=***}.
   */
  public static String redact(String text) {
    if (text == null) return null;
    String out = USERINFO.matcher(text).replaceAll("$1$2:***@");
    return PASSWORD_PARAM.matcher(out).replaceAll("$1***");
  }

  /** "PostgreSQL at db:5432 refused ...: why; fix". Never contains a password. */
  public static String explain(Endpoint to, Throwable err) {
    List<Throwable> chain = chain(err);
    if (to.refusals() != null && to.refusals().recent() != null && any(chain, javax.net.ssl.SSLException.class, "ssl handshake")) {
      chain.addAll(chain(to.refusals().recent())); // the certificate the handshake refused, which the client dropped
    }
    String all = messages(chain);
    String lower = all.toLowerCase(Locale.ROOT);
    boolean pg = POSTGRES.equals(to.server());
    String where = to.describe();
    String urlKey = pg ? "postgres.url" : "redis.url";

    // --- TLS: the certificate ---
    if (any(chain, CertPathBuilderException.class) || any(chain, CertPathValidatorException.class)
        || lower.contains("unable to find valid certification path") || lower.contains("pkix path")
        || lower.contains("unknown_ca") || lower.contains("unable to find valid cert")) {
      String trust = to.trust() == null ? "the configured trust" : to.trust();
      String fix = to.trust() != null && to.trust().startsWith("the JVM")
          ? (pg ? "set sslrootcert in postgres.url to the CA that signed the server's certificate"
                : "set redis.tls.caFile to the CA that signed the server's certificate")
          : "give the CA that signed the server's certificate (the provider's CA bundle) in " + (pg ? "sslrootcert" : "redis.tls.caFile");
      return where + " refused: TLS certificate not trusted by " + trust + "; " + fix;
    }
    if (lower.contains("no subject alternative") || lower.contains("no name matching")) {
      return where + " refused: TLS certificate does not match host name " + to.host() + "; connect with a host name the "
          + "certificate lists (its subject alternative names)" + (pg ? ", or use sslmode=verify-ca to check the chain only" : "");
    }
    if (lower.contains("certificate expired") || lower.contains("notafter") || lower.contains("certificate_expired")) {
      return where + " refused: its TLS certificate has expired (or is not valid yet); the server needs a current certificate";
    }

    // --- authentication ---
    String sqlState = sqlState(chain);
    if ("28P01".equals(sqlState) || lower.contains("wrongpass") || lower.contains("password authentication failed")) {
      String why = to.hasPassword() ? "check the password in " + urlKey + " (percent-encode reserved characters such as @ : / ? #)"
          : urlKey + " gives no password: add user:password@ before the host";
      return where + " refused: password authentication failed for user " + to.user()
          + (pg ? "" : " (or the user is disabled)") + "; " + why;
    }
    if (lower.contains("noauth")) {
      return where + " refused: the server requires a password; give it in redis.url (rediss://user:password@host:port)";
    }
    if ("28000".equals(sqlState) && lower.contains("no encryption")) {
      return where + " refused: server requires TLS: set sslmode=require or stricter in postgres.url "
          + "(sslmode=verify-full with sslrootcert also checks the server)";
    }
    if ("28000".equals(sqlState)) {
      return where + " refused the login for user " + to.user() + " (pg_hba.conf): " + pgMessage(chain);
    }
    if ("3D000".equals(sqlState)) {
      return where + " refused: " + pgMessage(chain) + "; check the database name in postgres.url";
    }

    // --- TLS: the handshake itself ---
    if (lower.contains("does not handle ssl connection")) {
      return where + " refused: the server does not offer TLS; enable ssl on the server, or set sslmode=disable in postgres.url";
    }
    if (lower.contains("not an ssl/tls record") || lower.contains("notsslrecordexception")) {
      return where + " refused: the server did not answer in TLS; is this its TLS port? (" + (pg ? "sslmode" : "rediss://")
          + " needs a TLS server)";
    }
    if (any(chain, javax.net.ssl.SSLException.class) || lower.contains("ssl handshake")) {
      return where + " refused: TLS handshake failed (" + redact(deepest(chain)) + ")";
    }

    // --- the network ---
    if (any(chain, UnknownHostException.class)) {
      return where + " unreachable: unknown host " + to.host() + "; check the host in " + urlKey;
    }
    if (lower.contains("connection refused")) {
      return where + " unreachable: connection refused (nothing listens there); check the host and port in " + urlKey;
    }
    if (any(chain, TimeoutException.class) || lower.contains("timed out") || lower.contains("timeout")) {
      return where + " did not answer in time (" + redact(deepest(chain)) + ")"
          + (!pg && !to.tls() ? "; if the server requires TLS, use rediss://" : "");
    }
    if (!pg && !to.tls() && (lower.contains("connection reset") || lower.contains("connection closed")
        || lower.contains("closed the connection"))) {
      return where + " closed the connection (" + redact(deepest(chain)) + "); if the server requires TLS, use rediss://";
    }
    return where + ": " + redact(deepest(chain));
  }

  private static List<Throwable> chain(Throwable err) {
    List<Throwable> out = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = err; t != null && seen.put(t, true) == null; t = t.getCause()) {
      out.add(t);
      for (Throwable s : t.getSuppressed()) if (seen.put(s, true) == null) out.add(s);
    }
    return out;
  }

  private static String messages(List<Throwable> chain) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t : chain) sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
    return sb.toString();
  }

  private static boolean any(List<Throwable> chain, Class<? extends Throwable> type) {
    for (Throwable t : chain) if (type.isInstance(t)) return true;
    return false;
  }

  /** A {@code type} in the chain, or a message containing {@code text} (lower case). */
  private static boolean any(List<Throwable> chain, Class<? extends Throwable> type, String text) {
    if (any(chain, type)) return true;
    for (Throwable t : chain) if (t.getMessage() != null && t.getMessage().toLowerCase(Locale.ROOT).contains(text)) return true;
    return false;
  }

  /** The most specific message in the chain (the last non-empty one). */
  private static String deepest(List<Throwable> chain) {
    String msg = null;
    for (Throwable t : chain) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) msg = t.getMessage();
    }
    return msg == null ? chain.get(0).getClass().getSimpleName() : msg;
  }

  private static String sqlState(List<Throwable> chain) {
    for (Throwable t : chain) if (t instanceof PgException p) return p.getSqlState();
    return null;
  }

  private static String pgMessage(List<Throwable> chain) {
    for (Throwable t : chain) if (t instanceof PgException p && p.getErrorMessage() != null) return redact(p.getErrorMessage());
    return redact(deepest(chain));
  }
}
