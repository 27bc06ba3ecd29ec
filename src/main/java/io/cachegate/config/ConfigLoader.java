package io.cachegate.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads the configuration in a fixed, documented order (later wins): built-in defaults from
 * {@link ConfigKeys}, then the YAML file, then {@code CACHEGATE_*} environment variables. An unknown
 * key in the file is an error rather than a silently ignored typo.
 */
public final class ConfigLoader {

  public static final Path DEFAULT_FILE = Path.of("config", "gateway.yaml");

  private ConfigLoader() {}

  /** Loads and validates; throws {@link ConfigException} naming the first bad key. */
  public static GatewayConfig load(Path file, Map<String, String> env) {
    JsonObject tree = readYaml(file);
    return fromTree(tree, env);
  }

  public static GatewayConfig fromTree(JsonObject fileTree, Map<String, String> env) {
    rejectUnknown(fileTree, "");
    JsonObject merged = new JsonObject();
    for (ConfigKeys.Key key : ConfigKeys.ALL) {
      Object value = get(fileTree, key.path());
      if (value == null) value = key.defaultValue();
      String fromEnv = env.get(key.envName());
      if (fromEnv != null) value = parseEnv(key, fromEnv);
      if (value != null) put(merged, key.path(), value);
    }
    return GatewayConfig.from(merged, env);
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

  private static Object parseEnv(ConfigKeys.Key key, String raw) {
    String v = raw.trim();
    try {
      return switch (key.kind()) {
        case INT -> Integer.parseInt(v);
        case LONG -> Long.parseLong(v);
        case DOUBLE -> Double.parseDouble(v);
        case BOOL -> {
          if (v.equalsIgnoreCase("true")) yield true;
          if (v.equalsIgnoreCase("false")) yield false;
          throw new ConfigException(key.path(), "env " + key.envName() + " must be true or false, got '" + raw + "'");
        }
        case STRING -> raw;
        case JSON -> v.startsWith("[") ? new JsonArray(v) : new JsonObject(v);
      };
    } catch (NumberFormatException | DecodeException e) {
      throw new ConfigException(key.path(), "env " + key.envName() + " cannot be read as " + key.kind() + ": '" + raw + "'");
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
