package io.cachegate.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the configuration in a fixed, documented order (later wins): built-in defaults from
 * {@link ConfigKeys}, then the YAML file, then {@code CACHEGATE_*} environment variables (each parsed
 * as its key's declaration says). An unknown
 * key in the file, or a {@code CACHEGATE_*} variable that names no key, is an error rather than a
 * silently ignored typo (the message suggests the nearest valid name).
 */
public final class ConfigLoader {

  public static final Path DEFAULT_FILE = Path.of("config", "gateway.yaml");

  /** The prefix of every environment override. */
  public static final String ENV_PREFIX = "CACHEGATE_";

  /** {@code CACHEGATE_*} variables read by something other than a key: the log level (logback.xml). */
  static final Set<String> OTHER_ENV = Set.of("CACHEGATE_LOG_LEVEL");

  private ConfigLoader() {}

  /** Loads and validates; throws {@link ConfigException} naming the first bad key. */
  public static GatewayConfig load(Path file, Map<String, String> env) {
    JsonObject tree = readYaml(file);
    return fromTree(tree, env);
  }

  public static GatewayConfig fromTree(JsonObject fileTree, Map<String, String> env) {
    rejectUnknown(fileTree, "");
    JsonObject merged = new JsonObject();
    for (ConfigKeys.Key<?> key : ConfigKeys.ALL) {
      Object value = get(fileTree, key.path());
      if (value == null) value = key.defaultValue();
      String fromEnv = env.get(key.envName());
      if (fromEnv != null) value = key.fromEnv(fromEnv);
      if (value != null) put(merged, key.path(), value);
    }
    rejectUnknownEnv(merged, env);
    return GatewayConfig.from(merged, env);
  }

  /**
   * Every {@code CACHEGATE_*} variable must be a key's override, {@link #OTHER_ENV}, or a variable the
   * configuration itself names to hold a secret (an API key's {@code tokenEnv}, a {@code *Env} key such
   * as {@code auth.jwt.secretEnv}), which users often name {@code CACHEGATE_KEY_OPS} and the like.
   */
  private static void rejectUnknownEnv(JsonObject merged, Map<String, String> env) {
    Set<String> known = new TreeSet<>(OTHER_ENV);
    for (ConfigKeys.Key<?> key : ConfigKeys.ALL) {
      known.add(key.envName());
      if (key.kind() == ConfigKeys.Kind.STRING && key.path().endsWith("Env") && get(merged, key.path()) instanceof String named) {
        known.add(named);
      }
    }
    if (get(merged, "auth.apiKeys") instanceof JsonArray keys) {
      for (Object k : keys) if (k instanceof JsonObject o && o.getValue("tokenEnv") instanceof String named) known.add(named);
    }
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith(ENV_PREFIX) && !known.contains(name) && !serviceLink(name, env.get(name))) {
        throw new ConfigException(name, "unknown environment variable: no configuration key has this name"
            + " (did you mean " + nearest(name, known) + "? config/gateway.yaml lists every key)");
      }
    }
  }

  /**
   * A variable Kubernetes (service links, on by default) or Docker links put into every container for
   * a service whose name starts with {@code cachegate}: {@code CACHEGATE_SERVICE_HOST},
   * {@code CACHEGATE_REDIS_SERVICE_PORT_HTTP}, {@code CACHEGATE_PORT=tcp://10.0.0.11:8080},
   * {@code CACHEGATE_PORT_8080_TCP_ADDR}. None of them is ours; refusing them would stop every pod.
   */
  static boolean serviceLink(String name, String value) {
    if (SERVICE_LINK.matcher(name).matches()) return true;
    return name.endsWith("_PORT") && value != null && value.matches("(tcp|udp|sctp)://.*");
  }

  private static final java.util.regex.Pattern SERVICE_LINK = java.util.regex.Pattern.compile(
      "[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)");

  /**
   * The candidate with the smallest edit distance to {@code name}; of equally near ones, the one that
   * shares the longest ending with it ({@code CACHEGATE_PORT} -> {@code CACHEGATE_HTTP_PORT}).
   */
  static String nearest(String name, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    int bestSuffix = -1;
    for (String c : candidates) {
      int d = editDistance(name, c);
      int suffix = commonSuffix(name, c);
      if (d < bestDistance || (d == bestDistance && suffix > bestSuffix)) {
        best = c;
        bestDistance = d;
        bestSuffix = suffix;
      }
    }
    return best;
  }

  private static int commonSuffix(String a, String b) {
    int n = 0;
    while (n < a.length() && n < b.length() && a.charAt(a.length() - 1 - n) == b.charAt(b.length() - 1 - n)) n++;
    return n;
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  public static JsonObject readYaml(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("config file", "cannot read " + file.toAbsolutePath());
    }
    try {
      Object parsed = new ObjectMapper(new YAMLFactory()).readValue(file.toFile(), Object.class);
      if (parsed == null) return new JsonObject();
      if (!(parsed instanceof Map<?, ?> map)) {
        throw new ConfigException("config file", file + " must hold a YAML mapping at the top");
      }
      @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) map;
      return new JsonObject(m);
    } catch (IOException e) {
      throw new ConfigException("config file", "cannot parse " + file + ": " + e.getMessage());
    }
  }

  private static void rejectUnknown(JsonObject tree, String prefix) {
    for (String name : tree.fieldNames()) {
      String path = prefix.isEmpty() ? name : prefix + "." + name;
      if (ConfigKeys.find(path) != null) continue;
      Object v = tree.getValue(name);
      boolean isSection = ConfigKeys.ALL.stream().anyMatch(k -> k.path().startsWith(path + "."));
      if (isSection && v instanceof JsonObject child) {
        rejectUnknown(child, path);
      } else if (isSection && v == null) {
        // an empty section in YAML ("http:") is fine
      } else {
        throw new ConfigException(path, "unknown configuration key (see config/gateway.yaml for the valid keys)");
      }
    }
  }

  static Object get(JsonObject tree, String path) {
    Object cur = tree;
    for (String part : path.split("\\.")) {
      if (!(cur instanceof JsonObject o)) return null;
      cur = o.getValue(part);
    }
    return cur;
  }

  static void put(JsonObject tree, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject cur = tree;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject next = cur.getJsonObject(parts[i]);
      if (next == null) {
        next = new JsonObject();
        cur.put(parts[i], next);
      }
      cur = next;
    }
    cur.put(parts[parts.length - 1], value);
  }
}
