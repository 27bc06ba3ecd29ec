package io.cachegate.config;

import io.cachegate.config.ConfigKeys.Key;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The declarations in {@link ConfigKeys} and the shipped {@code config/gateway.yaml} say the same thing. */
class ConfigKeysTest {

  private static final Path SHIPPED = Path.of("config", "gateway.yaml");

  @Test
  void theShippedFileDocumentsEveryDeclaredKeyWithItsDefaultAndDoc() throws IOException {
    assertThat(YamlReference.problems(SHIPPED)).isEmpty();
  }

  @Test
  void theCheckFailsWhenTheFileAndTheDeclarationsDisagree(@TempDir Path dir) throws IOException {
    String shipped = Files.readString(SHIPPED);
    assertThat(problems(dir, shipped.replace("  commandTimeoutMs: 2000 ", "  commandTimeoutMs: 2500 ")))
        .containsExactly("redis.commandTimeoutMs: gateway.yaml says 2500, the declared default is 2000");
    assertThat(problems(dir, shipped.replace("  poolSize: 8              # connections", "  poolSize: 8              # sockets")))
        .singleElement().asString().startsWith("redis.poolSize: the comment must begin with the declared doc");
    assertThat(problems(dir, shipped.replace("  maxReplay: 10000         # notices one `since` may replay; further behind gets reset",
        "  maxReplay: 10000"))).singleElement().asString().startsWith("stream.maxReplay: the comment must begin with");
    assertThat(problems(dir, shipped.replace("  webroot: webroot", "  webRoot: webroot")))
        .containsExactlyInAnyOrder("http.webRoot: in gateway.yaml but not declared in ConfigKeys",
            "http.webroot: declared but missing from gateway.yaml");
    assertThat(problems(dir, shipped.replace("  # enabled: require an API key", "  enabled: true # require an API key")))
        .singleElement().asString().startsWith("auth.enabled: its default depends on the mode");
  }

