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

  private static void requireChromium() {
    if (!Files.isExecutable(Browser.CHROMIUM)) {
      assertThat(System.getenv("CI")).as("Chromium must be installed in CI (.ci/run does it)").isNull();
      Assumptions.abort("no Chromium at " + Browser.CHROMIUM);
    }
  }

  @Test
  void theDashboardOpensWithTheHistoryAndTheInspectorExplainsAKey() throws Exception {
    requireChromium();
    JsonObject cfg = new JsonObject().put("instance", new JsonObject().put("reportIntervalMs", 500));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); Browser browser = new Browser()) {
      // 30 notices before the dashboard opens, and a small dependency graph around insp:page
      java.util.List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 30; i++) {
        ids.add(gw.call("POST", "/v1/invalidations", "{\"keys\":[\"before:" + i + "\"],\"reason\":\"before the dashboard\"}")
            .json().getString("notice"));
      }
      gw.put("insp:category", new JsonObject().put("value", "c"));
      gw.put("insp:product", new JsonObject().put("value", new JsonObject().put("name", "lamp")).put("dependsOn", new io.vertx.core.json.JsonArray().add("insp:category")));
      gw.put("insp:page", new JsonObject().put("value", "<p>lamp</p>").put("tags", new io.vertx.core.json.JsonArray().add("insp:shop:lamps"))
          .put("dependsOn", new io.vertx.core.json.JsonArray().add("insp:product")).put("ttl", 600));
      gw.put("insp:feed", new JsonObject().put("value", 1).put("dependsOn", new io.vertx.core.json.JsonArray().add("insp:page")));
      gw.put("insp:sitemap", new JsonObject().put("value", 1).put("dependsOn", new io.vertx.core.json.JsonArray().add("insp:feed")));
      gw.call("POST", "/v1/invalidations", "{\"keys\":[\"insp:page\"],\"cascade\":false,\"reason\":\"a change to the page\"}");
      gw.put("insp:page", new JsonObject().put("value", "<p>lamp</p>").put("tags", new io.vertx.core.json.JsonArray().add("insp:shop:lamps"))
          .put("dependsOn", new io.vertx.core.json.JsonArray().add("insp:product")).put("ttl", 600));

      Browser.Page dashboard = browser.open("http://127.0.0.1:" + gw.port() + "/");
      Await.until("the dashboard to list the 30 notices made before it opened", 20_000, () -> Boolean.TRUE.equals(dashboard.eval(
          "(() => { const ids = new Set([...document.querySelectorAll('#tail tbody tr')].map(r => r.dataset.id));"
              + " return " + new io.vertx.core.json.JsonArray(ids).encode() + ".every(id => ids.has(id)); })()")));
      Await.until("the chart, the instances and the counters", 20_000, () -> Boolean.TRUE.equals(dashboard.eval(
          "!!document.querySelector('#rate-chart canvas') && document.querySelectorAll('#instances tbody tr[data-instance]').length === 1"
              + " && document.getElementById('c-notices').textContent !== '–'")));
      assertThat(dashboard.eval("document.querySelector('#instances tbody tr').dataset.instance")).isEqualTo(gw.gateway.config().instanceId());

      dashboard.eval("(() => { const f = document.getElementById('inspect'); f.elements.key.value = 'insp:page'; f.requestSubmit(); })()");
      Await.until("the inspector to show the entry, its tags, its graph and its notices", 20_000, () -> Boolean.TRUE.equals(dashboard.eval(
          "document.querySelector('#entry [data-field=version]') !== null"
              + " && !!document.querySelector('#entry-tags li[data-tag=\"insp:shop\"] li[data-tag=\"insp:shop:lamps\"]')"
              + " && ['insp:category', 'insp:product', 'insp:page', 'insp:feed', 'insp:sitemap'].every(k => document.querySelector('#graph [data-key=\"' + k + '\"]'))"
              + " && document.querySelectorAll('#entry-notices tbody tr[data-id]').length === 1")));
      // what it depends on is drawn above it, what depends on it below
      assertThat(dashboard.eval("(() => { const y = k => document.querySelector('#graph [data-key=\"' + k + '\"] rect').getAttribute('y') * 1;"
          + " return y('insp:category') < y('insp:product') && y('insp:product') < y('insp:page') && y('insp:page') < y('insp:feed') && y('insp:feed') < y('insp:sitemap'); })()"))
          .isEqualTo(true);
      assertThat(String.valueOf(dashboard.eval("document.querySelector('#entry [data-field=ttl]').textContent"))).endsWith(" s");

      // the dry runs, from the forms: nothing is invalidated
      dashboard.eval("(() => { const f = document.getElementById('invalidate'); f.elements.keys.value = 'insp:product';"
          + " f.requestSubmit(f.querySelector('button[value=\"1\"]')); })()");
      Await.until("the dry run's answer", 20_000, () -> String.valueOf(dashboard.eval("document.getElementById('invalidate-result').textContent"))
          .startsWith("would invalidate 4 key(s)"));
      assertThat(gw.call("GET", "/v1/entries/insp:sitemap", null).status()).isEqualTo(200);
      Await.until("the rules to load", 20_000, () -> Boolean.TRUE.equals(dashboard.eval("document.querySelector('#evaluate select[name=table]').options.length > 0")));
      dashboard.eval("(() => { const f = document.getElementById('evaluate'); f.elements.table.value = 'products'; f.requestSubmit(); })()");
      Await.until("the rule's evaluation", 20_000, () -> {
        String out = String.valueOf(dashboard.eval("document.getElementById('evaluate-result').textContent"));
        return out.contains("category:1") && out.contains("category:2") && out.contains("product:10");
      });

      Path shots = Path.of("target", "screenshots");
      dashboard.screenshot(shots.resolve("dashboard-history.png"));
      dashboard.screenshotOf("#inspection", shots.resolve("inspector.png"));
      assertThat(Files.size(shots.resolve("inspector.png"))).isGreaterThan(5_000);
    }
  }

  @Test
  void threeTabsHoldOneStreamConnectionAndTheLastTabStillHearsAChange() throws Exception {
    requireChromium();
    JsonObject cfg = new JsonObject().put("demo", new JsonObject().put("enabled", true));
    try (TestGateway gw = TestGateway.start(cfg, Map.of()); Browser browser = new Browser()) {
      String demo = "http://127.0.0.1:" + gw.port() + "/demo.html";
      java.util.List<Browser.Page> tabs = new java.util.ArrayList<>(java.util.List.of(browser.open(demo), browser.open(demo), browser.open(demo)));
      Await.until("the three tabs to render the list", 20_000, () -> tabs.stream().allMatch(t ->
          "connected".equals(t.eval("document.getElementById('state')?.textContent"))
              && t.eval("document.querySelector('[data-price-id=\"12\"]')?.textContent") != null));
      Await.until("one stream connection for the three tabs", 20_000, () -> connections(gw) == 1);
      assertThat(connections(gw)).isEqualTo(1);

      // close the tab that holds the socket: another takes it over
      Browser.Page holder = tabs.stream().filter(t -> Boolean.TRUE.equals(t.eval("window.cachegateClient?.holding"))).findFirst().orElseThrow();
      holder.close();
      tabs.remove(holder);
      Await.until("another tab to hold the socket", 10_000, () -> tabs.stream().anyMatch(t -> Boolean.TRUE.equals(t.eval("window.cachegateClient?.holding")))
          && connections(gw) == 1);
      tabs.get(0).close();
      Browser.Page last = tabs.get(1);
      Await.until("the last tab to hold the socket", 10_000, () -> Boolean.TRUE.equals(last.eval("window.cachegateClient?.holding"))
          && connections(gw) == 1);
      String before = String.valueOf(last.eval("document.querySelector('[data-price-id=\"12\"]').textContent"));
      gw.sql("UPDATE products SET price = 777.25 WHERE id = 12");
      Await.until("the change to reach the last tab", 20_000,
          () -> "777.25".equals(last.eval("document.querySelector('[data-price-id=\"12\"]').textContent")));
      assertThat(before).isNotEqualTo("777.25");
    }
  }

  /** The stream connections the gateway counts, as GET /v1/stats says. */
  private static long connections(TestGateway gw) {
    return gw.call("GET", "/v1/stats", null).json().getLong("connections");
  }
}
