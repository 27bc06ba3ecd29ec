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
 * One Redis schema: the keys RedisKeys names, the keys lua/common.lua's K builds, and the keys the
 * "State in Redis" table of docs/architecture.md lists are the same; no other script or class spells
 * a bookkeeping key itself.
 */
class RedisSchemaTest {

  private static final Path LUA = Path.of("src/main/resources/lua");

  private static Set<String> java() {
    return RedisKeys.ALL.stream().map(RedisKeys.Key::name).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void theLuaBuildersAreTheJavaSchema() throws IOException {
    Set<String> lua = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^function K\\.\\w+\\(ns(?:, \\w+)?\\) return ns \\.\\. '(cg:[a-z]+:?)'").matcher(Files.readString(LUA.resolve("common.lua")));
    while (m.find()) lua.add(m.group(1));
    assertThat(lua).isEqualTo(java());
  }

  @Test
  void theArchitectureTableListsEveryKeyOfTheSchema() throws IOException {
    String doc = Files.readString(Path.of("docs/architecture.md"));
    int from = doc.indexOf("## State in Redis");
    String table = doc.substring(from, doc.indexOf("\n## ", from + 1));
    Set<String> listed = new TreeSet<>();
    for (String row : table.lines().filter(l -> l.startsWith("| `")).toList()) {
      Matcher m = Pattern.compile("`(cg:[a-z]+:?)(?:<[a-z]+>)?`").matcher(row.split("\\|")[1]);
      while (m.find()) listed.add(m.group(1));
    }
    assertThat(listed).isEqualTo(java());
  }

  @Test
  void noScriptSpellsABookkeepingKeyOutsideK() throws IOException {
    try (Stream<Path> files = Files.list(LUA)) {
      for (Path f : files.filter(p -> !p.getFileName().toString().equals("common.lua")).toList()) {
        assertThat(Files.readString(f)).as(f.toString()).doesNotContain("'cg:").doesNotContain("\"cg:");
      }
    }
    String common = Files.readString(LUA.resolve("common.lua"));
    assertThat(common.lines().filter(l -> l.contains("'cg:") && !l.startsWith("function K.")).toList()).isEmpty();
  }

  /**
   * The scripts that read every key from KEYS build none themselves; the others are exactly those
   * listed as touching keys found in Redis data (the list may only shrink: Redis Cluster needs it empty).
   */
  @Test
  void keyedScriptsTakeEveryKeyFromKeys() throws IOException {
    for (RedisScripts.Script s : RedisScripts.Script.values()) {
      String src = Files.readString(LUA.resolve(s.file()));
      if (RedisScripts.Script.KEYED.contains(s)) {
        assertThat(src).as(s.file()).startsWith("-- KEYS:").doesNotContain("K.").doesNotContainPattern("ARGV\\[\\d+\\] \\.\\.");
      } else {
        // directly, or through common.lua's sweep and renew, which follow an entry's bookkeeping
        assertThat(src).as(s.file() + " builds keys from data").containsPattern("K\\.|sweep\\(|renew\\(");
      }
    }
    assertThat(java.util.EnumSet.complementOf(java.util.EnumSet.copyOf(RedisScripts.Script.KEYED)))
        .containsExactlyInAnyOrder(RedisScripts.Script.PUT, RedisScripts.Script.INVALIDATE);
  }
}