  @Test
  void everyDeclarationIsAConstantNamedAfterItsVariable() throws IllegalAccessException {
    List<Key<?>> constants = new ArrayList<>();
    for (Field f : ConfigKeys.class.getDeclaredFields()) {
      if (f.getType() != Key.class) continue;
      assertThat(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers()) && Modifier.isPublic(f.getModifiers()))
          .as(f.getName()).isTrue();
      Key<?> key = (Key<?>) f.get(null);
      assertThat("CACHEGATE_" + f.getName()).as(key.path()).isEqualTo(key.envName());
      constants.add(key);
    }
    assertThat(ConfigKeys.ALL).containsExactlyInAnyOrderElementsOf(constants);
  }

  @Test
  void aNameEndingInAUnitHasADocStartingWithIt() {
    for (Key<?> key : ConfigKeys.ALL) {
      String unit = key.path().endsWith("Ms") ? "milliseconds" : key.path().endsWith("Bytes") ? "bytes"
          : key.path().endsWith("Ttl") ? "seconds" : null;
      if (unit != null) assertThat(key.doc()).as(key.path()).startsWith(unit);
    }
  }

  @Test
  void nothingSetMeansEveryDeclaredDefault() {
    GatewayConfig c = ConfigLoader.fromTree(new JsonObject(), Map.of());
    for (Key<?> key : ConfigKeys.ALL) {
      if (key.structured() || key.modeDependent() || key == ConfigKeys.INSTANCE_ID) continue;
      assertThat((Object) c.get(key)).as(key.path()).isEqualTo(key.read(key.defaultValue()));
    }
    assertThat(c.get(ConfigKeys.AUTH_ENABLED)).isFalse(); // embedded mode
    assertThat(c.get(ConfigKeys.DEMO_ENABLED)).isTrue();
    assertThat(c.get(ConfigKeys.POSTGRES_CHANNELS)).containsExactly("cache_invalidation");
    assertThat(c.get(ConfigKeys.INSTANCE_ID)).isNotEmpty();
  }

  @Test
  void keysReadTypedFromTheFileTheEnvironmentAndTheSections() {
    GatewayConfig c = ConfigLoader.fromTree(new JsonObject().put("redis", new JsonObject().put("commandTimeoutMs", 750)),
        Map.of("CACHEGATE_CACHE_REFRESH_AHEAD_BETA", "2.5", "CACHEGATE_STREAM_COMPRESSION", "TRUE"));
    long timeout = c.get(ConfigKeys.REDIS_COMMAND_TIMEOUT_MS);
    assertThat(timeout).isEqualTo(750L).isEqualTo(c.redis().commandTimeoutMs()).isEqualTo(c.redis().get(ConfigKeys.REDIS_COMMAND_TIMEOUT_MS));
    assertThat(c.cache().refreshAheadBeta()).isEqualTo(2.5);
    assertThat(c.stream().compression()).isTrue();
    assertThat(c.http().toString()).startsWith("Http[host=127.0.0.1, port=8080,");
  }

  @Test
  void withPortAndWithUrlsChangeOnlyWhatTheySay() {
    GatewayConfig c = ConfigLoader.fromTree(new JsonObject().put("cache", new JsonObject().put("maxCascade", 7)), Map.of());
    GatewayConfig moved = c.withPort(1234);
    assertThat(moved.http().port()).isEqualTo(1234);
    assertThat(c.http().port()).isEqualTo(8080);
    GatewayConfig external = moved.withUrls("redis://127.0.0.1:1", "postgresql://127.0.0.1:1/x");
    assertThat(external.embedded()).isFalse();
    assertThat(external.redis().url()).isEqualTo("redis://127.0.0.1:1");
    assertThat(external.postgres().url()).isEqualTo("postgresql://127.0.0.1:1/x");
    for (GatewayConfig copy : List.of(moved, external)) {
      assertThat(copy.instanceId()).isEqualTo(c.instanceId());
      assertThat(copy.auth().enabled()).isFalse(); // resolved once, at load (embedded mode)
      assertThat(copy.demo()).isTrue();
      assertThat(copy.cache().maxCascade()).isEqualTo(7);
      assertThat(copy.capture().tables()).isEqualTo(c.capture().tables());
    }
    assertThat(external.http().port()).isEqualTo(1234);
    assertThat(c.embedded()).isTrue();
  }

  @Test
  void rangesAndFormatsComeFromTheDeclarations() {
    assertThat(ConfigKeys.REDIS_COMMAND_TIMEOUT_MS.min()).isEqualTo(10L);
    assertThat(ConfigKeys.REDIS_COMMAND_TIMEOUT_MS.max()).isEqualTo(600_000L);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(),
        Map.of("CACHEGATE_REDIS_COMMAND_TIMEOUT_MS", "5"))).hasMessage("redis.commandTimeoutMs: must be between 10 and 600000, got 5");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(),
        Map.of("CACHEGATE_CAPTURE_WAKEUP_CHANNEL", "wake-up"))).hasMessage("capture.wakeupChannel: must be a plain identifier");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(),
        Map.of("CACHEGATE_ADAPTIVE_HOT_FACTOR", "0.5"))).hasMessage("adaptive.hotFactor: must be between 1.0 and 1000.0, got 0.5");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.fromTree(new JsonObject(),
        Map.of("CACHEGATE_ADAPTIVE_MIN_TTL", "99", "CACHEGATE_CACHE_MAX_TTL", "60", "CACHEGATE_CACHE_DEFAULT_TTL", "60")))
        .hasMessage("adaptive.minTtl: must be between 1 and 60, got 99");
  }

  private static List<String> problems(Path dir, String yaml) throws IOException {
    Path file = dir.resolve("gateway.yaml");
    Files.writeString(file, yaml);
    return YamlReference.problems(file);
  }

  /**
   * Reads gateway.yaml as a reference: each key's line (or, for a key whose default depends on the
   * mode, its commented-out line {@code # name: doc}) and its comment, continued on the comment-only
   * lines indented below it. The values come from the YAML parser; the lines give the comments.
   */
  static final class YamlReference {
    private static final Pattern KEY_LINE = Pattern.compile("(\\s*)([A-Za-z_][A-Za-z0-9_]*):(.*)");
    private static final Pattern COMMENT_LINE = Pattern.compile("(\\s*)#\\s?(.*)");
    private static final Pattern COMMENTED_KEY = Pattern.compile("([A-Za-z][A-Za-z0-9]*):\\s*(.*)");

    private record Open(int indent, String path) {}

    static List<String> problems(Path file) throws IOException {
      JsonObject tree = ConfigLoader.readYaml(file);
      List<String> problems = new ArrayList<>();
      Map<String, String> comments = new LinkedHashMap<>();
      Set<String> commentedOut = new HashSet<>();
      Deque<Open> open = new ArrayDeque<>(); // the keys and sections enclosing the current line
      String last = null;                    // the key a comment-only line may continue
      int lastIndent = 0;
      for (String line : Files.readAllLines(file)) {
        if (line.isBlank()) {
          last = null;
          continue;
        }
        Matcher c = COMMENT_LINE.matcher(line);
        if (c.matches()) {
          int indent = c.group(1).length();
          Matcher k = COMMENTED_KEY.matcher(c.group(2));
          String path = k.matches() ? join(parentAt(open, indent), k.group(1)) : null;
          if (path != null && ConfigKeys.find(path) != null) {
            commentedOut.add(path);
            comments.put(path, k.group(2));
            last = path;
            lastIndent = indent;
          } else if (last != null && indent > lastIndent) {
            comments.merge(last, c.group(2), (a, b) -> a + " " + b);
          }
          continue;
        }
        Matcher k = KEY_LINE.matcher(line);
        if (!k.matches()) {
          problems.add("gateway.yaml: cannot read the line '" + line + "'");
          continue;
        }
        int indent = k.group(1).length();
        String path = join(parentAt(open, indent), k.group(2));
        while (!open.isEmpty() && open.peek().indent() >= indent) open.pop();
        boolean example = open.stream().anyMatch(o -> ConfigKeys.find(o.path()) != null); // inside a structured key
        open.push(new Open(indent, path));
        last = null;
        if (example) continue;
        if (ConfigKeys.find(path) == null) {
          if (ConfigKeys.ALL.stream().noneMatch(key -> key.path().startsWith(path + "."))) {
            problems.add(path + ": in gateway.yaml but not declared in ConfigKeys");
          }
          continue;
        }
        comments.put(path, comment(k.group(3)));
        last = path;
        lastIndent = indent;
      }
      for (Key<?> key : ConfigKeys.ALL) {
        String path = key.path();
        Object value = ConfigLoader.get(tree, path);
        if (key.modeDependent()) {
          if (value != null || !commentedOut.contains(path)) {
            problems.add(path + ": its default depends on the mode, so gateway.yaml shows it commented out: '# "
                + path.substring(path.lastIndexOf('.') + 1) + ": " + key.doc() + "'");
            continue;
          }
        } else if (!comments.containsKey(path) || commentedOut.contains(path)) {
          problems.add(path + ": declared but missing from gateway.yaml");
          continue;
        } else if (!(key.defaultValue() instanceof JsonObject)) { // a mapping's lines are examples, not its default
          Object shown = key.structured() ? value : readOrProblem(key, value, problems);
          Object dflt = key.structured() ? key.defaultValue() : key.read(key.defaultValue());
          if (shown != null && !shown.equals(dflt)) {
            problems.add(path + ": gateway.yaml says " + shown + ", the declared default is " + dflt);
          }
        }
        String found = comments.get(path).replaceAll("\\s+", " ").trim();
        if (!found.startsWith(key.doc())) {
          problems.add(path + ": the comment must begin with the declared doc '" + key.doc() + "', found '" + found + "'");
        }
      }
      return problems;
    }

    private static Object readOrProblem(Key<?> key, Object value, List<String> problems) {
      try {
        return key.read(value);
      } catch (ConfigException e) {
        problems.add("gateway.yaml: " + e.getMessage());
        return null;
      }
    }

    /** The path of the innermost key or section that encloses a line indented by {@code indent}. */
    private static String parentAt(Deque<Open> open, int indent) {
      for (Open o : open) if (o.indent() < indent) return o.path(); // innermost first
      return "";
    }

    private static String join(String parent, String name) {
      return parent.isEmpty() ? name : parent + "." + name;
    }

    /** The text after the first {@code #} that starts a comment (outside quotes, after a space). */
    private static String comment(String rest) {
      boolean quoted = false;
      for (int i = 0; i < rest.length(); i++) {
        char ch = rest.charAt(i);
        if (ch == '"') quoted = !quoted;
        if (ch == '#' && !quoted && (i == 0 || Character.isWhitespace(rest.charAt(i - 1)))) return rest.substring(i + 1).trim();
      }
      return "";
    }
  }
}
