package io.cachegate.cache;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One Redis schema: the keys RedisKeys names and the keys the "State in Redis" table of
 * docs/architecture.md lists are the same; no script spells a bookkeeping key (each receives its keys
 * in KEYS); and the placement rules put what one script touches in one cluster slot.
 */
class RedisSchemaTest {

  private static final Path LUA = Path.of("src/main/resources/lua");

  @Test
  void theArchitectureTableListsEveryKeyOfTheSchema() throws IOException {
    String doc = Files.readString(Path.of("docs/architecture.md"));
    int from = doc.indexOf("## State in Redis");
    String table = doc.substring(from, doc.indexOf("\n## ", from + 1));
    Set<String> listed = new TreeSet<>();
    for (String row : table.lines().filter(l -> l.startsWith("| `")).toList()) {
      Matcher m = Pattern.compile("`(cg:[^`]+)`").matcher(row.split("\\|")[1]);
      while (m.find()) listed.add(m.group(1));
    }
    assertThat(listed).isEqualTo(RedisKeys.ALL.stream().map(RedisKeys.Key::pattern).collect(Collectors.toCollection(TreeSet::new)));
  }

  @Test
  void noScriptSpellsABookkeepingKey() throws IOException {
    try (Stream<Path> files = Files.list(LUA)) {
      for (Path f : files.toList()) {
        String src = Files.readString(f);
        String code = src.lines().filter(l -> !l.trim().startsWith("--")).collect(Collectors.joining("\n"));
        assertThat(code).as(f.toString()).doesNotContain("'cg:").doesNotContain("\"cg:").doesNotContainPattern("ARGV\\[\\d+\\] \\.\\.");
        if (!f.getFileName().toString().equals("common.lua")) assertThat(src).as(f.toString()).startsWith("-- KEYS:");
      }
    }
  }

  @Test
  void anEntrysBookkeepingSharesItsSlotWhateverBracesTheKeyHolds() {
    for (String ns : java.util.List.of("", "app:")) {
      for (String key : java.util.List.of("plain", "user:{42}:profile", "{}", "a}b{c", "{x}{y}", "ümlaut")) {
        int slot = SlotTags.slot(RedisKeys.value(ns, key));
        for (RedisKeys.Key k : java.util.List.of(RedisKeys.META, RedisKeys.LEASE, RedisKeys.COACCESS, RedisKeys.DEPENDENTS, RedisKeys.VERSION)) {
          assertThat(SlotTags.slot(k.in(ns, key))).as(k.in(ns, key)).isEqualTo(slot);
        }
        assertThat(SlotTags.slot(RedisKeys.TAG.in(ns, key))).isEqualTo(SlotTags.slot(RedisKeys.TAG_INVALIDATED.in(ns, key)));
        int shard = RedisKeys.shardOf(ns, key);
        assertThat(RedisKeys.LIVE.in(ns, key)).isEqualTo(RedisKeys.LIVE.shard(ns, shard));
        assertThat(new java.util.HashSet<>(java.util.List.of(SlotTags.slot(RedisKeys.LIVE.shard(ns, shard)), SlotTags.slot(RedisKeys.EXPIRY.shard(ns, shard)),
            SlotTags.slot(RedisKeys.PREFIXES_INVALIDATED.shard(ns, shard))))).hasSize(1);
      }
      java.util.Set<Integer> global = new java.util.HashSet<>();
      for (RedisKeys.Key k : RedisKeys.ALL) if (k.placement() == RedisKeys.Placement.GLOBAL) global.add(SlotTags.slot(k.in(ns)));
      assertThat(global).as("the notice log and what reads it with it: one slot").hasSize(1);
    }
  }

  @Test
  void theIndexShardsAreSpreadOverTheSlotRange() {
    java.util.Set<Integer> thirds = new java.util.HashSet<>();
    for (int i = 0; i < RedisKeys.SHARDS; i++) thirds.add(SlotTags.slot(RedisKeys.LIVE.shard("", i)) * 3 / SlotTags.SLOTS);
    assertThat(thirds).as("shards on each third of the slots (each master of a 3-master cluster)").containsExactlyInAnyOrder(0, 1, 2);
  }
}
