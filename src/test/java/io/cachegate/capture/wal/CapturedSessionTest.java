package io.cachegate.capture.wal;

import io.cachegate.capture.wal.WalChanges.Change;
import io.cachegate.capture.wal.WalChanges.Transaction;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bytes a real server sent: PostgreSQL 15's pgoutput (protocol 1) for a table with REPLICA IDENTITY
 * FULL and a TOASTed column (about 12.8 kB of text), captured with
 * {@code pg_logical_slot_peek_binary_changes} (one message a line, hex) after
 * <pre>
 * INSERT INTO docs VALUES (1, 7, true, &lt;12.8 kB&gt;); UPDATE docs SET owner_id = 8 WHERE id = 1;
 * DELETE FROM docs WHERE id = 1; INSERT INTO docs VALUES (2, 9, false, 'short'); TRUNCATE docs;</pre>
 * each statement its own transaction.
 */
class CapturedSessionTest {

  static List<ByteBuffer> messages() throws IOException {
    try (InputStream in = CapturedSessionTest.class.getResourceAsStream("/pgoutput/pg15-docs-session.hex")) {
      List<ByteBuffer> out = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
        if (!line.isBlank()) out.add(ByteBuffer.wrap(HexFormat.of().parseHex(line.trim())));
      }
      return out;
    }
  }

  @Test
  void theServersMessagesDecodeInOrder() throws IOException {
    StringBuilder types = new StringBuilder();
    for (ByteBuffer b : messages()) {
      PgOutput.Message m = PgOutput.decode(b);
      types.append(m.getClass().getSimpleName().charAt(0));
      assertThat(b.hasRemaining()).as("every byte of a %s read", m.getClass().getSimpleName()).isFalse();
    }
    // Begin Relation Insert Commit, Begin Update Commit, Begin Delete Commit, Begin Insert Commit, Begin Relation Truncate Commit
    assertThat(types.toString()).isEqualTo("BRICBUCBDCBICBRTC");
  }

  @Test
  void theUnchangedToastValueComesFromTheOldRowAndTheRowsAreShapedAsJson() throws IOException {
    WalChanges assembler = new WalChanges(Map.of("public.docs", "docs"), 1000);
    List<Transaction> txs = new ArrayList<>();
    for (ByteBuffer b : messages()) {
      Transaction t = assembler.accept(PgOutput.decode(b));
      if (t != null) txs.add(t);
    }
    assertThat(txs).hasSize(5);
    for (int i = 1; i < txs.size(); i++) assertThat(txs.get(i).endLsn()).isGreaterThan(txs.get(i - 1).endLsn());

    Change insert = txs.get(0).changes().get(0);
    assertThat(insert.op()).isEqualTo("INSERT");
    assertThat(insert.newRow().getLong("id")).isEqualTo(1L);
    assertThat(insert.newRow().getBoolean("active")).isTrue();
    String body = insert.newRow().getString("body");
    assertThat(body).hasSize(12_800);

    Change update = txs.get(1).changes().get(0);
    assertThat(update.oldRow().getLong("owner_id")).isEqualTo(7L);
    assertThat(update.newRow().getLong("owner_id")).isEqualTo(8L);
    // pgoutput sent the placeholder for the unchanged TOASTed body; the old row (FULL) holds the value
    assertThat(update.newRow().getString("body")).isEqualTo(body);

    Change delete = txs.get(2).changes().get(0);
    assertThat(delete.op()).isEqualTo("DELETE");
    assertThat(delete.oldRow().getLong("owner_id")).isEqualTo(8L);

    assertThat(txs.get(3).changes().get(0).newRow().getBoolean("active")).isFalse();
    assertThat(txs.get(4).changes()).containsExactly(new Change("docs", "TRUNCATE", null, null));
  }
}
