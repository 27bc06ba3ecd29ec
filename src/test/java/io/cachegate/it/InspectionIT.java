package io.cachegate.it;

import io.cachegate.testing.Await;
import io.cachegate.testing.TestGateway;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the dashboard opens with: the last notices of the history (all, or those naming a key), the
 * notice series of the last minutes, and the live instances sharing the Redis with their figures.
 */
class InspectionIT {

  static final JsonObject FAST = new JsonObject().put("instance", new JsonObject().put("reportIntervalMs", 200));
  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start(FAST, java.util.Map.of());
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @Test
  void theHistoryAnswersTheLastNoticesOldestFirstAndFiltersByKey() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String keys = i % 3 == 0 ? "[\"in:watched\",\"in:" + i + "\"]" : "[\"in:" + i + "\"]";
      ids.add(gw.call("POST", "/v1/invalidations", "{\"keys\":" + keys + ",\"reason\":\"inspection " + i + "\"}").json().getString("notice"));
    }
    JsonArray last = gw.call("GET", "/v1/notices?limit=30", null).json().getJsonArray("notices");
    List<String> got = new ArrayList<>();
    for (Object o : last) got.add(((JsonObject) o).getString("id"));
    assertThat(got).containsExactlyElementsOf(ids);
    JsonObject newest = last.getJsonObject(29);
    assertThat(newest.getString("type")).isEqualTo("invalidate");
    assertThat(newest.getJsonObject("cause").getString("reason")).isEqualTo("inspection 29");

    JsonObject byKey = gw.call("GET", "/v1/notices?key=in:watched&limit=50", null).json();
    assertThat(byKey.getJsonArray("notices")).hasSize(10);
    for (Object o : byKey.getJsonArray("notices")) assertThat(((JsonObject) o).getJsonArray("keys")).contains("in:watched");
    assertThat(byKey.getInteger("scanned")).isGreaterThanOrEqualTo(30);
    assertThat(gw.call("GET", "/v1/notices?limit=5", null).json().getJsonArray("notices")).hasSize(5);
    assertThat(gw.call("GET", "/v1/notices?limit=0", null).status()).isEqualTo(400);
    assertThat(gw.call("GET", "/v1/notices?key=bad%20name", null).status()).isEqualTo(400);

    // the series counts them within a few report intervals
    Await.until("the series to count the 30 notices", 10_000, () -> {
      JsonObject s = gw.call("GET", "/v1/stats/series", null).json();
      long sum = 0;
      for (Object v : s.getJsonArray("notices")) sum += ((Number) v).longValue();
      return sum >= 30;
    });
    JsonObject s = gw.call("GET", "/v1/stats/series", null).json();
    assertThat(s.getJsonObject("capture").getString("figure")).isIn("outboxDepth", "walLagBytes");
    assertThat(s.getJsonArray("notices").size()).isEqualTo(s.getJsonObject("capture").getJsonArray("values").size());
  }

  @Test
  void everyLiveInstanceIsListedWithItsFiguresAndAStoppedOneLeaves() {
    try (TestGateway peer = gw.peer(FAST)) {
      Await.until("both instances to report", 10_000, () -> gw.call("GET", "/v1/instances", null).json().getJsonArray("instances").size() == 2);
      JsonArray list = gw.call("GET", "/v1/instances", null).json().getJsonArray("instances");
      long leaders = 0;
      long selves = 0;
      for (Object o : list) {
        JsonObject i = (JsonObject) o;
        if (i.getBoolean("leader")) leaders++;
        if (i.getBoolean("self")) {
          selves++;
          assertThat(i.getString("id")).isEqualTo(gw.gateway.config().instanceId());
        }
        assertThat(i.getLong("clients")).isNotNegative();
        assertThat(i.getString("captureMode")).isIn("outbox", "wal");
      }
      assertThat(leaders).isEqualTo(1);
      assertThat(selves).isEqualTo(1);
      assertThat(peer.call("GET", "/v1/instances", null).json().getJsonArray("instances")).hasSize(2);
    }
    // a stopped instance removes its report
    Await.until("the stopped peer to leave the list", 10_000,
        () -> gw.call("GET", "/v1/instances", null).json().getJsonArray("instances").size() == 1);
  }
}
