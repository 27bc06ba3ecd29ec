package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The notice history is trimmed by length, never past an instance that has not streamed yet. */
class HistoryIT {

  @Test
  void trimmingKeepsWhatALiveTailStillNeedsAndThenHonoursTheLength() {
    JsonObject cfg = new JsonObject().put("stream", new JsonObject().put("historyMaxLen", 10).put("trimIntervalMs", 50));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); TestSocket s = gw.socket()) {
      String tails = io.cachegate.cache.RedisKeys.TAILS.in(gw.namespace);
      String beats = io.cachegate.cache.RedisKeys.TAILBEAT.in(gw.namespace);
      // an instance that is alive but has streamed nothing yet (position 0)
      long redisNow = Long.parseLong(gw.redis(Request.cmd(Command.TIME)).get(0).toString()) * 1000;
      gw.redis(Request.cmd(Command.ZADD).arg(tails).arg(0).arg("slow-instance"));
      gw.redis(Request.cmd(Command.ZADD).arg(beats).arg(redisNow).arg("slow-instance"));

      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        ids.add(gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("h:" + i))).json().getString("notice"));
      }
      long trims = gw.gateway.metrics().count("cachegate.history.trims");
      Await.until("two more trims to run", 5000, () -> gw.gateway.metrics().count("cachegate.history.trims") >= trims + 2);
      assertThat(xlen(gw)).as("nothing trimmed past the slow instance").isEqualTo(50);

      gw.redis(Request.cmd(Command.ZREM).arg(tails).arg("slow-instance"));
      gw.redis(Request.cmd(Command.ZREM).arg(beats).arg("slow-instance"));
      Await.until("the history to be trimmed to its length", 5000, () -> xlen(gw) <= 10);
      // counted when the trim's reply reaches the gateway, which can be just after Redis shows the trim
      Await.until("the trimmed notices to be counted", 5000, () -> gw.gateway.metrics().count("cachegate.history.trimmed") >= 40);

      s.send(new JsonObject().put("type", "subscribe").put("id", "old").put("keys", new JsonArray().add("h:49"))
          .put("since", ids.get(0)));
      assertThat(s.next("reset").getString("reason")).contains("no longer reaches");
      assertThat(s.next("subscribed").getBoolean("recovered")).isFalse();

      s.send(new JsonObject().put("type", "subscribe").put("id", "recent").put("keys", new JsonArray().add("h:49"))
          .put("since", ids.get(45)));
      assertThat(s.next("invalidate").getString("id")).isEqualTo(ids.get(49));
      JsonObject sub = s.next("subscribed");
      assertThat(sub.getBoolean("recovered")).isTrue();
    }
  }

  @Test
  void aStuckInstanceCannotGrowTheHistoryPastTheHardCapAndATailLeftBehindResets() {
    JsonObject cfg = new JsonObject().put("stream", new JsonObject().put("historyMaxLen", 10).put("historyHardMaxLen", 30)
        .put("trimIntervalMs", 50));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("prefixes", new JsonArray().add("cap:")));
      // an instance that is alive but stuck at position 0
      long redisNow = Long.parseLong(gw.redis(Request.cmd(Command.TIME)).get(0).toString()) * 1000;
      gw.redis(Request.cmd(Command.ZADD).arg(io.cachegate.cache.RedisKeys.TAILS.in(gw.namespace)).arg(0).arg("stuck-instance"));
      gw.redis(Request.cmd(Command.ZADD).arg(io.cachegate.cache.RedisKeys.TAILBEAT.in(gw.namespace)).arg(redisNow).arg("stuck-instance"));

      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        ids.add(gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("cap:" + i))).json().getString("notice"));
      }
      Await.until("the history to be cut to the hard cap despite the stuck instance", 5000, () -> xlen(gw) <= 30);
      String trimmed = gw.redis(Request.cmd(Command.GET).arg(io.cachegate.cache.RedisKeys.TRIMMED.in(gw.namespace))).toString();
      assertThat(io.cachegate.model.NoticeIds.fromStreamId(trimmed)).as("the last removed entry").isLessThan(ids.get(49));
      // this instance's own tail was ahead of the cut: its client got every notice and no reset
      for (String id : ids) assertThat(s.next("invalidate").getString("id")).isEqualTo(id);

      // a tail whose position is behind the last removed entry (here: told so by hand) resets its clients
      // before the next notice, and carries on streaming
      String lastStreamId = io.cachegate.model.NoticeIds.toStreamId(ids.get(49));
      String[] parts = lastStreamId.split("-");
      gw.redis(Request.cmd(Command.SET).arg(io.cachegate.cache.RedisKeys.TRIMMED.in(gw.namespace)).arg(parts[0] + "-" + (Long.parseLong(parts[1]) + 1)));
      String after = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("cap:after"))).json().getString("notice");
      assertThat(s.next("reset").getString("reason")).contains("trimmed");
      assertThat(s.next("invalidate").getString("id")).isEqualTo(after);
      String next = gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("cap:next"))).json().getString("notice");
      assertThat(s.next("invalidate").getString("id")).as("one reset, then streaming as before").isEqualTo(next);
    }
  }

  private static long xlen(TestGateway gw) {
    return gw.redis(Request.cmd(Command.XLEN).arg(io.cachegate.cache.RedisKeys.NOTICES.in(gw.namespace))).toLong();
  }
}
