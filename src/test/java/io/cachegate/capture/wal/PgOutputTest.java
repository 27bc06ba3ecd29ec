package io.cachegate.capture.wal;

import io.cachegate.capture.wal.PgOutput.Begin;
import io.cachegate.capture.wal.PgOutput.Column;
import io.cachegate.capture.wal.PgOutput.Commit;
import io.cachegate.capture.wal.PgOutput.Delete;
import io.cachegate.capture.wal.PgOutput.Insert;
import io.cachegate.capture.wal.PgOutput.Relation;
import io.cachegate.capture.wal.PgOutput.Truncate;
import io.cachegate.capture.wal.PgOutput.Update;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pgoutput protocol 1, message by message, as the PostgreSQL manual lays the bytes out. */
class PgOutputTest {

  /** Builds a message the way the server writes one (network byte order, C strings). */
  static final class Msg {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    Msg(char type) {
      b(type);
    }

    Msg b(int v) {
      try { out.writeByte(v); } catch (IOException e) { throw new IllegalStateException(e); }
      return this;
    }

    Msg s16(int v) {
      try { out.writeShort(v); } catch (IOException e) { throw new IllegalStateException(e); }
      return this;
    }

    Msg i32(int v) {
      try { out.writeInt(v); } catch (IOException e) { throw new IllegalStateException(e); }
      return this;
    }

    Msg i64(long v) {
      try { out.writeLong(v); } catch (IOException e) { throw new IllegalStateException(e); }
      return this;
    }

    Msg str(String s) {
      try { out.write(s.getBytes(StandardCharsets.UTF_8)); out.writeByte(0); } catch (IOException e) { throw new IllegalStateException(e); }
      return this;
    }

    /** TupleData: each value is text, or null for 'n', or "\u0000u" for an unchanged TOAST value. */
    Msg tuple(String... values) {
      s16(values.length);
      for (String v : values) {
        if (v == null) b('n');
        else if (v.equals("\u0000u")) b('u');
        else {
          byte[] t = v.getBytes(StandardCharsets.UTF_8);
          b('t').i32(t.length);
          try { out.write(t); } catch (IOException e) { throw new IllegalStateException(e); }
        }
      }
      return this;
    }

    ByteBuffer buffer() {
      return ByteBuffer.wrap(bytes.toByteArray());
    }
  }

  static final String UNCHANGED = "\u0000u";

  static ByteBuffer relation(int id, String ns, String name, char identity, Object... cols) {
    Msg m = new Msg('R').i32(id).str(ns).str(name).b(identity).s16(cols.length / 3);
    for (int i = 0; i < cols.length; i += 3) m.b((Boolean) cols[i + 2] ? 1 : 0).str((String) cols[i]).i32((Integer) cols[i + 1]).i32(-1);
    return m.buffer();
  }

  @Test
  void beginAndCommitCarryThePositions() {
    assertThat(PgOutput.decode(new Msg('B').i64(0x16B3748L).i64(123_456L).i32(771).buffer()))
        .isEqualTo(new Begin(0x16B3748L, 123_456L, 771));
    assertThat(PgOutput.decode(new Msg('C').b(0).i64(0x16B3748L).i64(0x16B3778L).i64(123_456L).buffer()))
        .isEqualTo(new Commit(0x16B3748L, 0x16B3778L, 123_456L));
  }

  @Test
  void aRelationNamesItsColumnsTypesAndKey() {
    Relation r = (Relation) PgOutput.decode(relation(16384, "public", "products", 'd', "id", 20, true, "category_id", 23, false));
    assertThat(r.qualifiedName()).isEqualTo("public.products");
    assertThat(r.replicaIdentity()).isEqualTo('d');
    assertThat(r.columns()).containsExactly(new Column("id", 20, true), new Column("category_id", 23, false));
  }

  @Test
  void rowsKeepNullsTextAndTheUnchangedToastMarker() {
    Insert i = (Insert) PgOutput.decode(new Msg('I').i32(16384).b('N').tuple("42", null, "ünïcode text").buffer());
    assertThat(i.row().values()).containsExactly("42", null, "ünïcode text");

    Update u = (Update) PgOutput.decode(new Msg('U').i32(16384).b('O').tuple("42", "3", "old").b('N').tuple("42", "4", UNCHANGED).buffer());
    assertThat(u.old().values()).containsExactly("42", "3", "old");
    assertThat(u.oldIsKeyOnly()).isFalse();
    assertThat(u.row().values()[2]).isSameAs(PgOutput.UNCHANGED);

    Update plain = (Update) PgOutput.decode(new Msg('U').i32(16384).b('N').tuple("42", "4", "x").buffer());
    assertThat(plain.old()).isNull();

    Update keyChanged = (Update) PgOutput.decode(new Msg('U').i32(16384).b('K').tuple("41", null, null).b('N').tuple("42", "4", "x").buffer());
    assertThat(keyChanged.oldIsKeyOnly()).isTrue();

    Delete d = (Delete) PgOutput.decode(new Msg('D').i32(16384).b('K').tuple("42", null, null).buffer());
    assertThat(d.old().values()).containsExactly("42", null, null);
    assertThat(d.oldIsKeyOnly()).isTrue();
  }

  @Test
  void aValueThatReadsLikeThePlaceholderIsStillAValue() {
    Insert i = (Insert) PgOutput.decode(new Msg('I').i32(1).b('N').tuple("<unchanged toast>").buffer());
    assertThat(i.row().values()[0]).isEqualTo("<unchanged toast>").isNotSameAs(PgOutput.UNCHANGED);
  }

  @Test
  void truncateListsItsTablesAndOptions() {
    Truncate t = (Truncate) PgOutput.decode(new Msg('T').i32(2).b(3).i32(16384).i32(16390).buffer());
    assertThat(t.relationIds()).containsExactly(16384, 16390);
    assertThat(t.cascade()).isTrue();
    assertThat(t.restartIdentity()).isTrue();
  }

  @Test
  void messagesWithNothingToInvalidateAreSkipped() {
    assertThat(PgOutput.decode(new Msg('O').i64(1).str("origin").buffer())).isEqualTo(new PgOutput.Skipped('O'));
    assertThat(PgOutput.decode(new Msg('Y').i32(99).str("public").str("mood").buffer())).isEqualTo(new PgOutput.Skipped('Y'));
  }

  @Test
  void unknownAndTruncatedMessagesAreRefusedByName() {
    assertThatThrownBy(() -> PgOutput.decode(new Msg('S').i32(1).buffer())).hasMessageContaining("unknown pgoutput message type 'S'");
    assertThatThrownBy(() -> PgOutput.decode(new Msg('I').i32(1).b('N').s16(1).b('t').i32(50).buffer()))
        .hasMessageContaining("truncated pgoutput message 'I'");
    assertThatThrownBy(() -> PgOutput.decode(new Msg('I').i32(1).b('N').s16(1).b('b').buffer()))
        .hasMessageContaining("binary mode");
  }

  @Test
  void aBufferWithAnOffsetIsReadFromItsPosition() {
    // pgjdbc hands over a slice of the CopyData message, after the XLogData header
    ByteBuffer inner = new Msg('I').i32(7).b('N').tuple("x").buffer();
    byte[] framed = new byte[inner.remaining() + 25];
    inner.get(framed, 25, inner.capacity());
    ByteBuffer slice = ByteBuffer.wrap(framed, 25, framed.length - 25).slice();
    assertThat(((Insert) PgOutput.decode(slice)).row().values()).containsExactly("x");
  }
}
