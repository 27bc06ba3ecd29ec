package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Row changes in PostgreSQL reach Redis and the subscribed sockets: the capture path end to end. */
class CaptureIT {

  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @Test
  void movingAProductBetweenCategoriesInvalidatesBothAndTellsOnlyTheirSubscribers() {
    // product 10 is in category 1 in the demo data (1 + id % 10)
    assertThat(gw.put("product:10", new JsonObject().put("value", "p10").put("tags", new JsonArray().add("category:1"))).status()).isEqualTo(200);
    gw.put("listing:c1", new JsonObject().put("value", 1).put("tags", new JsonArray().add("category:1")));
    gw.put("listing:c2", new JsonObject().put("value", 2).put("tags", new JsonArray().add("category:2")));
    gw.put("listing:c3", new JsonObject().put("value", 3).put("tags", new JsonArray().add("category:3")));
    try (TestSocket cat2 = gw.socket(); TestSocket cat3 = gw.socket()) {
      cat2.subscribe(new JsonObject().put("tags", new JsonArray().add("category:2")));
      cat3.subscribe(new JsonObject().put("tags", new JsonArray().add("category:3")));

      gw.sql("UPDATE products SET category_id = 2 WHERE id = 10");

      JsonObject f = cat2.next("invalidate");
      assertThat(f.getJsonArray("tags")).containsExactly("category:2");
      assertThat(f.getJsonArray("keys")).isEmpty();
      assertThat(f.getJsonArray("prefixes")).isEmpty();
      assertThat(f.getJsonObject("cause").getString("source")).isEqualTo("db");
      assertThat(f.getJsonObject("cause").getString("table")).isEqualTo("products");
      assertThat(f.getJsonObject("cause").getString("op")).isEqualTo("UPDATE");
      assertThat(gw.exists("product:10")).isFalse();
      assertThat(gw.exists("listing:c1")).isFalse();
      assertThat(gw.exists("listing:c2")).isFalse();
      assertThat(gw.exists("listing:c3")).isTrue();

      // Notices arrive in order, so the next frame each client gets shows what came before it:
      // category:2 had exactly one frame, category:3 none.
      String s2 = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("category:2"))).json().getString("notice");
      String s3 = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("category:3"))).json().getString("notice");
      assertThat(cat2.next("invalidate").getString("id")).isEqualTo(s2);
      assertThat(cat3.next("invalidate").getString("id")).isEqualTo(s3);
      assertThat(f.getString("id")).isLessThan(s2);
    }
  }

  @Test
  void insertUsesTheNewRowAndDeleteTheOldOne() {
    try (TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("user:500:profile").add("user:7:profile")));
      gw.sql("INSERT INTO users (id, name) VALUES (500, 'new')");
      JsonObject ins = s.next("invalidate");
      assertThat(ins.getJsonArray("keys")).containsExactly("user:500:profile");
      assertThat(ins.getJsonObject("cause").getString("op")).isEqualTo("INSERT");
      gw.sql("DELETE FROM users WHERE id = 7");
      JsonObject del = s.next("invalidate");
      assertThat(del.getJsonArray("keys")).containsExactly("user:7:profile");
      assertThat(del.getJsonObject("cause").getString("op")).isEqualTo("DELETE");
    }
  }

  @Test
  void transactionsCommittingInTheOppositeOrderOfTheirOutboxIdsAreBothInvalidated() throws Exception {
    gw.put("product:21", new JsonObject().put("value", 21));
    gw.put("product:22", new JsonObject().put("value", 22));
    try (TestSocket s = gw.socket(); Connection first = gw.jdbc(); Connection second = gw.jdbc()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("product:21").add("product:22")));
      first.setAutoCommit(false);
      second.setAutoCommit(false);
      try (Statement a = first.createStatement(); Statement b = second.createStatement()) {
        a.executeUpdate("UPDATE products SET price = price + 1 WHERE id = 21"); // takes the lower outbox id
        b.executeUpdate("UPDATE products SET price = price + 1 WHERE id = 22"); // a higher one
        if (!TestGateway.walMode()) assertThat(outboxMax(second)).isGreaterThan(outboxMax(first)); // wal mode: no outbox
        second.commit(); // the higher id commits first and is drained first
        assertThat(s.next("invalidate").getJsonArray("keys")).containsExactly("product:22");
        first.commit(); // the lower id arrives after a higher one was already processed
        assertThat(s.next("invalidate").getJsonArray("keys")).containsExactly("product:21");
      }
      assertThat(gw.exists("product:21")).isFalse();
      assertThat(gw.exists("product:22")).isFalse();
    }
  }

  private static long outboxMax(Connection c) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT max(id) FROM cachegate.outbox")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void foreignPayloadsAreMappedAndBadOnesCountedAndSkipped() {
    try (TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("ext:1").add("product:33")));
      long badBefore = gw.gateway.metrics().count("cachegate.capture.bad.payloads");
      gw.sql("SELECT pg_notify('cache_invalidation', 'not json')",
          "SELECT pg_notify('cache_invalidation', '{\"table\":\"nope\",\"id\":1}')",
          "SELECT pg_notify('cache_invalidation', '{\"keys\":[\"ext:1\"]}')",
          "SELECT pg_notify('cache_invalidation', '{\"table\":\"products\",\"operation\":\"update\",\"id\":33,\"category_id\":4}')");
      assertThat(s.next("invalidate").getJsonArray("keys")).containsExactly("ext:1");
      JsonObject mapped = s.next("invalidate");
      assertThat(mapped.getJsonArray("keys")).containsExactly("product:33");
      assertThat(mapped.getJsonObject("cause").getString("table")).isEqualTo("products");
      // notifications of one transaction are delivered in order, so the bad ones were seen before these
      assertThat(gw.gateway.metrics().count("cachegate.capture.bad.payloads")).isEqualTo(badBefore + 2);
    }
  }

  @Test
  void triggersAreInstalledOnceAndReplacedWhenTheirRuleChanges() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(TestGateway.walMode(), "wal mode installs no trigger (WalCaptureIT checks that)");
    List<Long> before = triggerOids();
    assertThat(before).hasSize(2);
    try (TestGateway same = gw.peer(new JsonObject())) {
      assertThat(triggerOids()).as("a restart with the same rules changes nothing").isEqualTo(before);
    }
    JsonObject changed = new JsonObject().put("capture", new JsonObject().put("tables", new JsonObject()
        .put("products", new JsonObject().put("keys", new JsonArray().add("item:{id}:{name}")))));
    try (TestGateway other = gw.peer(changed)) {
      List<Long> after = triggerOids();
      assertThat(after).hasSize(1).doesNotContainAnyElementsOf(before); // products replaced, users dropped
    }
    try (TestGateway back = gw.peer(new JsonObject())) {
      assertThat(triggerOids()).hasSize(2);
    }
  }

  private static List<Long> triggerOids() throws Exception {
    try (Connection c = gw.jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT oid FROM pg_trigger WHERE tgname = 'cachegate_capture' ORDER BY oid")) {
      List<Long> out = new java.util.ArrayList<>();
      while (rs.next()) out.add(rs.getLong(1));
      return out;
    }
  }
}
