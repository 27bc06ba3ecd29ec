package io.cachegate.api;

import io.cachegate.model.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * The demo's data source ({@code demo.enabled}, on in the embedded default mode): the products table
 * read straight from PostgreSQL, and a button's endpoint that changes a price. The change reaches the
 * demo page the way any change does: trigger, outbox, notice, WebSocket.
 */
final class DemoApi {

  private final Pool pool;

  DemoApi(Vertx vertx, String postgresUrl) {
    this.pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2).setName("cachegate-demo"))
        .connectingTo(io.cachegate.config.PostgresUrl.parse(postgresUrl).connectOptions()).using(vertx).build();
  }

  Future<Void> close() {
    return pool.close();
  }

  void products(RoutingContext ctx) {
    pool.query("SELECT id, name, price::float8 AS price, category_id FROM products ORDER BY id LIMIT 100").execute()
        .onSuccess(rows -> {
          JsonArray list = new JsonArray();
          for (Row r : rows) list.add(product(r));
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
              .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
          RestApi.end(ctx, new JsonObject().put("products", list).encode());
        })
        .onFailure(err -> ctx.fail(unavailable(err)));
  }

  void bump(RoutingContext ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("id must be a whole number");
    }
    pool.preparedQuery("UPDATE products SET price = price + 1 WHERE id = $1 RETURNING id, name, price::float8 AS price, category_id")
        .execute(Tuple.of(id))
        .onSuccess(rows -> {
          if (rows.size() == 0) {
            ctx.fail(new ApiError(ErrorCode.NOT_FOUND, "no product " + id));
            return;
          }
          ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(product(rows.iterator().next()).encode());
        })
        .onFailure(err -> ctx.fail(unavailable(err)));
  }

  /** PostgreSQL did not answer: a 503 to retry, like Redis being away on the other routes, never a 500. */
  private static ApiError unavailable(Throwable err) {
    org.slf4j.LoggerFactory.getLogger(DemoApi.class).debug("demo query failed: {}", err.getMessage());
    return new ApiError(ErrorCode.UNAVAILABLE, "PostgreSQL did not answer the demo's query; retry later");
  }

  private static JsonObject product(Row r) {
    return new JsonObject().put("id", r.getLong("id")).put("name", r.getString("name"))
        .put("price", r.getDouble("price")).put("category_id", r.getLong("category_id"));
  }
}
