package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The capture triggers fire for every kind of write, and the installer converges: writes under
 * {@code session_replication_role = replica} (pg_restore, bulk loaders, replication subscribers) are
 * captured, and a database left as an earlier version installed it is brought up to date on start.
 */
class SchemaIT {

  @Test
  void anUpdateUnderReplicaRoleIsInvalidated() {
    try (TestGateway gw = TestGateway.start()) {
      gw.put("product:5", new JsonObject().put("value", "p5"));
      try (TestSocket s = gw.socket()) {
        s.subscribe(new JsonObject().put("keys", new JsonArray().add("product:5")));
        gw.sql("SET session_replication_role = replica", "UPDATE products SET price = price + 1 WHERE id = 5");
        JsonObject f = s.next("invalidate");
        assertThat(f.getJsonArray("keys")).containsExactly("product:5");
        assertThat(f.getJsonObject("cause").getString("op")).isEqualTo("UPDATE");
      }
      assertThat(gw.exists("product:5")).isFalse();
    }
  }

  @Test
  void anApplicationRoleWithNoGrantOnTheCachegateSchemaWritesAndIsCaptured() {
    try (TestGateway gw = TestGateway.start()) {
      String role = "app_" + gw.namespace.replace(":", "");
      gw.sql("CREATE ROLE " + role, "GRANT SELECT, UPDATE, TRUNCATE ON products TO " + role);
      gw.put("product:8", new JsonObject().put("value", "p8"));
      gw.put("product:9", new JsonObject().put("value", "p9"));
      try {
        gw.sql("SET ROLE " + role, "UPDATE products SET price = price + 1 WHERE id = 8");
        Await.until("the application role's update invalidated", 10_000, () -> !gw.exists("product:8"));
        gw.sql("SET ROLE " + role, "TRUNCATE products");
        Await.until("the application role's TRUNCATE invalidated", 10_000, () -> !gw.exists("product:9"));
      } finally {
        gw.sql("DROP OWNED BY " + role, "DROP ROLE " + role);
      }
    }
  }

  @Test
  void rowsLoadedWithCopyAreCaptured() throws Exception {
    try (TestGateway gw = TestGateway.start()) {
      gw.put("product:501", new JsonObject().put("value", "cached before the bulk load"));
      gw.put("listing:c9", new JsonObject().put("value", 9).put("tags", new JsonArray().add("category:9")));
      try (Connection c = gw.jdbc()) {
        long rows = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(
            "COPY products (id, name, price, category_id) FROM STDIN WITH (FORMAT csv)",
            new java.io.StringReader("501,Bulk 501,1.5,9\n502,Bulk 502,2.5,9\n"));
        assertThat(rows).isEqualTo(2);
      }
      Await.until("the COPYed rows invalidated their key and tag", 10_000, () -> !gw.exists("product:501") && !gw.exists("listing:c9"));
    }
  }

  @Test
  void anInstallationOfTheEarlierVersionConvergesOnRestart() throws Exception {
    String db = TestServices.newDatabase();
    try (TestGateway first = TestGateway.start(new JsonObject(), Map.of(), db)) {
      assertThat(triggers(first)).containsEntry("cachegate_capture", "A").containsEntry("cachegate_capture_truncate", "A");
      // put the database back to what version 0.1 left: one row trigger, ordinary mode, no TRUNCATE trigger
      first.sql(Files.readString(Path.of("src/test/resources/install-0.1-products.sql")));
      assertThat(triggers(first)).containsOnly(Map.entry("cachegate_capture", "O"));
    }
    try (TestGateway gw = TestGateway.start(new JsonObject(), Map.of(), db)) {
      assertThat(triggers(gw)).containsOnly(Map.entry("cachegate_capture", "A"), Map.entry("cachegate_capture_truncate", "A"));
      gw.put("product:6", new JsonObject().put("value", "p6"));
      gw.put("product:7", new JsonObject().put("value", "p7"));
      gw.sql("SET session_replication_role = replica", "UPDATE products SET price = price + 1 WHERE id = 6");
      Await.until("the replica-role update invalidated", 10_000, () -> !gw.exists("product:6"));
      gw.sql("TRUNCATE products");
      Await.until("the TRUNCATE invalidated", 10_000, () -> !gw.exists("product:7"));
    }
  }

  @Test
  void aTriggerDisabledByHandIsReportedAndEnabledAgainOnStart() {
    String db = TestServices.newDatabase();
    try (TestGateway first = TestGateway.start(new JsonObject(), Map.of(), db)) {
      first.sql("ALTER TABLE products DISABLE TRIGGER cachegate_capture");
      assertThat(triggers(first)).containsEntry("cachegate_capture", "D");
      // the running gateway notices within a status interval: /health and a gauge say so
      Await.until("/health to name the disabled trigger", 10_000, () -> first.call("GET", "/health", null).json()
          .getJsonObject("postgres").getJsonArray("inactiveTriggers").contains("products cachegate_capture"));
      assertThat(first.call("GET", "/metrics", null).body()).contains("cachegate_capture_triggers_inactive 1.0");
      first.sql("ALTER TABLE products ENABLE ALWAYS TRIGGER cachegate_capture");
      Await.until("/health to show every trigger back", 10_000, () -> first.call("GET", "/health", null).json()
          .getJsonObject("postgres").getJsonArray("inactiveTriggers").isEmpty());
      first.sql("ALTER TABLE products DISABLE TRIGGER cachegate_capture");
    }
    try (TestGateway gw = TestGateway.start(new JsonObject(), Map.of(), db)) {
      assertThat(triggers(gw)).containsEntry("cachegate_capture", "A");
    }
  }

  @Test
  void aRestartRewritesNothingAndAFunctionThatIsNoLongerSecurityDefinerIsPutRight() {
    String db = TestServices.newDatabase();
    String objects = "SELECT string_agg(x, ',' ORDER BY x) FROM ("
        + " SELECT 'trigger ' || tgname || ' ' || oid || ' ' || xmin AS x FROM pg_trigger WHERE tgname LIKE 'cachegate%'"
        + " UNION ALL SELECT 'function ' || proname || ' ' || oid || ' ' || xmin FROM pg_proc WHERE proname LIKE 'capture__%') o";
    String before;
    try (TestGateway first = TestGateway.start(new JsonObject(), Map.of(), db)) {
      before = one(first, objects);
    }
    try (TestGateway second = TestGateway.start(new JsonObject(), Map.of(), db)) {
      assertThat(one(second, objects)).as("no trigger or function rewritten (same oid and xmin)").isEqualTo(before);
      second.sql("ALTER FUNCTION cachegate.capture__products() SECURITY INVOKER RESET search_path");
    }
    try (TestGateway third = TestGateway.start(new JsonObject(), Map.of(), db)) {
      assertThat(one(third, "SELECT prosecdef::text || ' ' || array_to_string(proconfig, ';') FROM pg_proc WHERE proname = 'capture__products'"))
          .isEqualTo("true search_path=pg_catalog, pg_temp");
    }
  }

  private static String one(TestGateway gw, String query) {
    try (Connection c = gw.jdbc(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(query)) {
      r.next();
      return r.getString(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The cachegate triggers on products: name -> tgenabled (O origin, A always, D disabled, R replica). */
  private static Map<String, String> triggers(TestGateway gw) {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = gw.jdbc(); Statement s = c.createStatement();
         ResultSet r = s.executeQuery("SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'products'::regclass AND tgname LIKE 'cachegate%'")) {
      while (r.next()) out.put(r.getString(1), r.getString(2));
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }
}
