package io.cachegate.cache;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Redis's key-slot rule, and a tag for every slot. RedisSlotsIT checks the same against a real node. */
class SlotTagsTest {

  @Test
  void theSpecificationsExamples() {
    // the cluster specification's CRC16 check value: "123456789" -> 0x31C3
    assertThat(SlotTags.crc16("123456789".getBytes(StandardCharsets.US_ASCII), 0, 9)).isEqualTo(0x31C3);
    assertThat(SlotTags.slot("{user1000}.following")).isEqualTo(SlotTags.slot("user1000"));
    assertThat(SlotTags.slot("foo{}{bar}")).isEqualTo(SlotTags.slot("foo{}{bar}")); // empty tag: the whole key
    assertThat(SlotTags.slot("foo{}{bar}")).isNotEqualTo(SlotTags.slot("bar"));
    assertThat(SlotTags.slot("foo{{bar}}zap")).isEqualTo(SlotTags.slot("{bar"));
    assertThat(SlotTags.slot("foo{bar}{zap}")).isEqualTo(SlotTags.slot("bar"));
  }

  @Test
  void everySlotHasATagThatMapsToIt() {
    for (int s = 0; s < SlotTags.SLOTS; s++) {
      String t = SlotTags.tag(s);
      assertThat(t.length()).isBetween(1, 4);
      assertThat(SlotTags.slot(t)).isEqualTo(s);
      assertThat(SlotTags.slot("cg:m:{" + t + "}:any{thing}")).isEqualTo(s);
    }
  }

  @Test
  void aKeysBookkeepingLandsInTheKeysSlotWhateverBracesTheKeyHolds() {
    for (String key : new String[] {"product:10", "{user1000}.following", "a{b}c", "{}", "weird{", "ünï{cø}de"}) {
      assertThat(SlotTags.slot(SlotTags.inSlotOf(key, "ns:cg:m:", ":" + key))).as(key).isEqualTo(SlotTags.slot(key));
    }
  }
}
