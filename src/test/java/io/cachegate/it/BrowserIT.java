package io.cachegate.it;

import io.cachegate.testing.*;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard and the demo page in headless Chromium: an UPDATE in PostgreSQL shows up in the
 * dashboard's live tail and in the demo's product list, read from the DOM; a screenshot of each is
 * saved under target/screenshots. CI installs Chromium (.ci/run); elsewhere the test is skipped
 * when Chromium is missing, never in CI.
 */
class BrowserIT {

  @Test
  void anUpdateReachesTheDashboardAndTheDemoPage() throws Exception {
    if (!Files.isExecutable(Browser.CHROMIUM)) {
      assertThat(System.getenv("CI")).as("Chromium must be installed in CI (.ci/run does it)").isNull();
      Assumptions.abort("no Chromium at " + Browser.CHROMIUM);
    }
    JsonObject cfg = new JsonObject().put("demo", new JsonObject().put("enabled", true));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); Browser browser = new Browser()) {
      String base = "http://127.0.0.1:" + gw.port();
      Browser.Page dashboard = browser.open(base + "/");
      Browser.Page demo = browser.open(base + "/demo.html");
      Await.until("the dashboard to connect", 20_000,
          () -> "connected".equals(dashboard.eval("document.getElementById('state')?.textContent")));
      Await.until("the demo list to render", 20_000,
          () -> demo.eval("document.querySelector('[data-price-id=\"10\"]')?.textContent") != null);
      assertThat(demo.eval("document.getElementById('state').textContent")).isEqualTo("connected");
      Object before = demo.eval("document.querySelector('[data-price-id=\"10\"]').textContent");
      assertThat(before).isNotEqualTo("999.50");

      gw.sql("UPDATE products SET price = 999.5 WHERE id = 10");

      Await.until("the dashboard's live tail to show the UPDATE", 20_000, () -> Boolean.TRUE.equals(dashboard.eval(
          "[...document.querySelectorAll('#tail tbody tr')].some(r => r.cells[2].textContent.startsWith('db products UPDATE')"
              + " && r.cells[3].textContent.includes('product:10'))")));
      Await.until("the demo list to show the new price", 20_000,
          () -> "999.50".equals(demo.eval("document.querySelector('[data-price-id=\"10\"]').textContent")));
      assertThat(((Number) demo.eval("Number(document.getElementById('fetches').textContent)")).intValue())
          .as("the list was fetched again once the notice arrived, not polled").isEqualTo(2);

      // the demo's own button goes through the same path
      demo.eval("document.querySelector('[data-bump=\"11\"]').click()");
      Await.until("the bumped price to show", 20_000, () -> Boolean.TRUE.equals(demo.eval(
          "document.querySelector('[data-price-id=\"11\"]').textContent === String((5 + 11 * 1.25 + 1).toFixed(2))")));

      Path shots = Path.of("target", "screenshots");
      dashboard.screenshot(shots.resolve("dashboard.png"));
      demo.screenshot(shots.resolve("demo.png"));
      assertThat(Files.size(shots.resolve("dashboard.png"))).isGreaterThan(5_000);
      assertThat(Files.size(shots.resolve("demo.png"))).isGreaterThan(5_000);
    }
  }

  @Test
  void theDashboardShowsTheReplicationSlotInWalMode() throws Exception {
    if (!Files.isExecutable(Browser.CHROMIUM)) {
      assertThat(System.getenv("CI")).as("Chromium must be installed in CI (.ci/run does it)").isNull();
      Assumptions.abort("no Chromium at " + Browser.CHROMIUM);
    }
    JsonObject cfg = new JsonObject().put("capture", new JsonObject().put("mode", "wal").put("statusIntervalMs", 200));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); Browser browser = new Browser()) {
      Browser.Page dashboard = browser.open("http://127.0.0.1:" + gw.port() + "/");
      Await.until("the dashboard to show the capture mode and the slot", 20_000,
          () -> "wal".equals(dashboard.eval("document.getElementById('c-mode')?.textContent"))
              && String.valueOf(dashboard.eval("document.getElementById('c-wal-kept')?.textContent")).matches("[0-9.]+ (B|kB|MB|GB)"));
      assertThat(dashboard.eval("document.getElementById('c-wal-lag').dataset.ok")).isEqualTo("true");
    }
  }
}
