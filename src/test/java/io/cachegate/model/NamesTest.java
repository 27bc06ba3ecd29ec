package io.cachegate.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class NamesTest {

  @Test
  void validNamesPass() {
    assertThat(Names.problem("key", "user:1:profile")).isNull();
    assertThat(Names.problem("key", "ключ/ü/😀")).isNull();
    assertThat(Names.problem("key", "k".repeat(512))).isNull();
  }

  @Test
  void badNamesAreRefusedWithAReason() {
    assertThat(Names.problem("key", "")).contains("empty");
    assertThat(Names.problem("key", "k".repeat(513))).contains("512");
    assertThat(Names.problem("key", "a b")).contains("whitespace");
    assertThat(Names.problem("key", "a\u0000b")).contains("control");
    assertThat(Names.problem("key", "a\u00a0b")).isNotNull();
    assertThat(Names.problem("tag", "cg:notices")).contains("reserved");
  }

  @Test
  void tagsExpandToTheirParents() {
    assertThat(Names.expandTags(List.of("user:1001:profile"))).containsExactly("user:1001:profile", "user:1001", "user");
    assertThat(Names.expandTags(List.of("a", "a:b"))).containsExactly("a", "a:b");
  }

  @Test
  void noticeIdsSortAsTheStreamDoes() {
    Random rnd = new Random(7);
    List<String> streamIds = new ArrayList<>();
    for (int i = 0; i < 500; i++) streamIds.add((1_700_000_000_000L + rnd.nextInt(1000)) + "-" + rnd.nextInt(20));
    List<String> byStream = new ArrayList<>(streamIds);
    byStream.sort(NoticeIds::compareStreamIds);
    List<String> byNotice = new ArrayList<>(streamIds.stream().map(NoticeIds::fromStreamId).toList());
    Collections.sort(byNotice);
    assertThat(byNotice).isEqualTo(byStream.stream().map(NoticeIds::fromStreamId).toList());
    assertThat(NoticeIds.fromStreamId("1700000000000-12")).isEqualTo("0001700000000000-0000000012");
    assertThat(NoticeIds.fromStreamId("0-0")).isEqualTo(NoticeIds.ZERO);
    assertThat(NoticeIds.toStreamId(NoticeIds.fromStreamId("1700000000000-12"))).isEqualTo("1700000000000-12");
    assertThat(NoticeIds.toStreamId("yesterday")).isNull();
    assertThat(NoticeIds.toStreamId("-1-2")).isNull();
  }
}
