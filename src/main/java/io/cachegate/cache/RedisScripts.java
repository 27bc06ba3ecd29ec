package io.cachegate.cache;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Lua scripts under {@code /lua}, each prefixed with {@code common.lua}, run by EVALSHA with a
 * fallback to EVAL when Redis does not know the script yet (first call, or after a restart).
 * Every call carries the command timeout: the Redis client has none of its own.
 */
public final class RedisScripts {

  /**
   * The scripts. Each receives every key it touches in KEYS, all of one cluster slot (what an entry's
   * bookkeeping names in other slots, a caller reads first and passes to a script of that slot).
   */
  public enum Script {
    GET("get.lua"), FILE("file.lua"), WRITE("write.lua"), EXPAND("expand.lua"), PREFIXES("prefixes.lua"),
    DROP("drop.lua"), NOTICE("notice.lua"), VERIFY("verify.lua"), RENEW("renew.lua"), TOUCH("touch.lua"),
    META("meta.lua"), TAG("tag.lua"), SWEEP("sweep.lua"), HISTORY("history.lua"), TRIM("trim.lua"),
    TAIL_BEAT("tailbeat.lua"), COACCESS("coaccess.lua"), SUGGEST("suggest.lua");

    final String file;

    Script(String file) {
      this.file = file;
    }

    public String file() {
      return file;
    }
  }

  private final String[] bodies = new String[Script.values().length];
  private final String[] shas = new String[Script.values().length];
  private final long timeoutMs;

  public RedisScripts(long timeoutMs) {
    this.timeoutMs = timeoutMs;
    String common = resource("common.lua");
    for (Script s : Script.values()) {
      bodies[s.ordinal()] = common + "\n" + resource(s.file);
      shas[s.ordinal()] = sha1(bodies[s.ordinal()]);
    }
  }

  /** {@code keys} are the script's KEYS (full names, namespace included), {@code args} its ARGV. */
  public Future<Response> run(Redis redis, Script script, List<String> keys, List<String> args) {
    Request evalsha = Request.cmd(Command.EVALSHA).arg(shas[script.ordinal()]).arg(keys.size());
    keys.forEach(evalsha::arg);
    args.forEach(evalsha::arg);
    return redis.send(evalsha)
        .recover(err -> {
          if (err.getMessage() == null || !err.getMessage().startsWith("NOSCRIPT")) return Future.failedFuture(err);
          Request eval = Request.cmd(Command.EVAL).arg(bodies[script.ordinal()]).arg(keys.size());
          keys.forEach(eval::arg);
          args.forEach(eval::arg);
          return redis.send(eval);
        })
        .timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  private static String resource(String name) {
    try (InputStream in = RedisScripts.class.getResourceAsStream("/lua/" + name)) {
      if (in == null) throw new IllegalStateException("missing resource /lua/" + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
