package io.cachegate.config;

import io.cachegate.support.ConnectionErrors;
import io.cachegate.support.TlsRefusals;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code postgres.url}, read the way libpq reads a connection URI:
 * {@code postgresql://[user[:password]@]host[:port][/dbname][?param=value&...]}, user, password and
 * every value percent-decoded. Parameters: {@code sslmode} ({@code disable}, the default here;
 * {@code require}; {@code verify-ca}; {@code verify-full}), {@code sslrootcert} (a PEM file, or
 * {@code system} for the JVM's trust store), {@code user}, {@code password}, {@code dbname},
 * {@code application_name}. Anything else, {@code prefer} and {@code allow} included, is refused with
 * a {@link ConfigException} naming {@code postgres.url} and the parameter (docs/operations.md, "TLS
 * and credentials", says why). Messages never repeat the password.
 *
 * <p>What each mode asks of the connection, as in libpq: {@code require} encrypts without checking
 * the certificate, unless {@code sslrootcert} is given, in which case the chain is checked as with
 * {@code verify-ca}; {@code verify-ca} checks the chain, not the host name; {@code verify-full} checks
 * both. Without {@code sslrootcert}, {@code verify-ca} and {@code verify-full} trust the JVM's default
 * trust store.
 */
public final class PostgresUrl {

  /** The sslmode values the gateway honours. */
  public enum Mode {
    DISABLE("disable"), REQUIRE("require"), VERIFY_CA("verify-ca"), VERIFY_FULL("verify-full");

    public final String value;

    Mode(String value) {
      this.value = value;
    }
  }

  private static final String KEY = "postgres.url";
  /** {@code sslrootcert=system}: the JVM's default trust store (libpq 16's spelling for the system CAs). */
  public static final String SYSTEM = "system";
  private static final List<String> PARAMETERS = List.of("sslmode", "sslrootcert", "user", "password", "dbname", "application_name");

  private final String host;
  private final int port;
  private final String user;
  private final String password;      // null: none given
  private final String database;
  private final Mode mode;
  private final String rootCert;      // absolute path, SYSTEM, or null
  private final String applicationName;
  private final TlsRefusals refusals = new TlsRefusals();

  private PostgresUrl(String host, int port, String user, String password, String database, Mode mode, String rootCert,
                      String applicationName) {
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.database = database;
    this.mode = mode;
    this.rootCert = rootCert;
    this.applicationName = applicationName;
  }

  /** Parses and checks {@code url} (an {@code sslrootcert} file must exist and hold PEM certificates). */
  public static PostgresUrl parse(String url) {
    String rest;
    if (url.startsWith("postgresql://")) rest = url.substring("postgresql://".length());
    else if (url.startsWith("postgres://")) rest = url.substring("postgres://".length());
    else throw new ConfigException(KEY, "must start with postgresql://");
    if (rest.indexOf('#') >= 0) throw new ConfigException(KEY, "must not contain '#' (percent-encode it as %23)");

    // the user info runs to the last '@': a password someone forgot to percent-encode ('/', '?', '&',
    // '@' in it) then still ends up in the password, not in the host, port or parameters, where the
    // messages below would repeat it
    String userInfo = null;
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      userInfo = rest.substring(0, at);
      rest = rest.substring(at + 1);
    }
    String query = null;
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    String path = null;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      path = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }

    String user = null;
    String password = null;
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), "the user name");
      if (colon >= 0) password = decode(userInfo.substring(colon + 1), "the password");
      if (user.isEmpty()) user = null;
    }

    if (rest.contains(",")) throw new ConfigException(KEY, "names several hosts; give exactly one host");
    String host;
    int port = 5432;
    String portText = null;
    if (rest.startsWith("[")) {
      int end = rest.indexOf(']');
      if (end < 0) throw new ConfigException(KEY, "has an IPv6 address without its closing ']'");
      host = rest.substring(1, end);
      String after = rest.substring(end + 1);
      if (!after.isEmpty()) {
        if (!after.startsWith(":")) throw new ConfigException(KEY, "has something other than :port after the IPv6 address");
        portText = after.substring(1);
      }
    } else {
      int colon = rest.lastIndexOf(':');
      host = colon < 0 ? rest : rest.substring(0, colon);
      if (colon >= 0) portText = rest.substring(colon + 1);
      host = decode(host, "the host");
    }
    if (host.isEmpty()) throw new ConfigException(KEY, "names no host (Unix-domain sockets are not supported): postgresql://user:password@host:5432/db");
    if (portText != null) {
      if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
        throw new ConfigException(KEY, "port '" + portText + "' is not a number from 1 to 65535");
      }
      port = Integer.parseInt(portText);
    }
    String database = path == null || path.isEmpty() ? null : decode(path, "the database name");

    Map<String, String> params = new LinkedHashMap<>();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&", -1)) {
        if (pair.isEmpty()) continue;
        int eq = pair.indexOf('=');
        if (eq <= 0) throw new ConfigException(KEY, "parameter '" + pair.split("=")[0] + "' has no value (name=value)");
        String name = decode(pair.substring(0, eq), "a parameter name");
        String value = decode(pair.substring(eq + 1), "parameter " + name);
        if (!PARAMETERS.contains(name)) {
          throw new ConfigException(KEY, "parameter '" + name + "' is not supported (supported: " + String.join(", ", PARAMETERS) + ")");
        }
        if (params.put(name, value) != null) throw new ConfigException(KEY, "parameter '" + name + "' is given twice");
      }
    }
    if (params.containsKey("user")) {
      if (user != null) throw new ConfigException(KEY, "gives the user twice (before @ and as parameter 'user')");
      user = params.get("user");
    }
    if (params.containsKey("password")) {
      if (password != null) throw new ConfigException(KEY, "gives the password twice (before @ and as parameter 'password')");
      password = params.get("password");
    }
    if (params.containsKey("dbname")) {
      if (database != null) throw new ConfigException(KEY, "gives the database twice (as /path and as parameter 'dbname')");
      database = params.get("dbname");
    }
    if (user == null || user.isEmpty()) user = System.getProperty("user.name", "postgres"); // libpq: the OS user
    if (database == null || database.isEmpty()) database = user;                         // libpq: the user name

    String rootCert = params.get("sslrootcert");
    String modeText = params.get("sslmode");
    Mode mode;
    if (modeText == null) {
      if (SYSTEM.equals(rootCert)) mode = Mode.VERIFY_FULL; // as libpq 16: sslrootcert=system implies verify-full
      else if (rootCert != null) {
        throw new ConfigException(KEY, "parameter 'sslrootcert' is given without 'sslmode': add sslmode=verify-full "
            + "(or verify-ca) so the certificate is checked");
      } else mode = Mode.DISABLE;
    } else {
      mode = mode(modeText);
    }
    if (rootCert != null) {
      if (rootCert.isEmpty()) throw new ConfigException(KEY, "parameter 'sslrootcert' is empty");
      if (mode == Mode.DISABLE) {
        throw new ConfigException(KEY, "parameter 'sslrootcert' is given but sslmode is disable (no TLS): "
            + "use sslmode=verify-full, or remove sslrootcert");
      }
      if (SYSTEM.equals(rootCert)) {
        if (mode != Mode.VERIFY_FULL) {
          throw new ConfigException(KEY, "sslrootcert=system needs sslmode=verify-full (as in libpq)");
        }
      } else {
        rootCert = CaFile.check(rootCert, KEY, "sslrootcert");
      }
    }
    String app = params.get("application_name");
    return new PostgresUrl(host, port, user, password, database, mode, rootCert, app == null || app.isEmpty() ? null : app);
  }

  private static Mode mode(String text) {
    String v = text.toLowerCase(Locale.ROOT);
    for (Mode m : Mode.values()) if (m.value.equals(v)) return m;
    if (v.equals("prefer") || v.equals("allow")) {
      throw new ConfigException(KEY, "sslmode=" + v + " is not supported: it falls back without a word between TLS and "
          + "plain text and never checks the certificate; use sslmode=verify-full (or require, verify-ca), or sslmode=disable");
    }
    throw new ConfigException(KEY, "parameter 'sslmode' is '" + text + "'; use disable, require, verify-ca or verify-full");
  }

  /** Strict percent-decoding (UTF-8; '+' stays '+', as in a URI). */
  private static String decode(String s, String what) {
    if (s.indexOf('%') < 0) return s;
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
        int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
        if (hi < 0 || lo < 0) throw new ConfigException(KEY, what + " has a '%' not followed by two hex digits (write a literal % as %25)");
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * Fresh options for the Vert.x PostgreSQL client, TLS settings included; copies made with
   * {@code new PgConnectOptions(options)} keep them (sslmode and the SSL options are copied).
   */
  public PgConnectOptions connectOptions() {
    PgConnectOptions o = new PgConnectOptions()
        .setHost(host).setPort(port).setUser(user).setDatabase(database)
        // without a password the server's password request gets an empty one (and a clear refusal);
        // Vert.x's own default would be "pass"
        .setPassword(password == null ? "" : password);
    o.addProperty("application_name", applicationName == null ? "cachegate" : applicationName);
    switch (mode) {
      case DISABLE -> o.setSslMode(SslMode.DISABLE);
      case REQUIRE -> {
        if (rootCert == null) {
          // libpq's require: encrypted, certificate not checked
          o.setSslMode(SslMode.REQUIRE).setSslOptions(new ClientSSLOptions().setTrustAll(true).setHostnameVerificationAlgorithm(""));
        } else {
          // libpq's require with a root certificate: the chain is checked, as verify-ca
          o.setSslMode(SslMode.VERIFY_CA).setSslOptions(new ClientSSLOptions().setTrustOptions(trust()).setHostnameVerificationAlgorithm(""));
        }
      }
      case VERIFY_CA -> o.setSslMode(SslMode.VERIFY_CA)
          .setSslOptions(new ClientSSLOptions().setTrustOptions(trust()).setHostnameVerificationAlgorithm(""));
      case VERIFY_FULL -> o.setSslMode(SslMode.VERIFY_FULL)
          .setSslOptions(new ClientSSLOptions().setTrustOptions(trust()).setHostnameVerificationAlgorithm("HTTPS"));
    }
    return o;
  }

  /** The JDBC URL (pgjdbc) of this server and database, for the replication connection. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + hostPort() + "/" + java.net.URLEncoder.encode(database, java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * pgjdbc connection properties with the same credentials and TLS settings as {@link #connectOptions()}:
   * libpq's {@code require} with a root certificate checks the chain (pgjdbc's verify-ca), and without a
   * root certificate file the JVM's trust store is used (pgjdbc's DefaultJavaSSLFactory), as for the
   * Vert.x client. {@code applicationName} names the session in pg_stat_activity.
   */
  public java.util.Properties jdbcProperties(String applicationName) {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("user", user);
    p.setProperty("password", password == null ? "" : password);
    p.setProperty("ApplicationName", applicationName);
    p.setProperty("connectTimeout", "10");
    p.setProperty("tcpKeepAlive", "true");
    switch (mode) {
      case DISABLE -> p.setProperty("sslmode", "disable");
      case REQUIRE -> p.setProperty("sslmode", rootCert == null ? "require" : "verify-ca");
      case VERIFY_CA -> p.setProperty("sslmode", "verify-ca");
      case VERIFY_FULL -> p.setProperty("sslmode", "verify-full");
    }
    if (mode != Mode.DISABLE && (mode != Mode.REQUIRE || rootCert != null)) {
      if (rootCert == null || SYSTEM.equals(rootCert)) p.setProperty("sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory");
      else p.setProperty("sslrootcert", rootCert);
    }
    return p;
  }

  /**
   * The sslrootcert file's CAs, else the JVM's default trust store (cacerts, or javax.net.ssl.trustStore);
   * wrapped so a refused certificate is remembered for the message (see {@link TlsRefusals}).
   */
  private TrustOptions trust() {
    KeyStore store = rootCert != null && !SYSTEM.equals(rootCert) ? CaFile.keyStore(rootCert, KEY, "sslrootcert") : null;
    return refusals.trust(TlsRefusals.factory(store));
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** {@code host:port}, an IPv6 address in brackets. */
  public String hostPort() {
    return ConnectionErrors.hostPort(host, port);
  }

  public String user() {
    return user;
  }

  public String database() {
    return database;
  }

  public Mode mode() {
    return mode;
  }

  /** The sslrootcert file (absolute), {@link #SYSTEM}, or null. */
  public String rootCert() {
    return rootCert;
  }

  public boolean hasPassword() {
    return password != null;
  }

  /** Who is connected to, for {@link ConnectionErrors#explain}. */
  public ConnectionErrors.Endpoint endpoint() {
    String trust = switch (mode) {
      case DISABLE -> null;
      case REQUIRE -> rootCert == null ? null : "the CA in sslrootcert (" + rootCert + ")";
      case VERIFY_CA, VERIFY_FULL -> rootCert == null || SYSTEM.equals(rootCert)
          ? "the JVM's default trust store (no sslrootcert given)" : "the CA in sslrootcert (" + rootCert + ")";
    };
    return new ConnectionErrors.Endpoint(ConnectionErrors.POSTGRES, host, hostPort(), user, password != null, mode != Mode.DISABLE, trust,
        refusals);
  }

  @Override
  public String toString() {
    return "postgresql://" + user + (password == null ? "" : ":***") + "@" + hostPort() + "/" + database
        + "?sslmode=" + mode.value + (rootCert == null ? "" : "&sslrootcert=" + rootCert);
  }
}
