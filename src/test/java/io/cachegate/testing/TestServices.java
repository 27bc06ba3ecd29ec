package io.cachegate.testing;

import io.cachegate.embedded.EmbeddedServices;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipFile;

/**
 * The real PostgreSQL and Redis of a test run: started once per JVM, on free loopback ports, and
 * stopped by a shutdown hook when the run ends. Each test gets its own database and Redis namespace.
 *
 * <p>Which servers is the test leg's choice (pom.xml runs two legs in one {@code mvn test}):
 * {@code cachegate.test.postgresBinaries} names a zonky binaries jar (PostgreSQL 14 for the oldest
 * leg; unset: the class path's, PostgreSQL 18), {@code cachegate.test.redis} is {@code embedded}
 * (Redis 6.2, the library's), {@code redis-server} (the machine's: Debian's Redis 7) or {@code cluster}
 * (a Redis Cluster of Debian's Redis 7: 3 masters, 1 replica each).
 */
public final class TestServices {

  private static Servers servers;
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private TestServices() {}

  /** The servers of this run, with the versions they really are (read from them, not assumed). */
  public static final class Servers {
    private final EmbeddedPostgres postgres;
    private final RedisServer embeddedRedis;
    private final RedisServerProcess redisProcess;
    private final RedisCluster redisCluster;
    private final int redisPort;
    public final String postgresVersion;
    public final String redisVersion;

    private Servers(EmbeddedPostgres postgres, RedisServer embeddedRedis, RedisServerProcess redisProcess, RedisCluster cluster,
                    int redisPort) {
      this.postgres = postgres;
      this.embeddedRedis = embeddedRedis;
      this.redisProcess = redisProcess;
      this.redisCluster = cluster;
      this.redisPort = redisPort;
      this.postgresVersion = queryVersion();
      this.redisVersion = redisVersion(redisPort);
    }

    public String redisUrl() {
      return "redis://127.0.0.1:" + redisPort;
    }

    /** The cluster of this leg, or null. */
    public RedisCluster cluster() {
      return redisCluster;
    }

    /** This leg runs on a Redis Cluster ({@code cachegate.test.redis=cluster}): gateways get redis.mode cluster. */
    public boolean redisCluster() {
      return redisCluster != null;
    }

    public int postgresPort() {
      return postgres.getPort();
    }

    /** PostgreSQL's server_version_num / 10000: 14, 18, ... */
    public int postgresMajor() {
      return Integer.parseInt(postgresVersion.split("\\.")[0]);
    }

    private String queryVersion() {
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres", "postgres", "");
           Statement s = c.createStatement(); ResultSet r = s.executeQuery("SHOW server_version")) {
        r.next();
        return r.getString(1).split(" ")[0];
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    /** redis_version from INFO, over a plain socket (no client needed). */
    private static String redisVersion(int port) {
      try (java.net.Socket so = new java.net.Socket("127.0.0.1", port)) {
        so.setSoTimeout(5000);
        so.getOutputStream().write("INFO server\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(so.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("redis_version:")) return line.substring("redis_version:".length()).trim();
        }
        throw new IllegalStateException("no redis_version in INFO");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void stop() {
      try {
        if (embeddedRedis != null && embeddedRedis.isActive()) embeddedRedis.stop();
      } catch (IOException ignored) {
        // the run is ending
      }
      if (redisProcess != null) redisProcess.close();
      if (redisCluster != null) redisCluster.close();
      try {
        postgres.close();
      } catch (IOException ignored) {
        // the run is ending
      }
    }
  }

  public static synchronized Servers get() {
    if (servers == null) {
      try {
        servers = start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Servers s = servers;
      Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "test-services-stop"));
      System.out.println("test leg " + System.getProperty("cachegate.test.leg", "(none)") + ": PostgreSQL "
          + s.postgresVersion + ", Redis " + s.redisVersion);
    }
    return servers;
  }

  /** A PostgreSQL of this leg's version, for a test that needs one of its own (TLS, restarts). */
  public static EmbeddedPostgres.Builder postgresBuilder() {
    EmbeddedPostgres.Builder b = EmbeddedServices.postgresBuilder();
    String binaries = System.getProperty("cachegate.test.postgresBinaries", "");
    if (!binaries.isEmpty()) b.setPgBinaryResolver((system, arch) -> binariesFrom(Path.of(binaries), system, arch));
    return b;
  }

  private static Servers start() throws IOException {
    EmbeddedPostgres pg = postgresBuilder().start();
    try {
      String which = System.getProperty("cachegate.test.redis", "embedded");
      if ("redis-server".equals(which)) {
        RedisServerProcess p = RedisServerProcess.plain();
        return new Servers(pg, null, p, null, p.port);
      }
      if ("cluster".equals(which)) { // 3 masters with a replica each, Debian's redis-server
        RedisCluster c = new RedisCluster(3, 1);
        return new Servers(pg, null, null, c, c.nodes.get(0).port);
      }
      int port = RedisServerProcess.freePort();
      RedisServer redis = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
          .setting("save \"\"").setting("appendonly no").onShutdownForceStop(false).build();
      redis.start();
      return new Servers(pg, redis, null, null, port);
    } catch (RuntimeException | IOException e) {
      pg.close();
      throw e;
    }
  }

  /** The .txz inside a zonky binaries jar (the dependency plugin copies it into target/pg-binaries). */
  private static InputStream binariesFrom(Path jar, String system, String arch) throws IOException {
    if (!Files.isRegularFile(jar)) throw new IOException("PostgreSQL binaries " + jar + " missing: run mvn test (process-test-resources copies them)");
    ZipFile zip = new ZipFile(jar.toFile());
    var entry = zip.getEntry("postgres-" + system.toLowerCase(java.util.Locale.ROOT) + "-" + arch + ".txz");
    if (entry == null) {
      zip.close();
      throw new IOException(jar + " has no binaries for " + system + "-" + arch);
    }
    InputStream in = zip.getInputStream(entry);
    return new java.io.FilterInputStream(in) {
      @Override
      public void close() throws IOException {
        super.close();
        zip.close();
      }
    };
  }

  /** A fresh, empty database; its URL. */
  public static String newDatabase() {
    String name = "t" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), "postgres", "");
         Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return "postgresql://127.0.0.1:" + get().postgresPort() + "/" + name + "?user=postgres";
  }

  /** Runs statements as the superuser on a database given by its gateway URL (tables a test starts from). */
  public static void sql(String postgresUrl, String... statements) {
    try (Connection c = DriverManager.getConnection(jdbcUrlOf(postgresUrl), "postgres", ""); Statement s = c.createStatement()) {
      for (String st : statements) s.execute(st);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String uniqueNamespace() {
    return "t" + ProcessHandle.current().pid() + "x" + COUNTER.incrementAndGet() + ":";
  }

  public static String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + get().postgresPort() + "/" + database;
  }

  /** The JDBC URL for a gateway's {@code postgresql://host:port/db?user=..} URL (any server). */
  public static String jdbcUrlOf(String postgresUrl) {
    String rest = postgresUrl.substring("postgresql://".length());
    int q = rest.indexOf('?');
    return "jdbc:postgresql://" + (q < 0 ? rest : rest.substring(0, q));
  }
}
