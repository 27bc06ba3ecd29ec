package io.cachegate.embedded;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

/**
 * The demo tables of the README, created in the default mode only: {@code users} and
 * {@code products}, 100 rows each (ids 1 to 100). Idempotent: existing tables and rows are kept.
 */
public final class DemoSchema {

  private DemoSchema() {}

  public static Future<Void> create(Pool pool) {
    return pool.withTransaction(c -> c.query("""
            CREATE TABLE IF NOT EXISTS users (
              id bigint PRIMARY KEY, name text, email text, department_id bigint)""").execute()
        .compose(v -> c.query("""
            CREATE TABLE IF NOT EXISTS products (
              id bigint PRIMARY KEY, name text, price numeric, category_id bigint)""").execute())
        .compose(v -> c.query("""
            INSERT INTO users (id, name, email, department_id)
            SELECT i, 'User ' || i, 'user' || i || '@example.com', 1 + i % 10 FROM generate_series(1, 100) i
            ON CONFLICT (id) DO NOTHING""").execute())
        .compose(v -> c.query("""
            INSERT INTO products (id, name, price, category_id)
            SELECT i, 'Product ' || i, round((5 + i * 1.25)::numeric, 2), 1 + i % 10 FROM generate_series(1, 100) i
            ON CONFLICT (id) DO NOTHING""").execute())
        .mapEmpty());
  }
}
