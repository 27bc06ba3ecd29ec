package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** /metrics after real traffic: cachegate's series and the Vert.x HTTP, pool and event-bus series. */
class MetricsIT {

  @Test
  void theNamedSeriesAreThereWithValuesAfterTraffic() {
    try (TestGateway gw = TestGateway.start(); TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("m:1").add("product:3")));
      gw.put("m:1", new JsonObject().put("value", 1));
      gw.call("GET", "/v1/entries/m:1", null);
      gw.call("GET", "/v1/entries/m:missing", null);
      gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("m:1")));
      s.next("invalidate");
      gw.sql("UPDATE products SET price = price + 1 WHERE id = 3");
      s.next("invalidate");
      gw.call("GET", "/v1/entries/has%20space", null); // a rejected request

      // the lag is recorded when the capture hears back from Redis, which may be just after the frame
      Await.until("the capture lag to be recorded", 10_000,
          () -> value(gw.call("GET", "/metrics", null).body(), "cachegate_capture_lag_seconds_count") > 0);
      String text = gw.call("GET", "/metrics", null).body();
      for (String series : List.of("cachegate_notices_total", "cachegate_invalidations_total{cause=\"api\"",
          "cachegate_invalidations_total{cause=\"db\"", "cachegate_capture_lag_seconds_count",
          "cachegate_stream_clients", "cachegate_stream_subscriptions", "cachegate_stream_frames_sent_total",
          "cachegate_cache_hits_total", "cachegate_cache_misses_total", "cachegate_capture_rows_total",
          "cachegate_rejected_total")) {
        assertThat(value(text, series)).as(series).isGreaterThan(0);
      }
      Await.until("the leader to measure the outbox", 10_000,
          () -> value(gw.call("GET", "/metrics", null).body(), "cachegate_capture_outbox_depth") >= 0);
      assertThat(text).contains("cachegate_stream_frames_dropped_total", "cachegate_capture_leader 1.0");
      assertThat(text).contains("vertx_http_server_requests_total", "vertx_eventbus_");
      assertThat(text).contains("pool_name=\"cachegate-capture\"");
    }
  }

  @Test
  void withoutVertxMetricsTheGatewaysOwnSeriesStay() {
    try (TestGateway gw = TestGateway.start(new JsonObject().put("metrics", new JsonObject().put("vertx", false)), java.util.Map.of())) {
      gw.call("POST", "/v1/invalidations", "{\"keys\":[\"m:off\"]}");
      Await.until("the notice to be counted", 10_000, () -> value(gw.call("GET", "/metrics", null).body(), "cachegate_notices_total") > 0);
      String text = gw.call("GET", "/metrics", null).body();
      assertThat(value(text, "cachegate_invalidations_total{cause=\"api\"")).isGreaterThan(0);
      assertThat(text).doesNotContain("vertx_http_server_requests_total").doesNotContain("vertx_eventbus_").doesNotContain("jvm_memory");
      assertThat(gw.call("GET", "/v1/stats", null).json().getLong("invalidations")).isGreaterThan(0);
    }
  }

  /** The value of the first sample whose line starts with {@code series}. */
  private static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + "[^ ]* ([0-9.eE+-]+)$").matcher(text);
    if (!m.find()) throw new AssertionError("no series " + series);
    return Double.parseDouble(m.group(1));
  }
}
