package io.cachegate.config;

import io.cachegate.support.ConnectionErrors;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code redis.url} as far as the gateway needs to know it: {@code redis://} or {@code rediss://}
 * (TLS), host, port, the ACL user and whether a password is given
 * ({@code rediss://user:password@host:port}, {@code redis://:password@host}). The Vert.x Redis client
 * reads the URL itself; this is for checking it at start-up and for naming the server in messages.
 */
public final class RedisUrl {

  private static final String KEY = "redis.url";

  private final boolean tls;
  private final String host;
  private final int port;
  private final String user;      // null: none given (Redis's "default" user)
  private final boolean hasPassword;

  private RedisUrl(boolean tls, String host, int port, String user, boolean hasPassword) {
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.user = user;
    this.hasPassword = hasPassword;
  }

  public static RedisUrl parse(String url) {
    boolean tls;
    if (url.startsWith("rediss://")) tls = true;
    else if (url.startsWith("redis://")) tls = false;
    else throw new ConfigException(KEY, "must start with redis:// or rediss://");
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      // the reason without the URL itself, which may hold the password
      throw new ConfigException(KEY, "is not a valid URL (" + e.getReason() + " at index " + e.getIndex()
          + "); percent-encode reserved characters in the password");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new ConfigException(KEY, "names no host (or a password holds a reserved character such as / ? # @: percent-encode it)");
    }
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    String user = null;
    boolean hasPassword = false;
    String info = uri.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      String u = colon < 0 ? info : info.substring(0, colon);
      if (!u.isEmpty()) user = URLDecoder.decode(u, StandardCharsets.UTF_8);
      hasPassword = colon >= 0;
    }
    String query = uri.getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (pair.startsWith("password=")) hasPassword = true;
        if (pair.startsWith("user=") && user == null) user = URLDecoder.decode(pair.substring(5), StandardCharsets.UTF_8);
      }
    }
    return new RedisUrl(tls, host, port, user, hasPassword);
  }

  public boolean tls() {
    return tls;
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

  /** The ACL user, or {@code default} when the URL names none. */
  public String user() {
    return user == null ? "default" : user;
  }

  public boolean hasPassword() {
    return hasPassword;
  }

  /** Who is connected to, for {@link ConnectionErrors#explain}; {@code caFile}: redis.tls.caFile or "". */
  public ConnectionErrors.Endpoint endpoint(String caFile) {
    String trust = !tls ? null : caFile.isEmpty()
        ? "the JVM's default trust store (redis.tls.caFile is not set)" : "the CA in redis.tls.caFile (" + caFile + ")";
    return new ConnectionErrors.Endpoint(ConnectionErrors.REDIS, host, hostPort(), user(), hasPassword, tls, trust, null);
  }
}
