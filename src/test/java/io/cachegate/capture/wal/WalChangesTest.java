package io.cachegate.capture.wal;

import io.cachegate.capture.wal.PgOutputTest.Msg;
import io.cachegate.capture.wal.WalChanges.Change;
import io.cachegate.capture.wal.WalChanges.Transaction;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Map;

import static io.cachegate.capture.wal.PgOutputTest.UNCHANGED;
import static io.cachegate.capture.wal.PgOutputTest.relation;
import static org.assertj.core.api.Assertions.assertThat;

/** From decoded messages to committed transactions of watched rows, shaped as the outbox shapes them. */
class WalChangesTest {

  final WalChanges changes = new WalChanges(Map.of("public.products", "products", "shop.orders", "shop.orders"), 3);

  Transaction feed(ByteBuffer... messages) {
    Transaction out = null;
    for (ByteBuffer b : messages) {
      Transaction t = changes.accept(PgOutput.decode(b));
      if (t != null) out = t;
    }
    return out;
  }

  static ByteBuffer begin() {
    return new Msg('B').i64(100).i64(0).i32(1).buffer();
  }

  static ByteBuffer commit(long end) {
    return new Msg('C').b(0).i64(end - 8).i64(end).i64(0).buffer();
  }

  ByteBuffer products() {
    return relation(1, "public", "products", 'f', "id", 20, true, "category_id", 23, false, "on_sale", 16, false,
        "price", 1700, false, "body", 25, false);
  }

  @Test
  void aCommittedTransactionCarriesItsWatchedRowsAndItsEndPosition() {
    Transaction t = feed(products(), relation(2, "public", "audit", 'd', "id", 20, true), begin(),
        new Msg('I').i32(1).b('N').tuple("10", "3", "t", "9.50", "long text").buffer(),
        new Msg('I').i32(2).b('N').tuple("1").buffer(), // not watched
        new Msg('U').i32(1).b('O').tuple("10", "3", "t", "9.50", "long text").b('N').tuple("10", "4", "f", "9.50", UNCHANGED).buffer());
    assertThat(t).isNull();
    assertThat(changes.inTransaction()).isTrue();
    t = feed(commit(500));
    assertThat(changes.inTransaction()).isFalse();
    assertThat(t.endLsn()).isEqualTo(500);
    assertThat(t.changes()).hasSize(2);
    Change ins = t.changes().get(0);
    assertThat(ins.op()).isEqualTo("INSERT");
    // the JSON values the trigger's jsonb_build_object gives: numbers, booleans
    assertThat(ins.newRow()).isEqualTo(new JsonObject().put("id", 10L).put("category_id", 3L).put("on_sale", true).put("price", 9.5).put("body", "long text"));
    Change upd = t.changes().get(1);
    assertThat(upd.oldRow().getLong("category_id")).isEqualTo(3L);
    assertThat(upd.newRow().getLong("category_id")).isEqualTo(4L);
    // the unchanged TOAST value is the old row's, never the placeholder
    assertThat(upd.newRow().getString("body")).isEqualTo("long text");
  }

  @Test
  void anUnchangedToastValueWithoutAnOldRowIsLeftOut() {
    Transaction t = feed(products(), begin(),
        new Msg('U').i32(1).b('N').tuple("10", "4", "f", "1", UNCHANGED).buffer(), commit(600));
    assertThat(t.changes().get(0).oldRow()).isNull();
    assertThat(t.changes().get(0).newRow().containsKey("body")).isFalse();
  }

  @Test
  void aTransactionWithoutWatchedRowsGivesNothing() {
    assertThat(feed(relation(2, "public", "audit", 'd', "id", 20, true), begin(), new Msg('I').i32(2).b('N').tuple("1").buffer(), commit(700))).isNull();
  }

  @Test
  void tablesOutsideTheSearchPathAreMatchedBySchema() {
    Transaction t = feed(relation(3, "shop", "orders", 'd', "id", 20, true), begin(),
        new Msg('D').i32(3).b('K').tuple("5").buffer(), commit(800));
    assertThat(t.changes()).containsExactly(new Change("shop.orders", "DELETE", new JsonObject().put("id", 5L), null));
  }

  @Test
  void truncateAndBulkChangesBecomeOneTableWideInvalidation() {
    Transaction t = feed(products(), begin(),
        new Msg('I').i32(1).b('N').tuple("1", "1", "t", "1", "a").buffer(),
        new Msg('T').i32(1).b(0).i32(1).buffer(),
        new Msg('I').i32(1).b('N').tuple("2", "1", "t", "1", "a").buffer(), commit(900));
    assertThat(t.changes()).containsExactly(new Change("products", "TRUNCATE", null, null));

    // more than maxRowsPerTable (3) rows of one table in one transaction: memory stays bounded
    t = feed(begin(),
        new Msg('I').i32(1).b('N').tuple("1", "1", "t", "1", "a").buffer(),
        new Msg('I').i32(1).b('N').tuple("2", "1", "t", "1", "a").buffer(),
        new Msg('I').i32(1).b('N').tuple("3", "1", "t", "1", "a").buffer(),
        new Msg('I').i32(1).b('N').tuple("4", "1", "t", "1", "a").buffer(), commit(1000));
    assertThat(t.changes()).containsExactly(new Change("products", "TRUNCATE", null, null));
  }

  @Test
  void valuesAreRenderedAsToJsonbRendersThem() {
    assertThat(WalChanges.value(16, "f")).isEqualTo(false);
    assertThat(WalChanges.value(20, "9007199254740993")).isEqualTo(9007199254740993L);
    assertThat(WalChanges.value(1700, "NaN")).isEqualTo("NaN");
    assertThat(WalChanges.value(1700, "9007199254740993")).isEqualTo(9007199254740993L); // not rounded through a double
    assertThat(WalChanges.value(1700, "123456789012345678901234567890")).isEqualTo(new java.math.BigInteger("123456789012345678901234567890"));
    assertThat(WalChanges.value(1700, "9.50")).isEqualTo(9.5);
    assertThat(WalChanges.value(1114, "2026-12-01 10:00:00.5")).isEqualTo("2026-12-01T10:00:00.5");
    assertThat(WalChanges.value(1184, "2026-12-01 10:00:00+00")).isEqualTo("2026-12-01T10:00:00+00:00");
    assertThat(WalChanges.value(1184, "2026-12-01 10:00:00+05:30")).isEqualTo("2026-12-01T10:00:00+05:30");
    assertThat(WalChanges.value(3802, "{\"a\": 1}")).isEqualTo(new JsonObject().put("a", 1));
    assertThat(WalChanges.value(2950, "0e8f0c3a-6d1c-4c50-9c1c-0c0f3e5b7a11")).isEqualTo("0e8f0c3a-6d1c-4c50-9c1c-0c0f3e5b7a11");
  }
}
