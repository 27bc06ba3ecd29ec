package io.cachegate.cache;

import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.BulkType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The notice lists as the scripts write them (cjson, or Java's encoder through ARGV) come back as written. */
class StreamEntriesTest {

  private static Response bulk(String s) {
    return BulkType.create(Buffer.buffer(s.getBytes(StandardCharsets.UTF_8)), false);
  }

  @Test
  void namesComeBackWithTheirEscapesAndNonAsciiCharactersDecoded() {
    assertThat(StreamEntries.strings(bulk("[\"user:1\",\"caf\u00e9:\u2603\",\"a\\\"b\\\\c\",\"\\u00e9\\/x\"]")))
        .containsExactly("user:1", "caf\u00e9:\u2603", "a\"b\\c", "\u00e9/x");
    assertThat(StreamEntries.strings(bulk("[]"))).isEmpty();
    assertThat(StreamEntries.strings(bulk(" [ ] "))).isEmpty();
  }

  @Test
  void somethingOtherThanAListOfNamesIsRefused() {
    assertThatThrownBy(() -> StreamEntries.strings(bulk("{}"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StreamEntries.strings(bulk("[[\"a\"]]"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StreamEntries.strings(bulk("[\"a\""))).isInstanceOf(IllegalArgumentException.class);
  }
}
