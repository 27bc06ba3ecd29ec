package io.cachegate.it;

import io.cachegate.embedded.EmbeddedServices;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real PostgreSQL and Redis of a test run: started once per JVM, on free loopback ports, and
 * stopped by a shutdown hook when the run ends. Each test gets its own database and Redis namespace.
 */
public final class TestServices {

  private static EmbeddedServices services;
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private TestServices() {}

  public static synchronized EmbeddedServices get() {
    if (services == null) {
      try {
        services = EmbeddedServices.start(true);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return services;
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
