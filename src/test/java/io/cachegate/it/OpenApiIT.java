package io.cachegate.it;

import io.cachegate.testing.*;
import io.cachegate.api.RestRoutes;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The REST contract inside the repository: {@code GET /openapi.json} serves the document, the
 * document names every route the gateway registers (and nothing else), every operation answers as
 * it says, and the checker every test's answers go through ({@link OpenApiCheck}, called by
 * {@link TestGateway#call}) refuses what it does not describe.
 */
class OpenApiIT {

  static final String ADMIN = "openapi-admin-key-0123456789";
  static final String READ = "openapi-read-key-0123456789";
  static TestGateway gw;

  @BeforeAll
  static void start() {
    JsonObject cfg = new JsonObject()
        .put("auth", new JsonObject().put("enabled", true).put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "admin").put("tokenEnv", "OA_ADMIN").put("scopes", new JsonArray().add("admin")))
            .add(new JsonObject().put("name", "reader").put("tokenEnv", "OA_READ").put("scopes", new JsonArray().add("read"))))
            .put("jwt", new JsonObject().put("secretEnv", "OA_SECRET")))
        .put("demo", new JsonObject().put("enabled", true));
    gw = TestGateway.start(cfg, Map.of("OA_ADMIN", ADMIN, "OA_READ", READ, "OA_SECRET", "an-openapi-test-secret-of-32-bytes-or-more"));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  private static TestGateway.Reply admin(String method, String target, String body) {
    return gw.call(method, target, body, "Authorization", "Bearer " + ADMIN);
  }

  @Test
  void theDocumentIsServedWithoutAuthAndIsOpenApi31() throws Exception {
    TestGateway.Reply r = gw.call("GET", "/openapi.json", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.body()).as("the served document is the committed one").isEqualTo(Files.readString(OpenApiCheck.SOURCE));
    TestGateway.Reply head = gw.call("HEAD", "/openapi.json", null);
    assertThat(head.status()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(gw.call("GET", "/v1/stats", null).status()).as("while /v1 needs a key").isEqualTo(401);

    Vertx vertx = Vertx.vertx();
    try {
      // parsing validates the document against the OpenAPI 3.1 schema too
      OpenAPIContract served = Await.get(OpenAPIContract.from(vertx, r.json()));
      assertThat(served.getVersion()).isEqualTo(OpenAPIVersion.V3_1);
      assertThat(r.json().getString("openapi")).startsWith("3.1.");
      List<String> ids = new ArrayList<>();
      for (Path p : served.getPaths()) for (Operation o : p.getOperations()) ids.add(o.getOperationId());
      assertThat(ids).doesNotContainNull().doesNotHaveDuplicates()
          .contains("getHealth", "getMetrics", "getOpenApi", "putEntry", "getEntry", "headEntry", "deleteEntry", "getEntries",
              "getEntryMeta", "getSuggestedDependencies", "touchEntry", "invalidate", "postEvent", "getTag", "getStats",
              "getRules", "createStreamToken", "openStream", "getDemoProducts", "bumpDemoProduct");
      assertThat(served.securityScheme("apiKey")).isNotNull();
    } finally {
      vertx.close();
    }
  }

  @Test
  void everyRouteTheGatewayRegistersIsInTheDocumentAndNothingElse() {
    Set<String> registered = new TreeSet<>(RestRoutes.of(gw.gateway.vertx(), gw.gateway.config(), gw.gateway.metrics()));
    registered.add("GET /v1/stream"); // mounted by HttpVerticle, ahead of the REST routes
    Set<String> documented = new TreeSet<>();
    OpenAPIContract contract = OpenApiCheck.get().contract();
    for (Path p : contract.getPaths()) for (Operation o : p.getOperations()) documented.add(o.getHttpMethod().name() + " " + p.getName());
    assertThat(documented).containsExactlyInAnyOrderElementsOf(registered);
  }

  @Test
  void theDocumentIsConsistentWithItself() {
    OpenAPIContract contract = OpenApiCheck.get().contract();
    List<String> wrong = new ArrayList<>();
    for (Path p : contract.getPaths()) {
      for (Operation o : p.getOperations()) {
        Set<String> statuses = statuses(o);
        boolean keyed = o.getSecurityRequirements().stream().anyMatch(s -> s.getNames().contains("apiKey"));
        if (keyed && !statuses.containsAll(Set.of("401", "403"))) wrong.add(o.getOperationId() + " needs a key but lists no 401/403");
        if (o.getHttpMethod() == HttpMethod.HEAD) {
          Operation get = contract.findOperation(p.getName(), HttpMethod.GET);
          if (get == null) wrong.add(o.getOperationId() + " has no GET");
          else if (!statuses(get).equals(statuses)) wrong.add(o.getOperationId() + " " + statuses + " but GET " + statuses(get));
        }
      }
    }
    assertThat(wrong).isEmpty();
  }

  private static Set<String> statuses(Operation o) {
    Set<String> out = new TreeSet<>(o.getOpenAPIModel().getJsonObject("responses").fieldNames());
    out.removeIf(name -> !io.vertx.json.schema.JsonSchema.EXCLUDE_ANNOTATIONS.test(name));
    return out;
  }

  @Test
  void everyOperationAnswersAsDocumented() {
    // each call is checked against the document by TestGateway.call; this tour reaches every operation
    String version = admin("PUT", "/v1/entries/oa:1", "{\"value\":{\"a\":1},\"tags\":[\"oa:t:1\"],\"dependsOn\":[\"oa:base\"]}")
        .json().getString("version");
    admin("PUT", "/v1/entries/oa:base", "{\"value\":1,\"ttl\":60}");
    List<Object[]> tour = List.of(
        new Object[] {"GET", "/health", null, 200},
        new Object[] {"HEAD", "/health", null, 200},
        new Object[] {"GET", "/metrics", null, 200},
        new Object[] {"HEAD", "/metrics", null, 200},
        new Object[] {"GET", "/openapi.json", null, 200},
        new Object[] {"HEAD", "/openapi.json", null, 200},
        new Object[] {"GET", "/v1/entries/oa:1", null, 200},
        new Object[] {"HEAD", "/v1/entries/oa:1", null, 200},
        new Object[] {"GET", "/v1/entries/oa:none?lease=true", null, 404},
        new Object[] {"GET", "/v1/entries?keys=oa:1,oa:none", null, 200},
        new Object[] {"HEAD", "/v1/entries?keys=oa:1", null, 200},
        new Object[] {"GET", "/v1/entries/oa:1/meta", null, 200},
        new Object[] {"HEAD", "/v1/entries/oa:1/meta", null, 200},
        new Object[] {"GET", "/v1/entries/oa:1/suggested-dependencies", null, 200},
        new Object[] {"HEAD", "/v1/entries/oa:1/suggested-dependencies", null, 200},
        new Object[] {"POST", "/v1/entries/oa:1/touch", "{\"ttl\":120}", 200},
        new Object[] {"GET", "/v1/tags/oa:t", null, 200},
        new Object[] {"HEAD", "/v1/tags/oa:t", null, 200},
        new Object[] {"GET", "/v1/stats", null, 200},
        new Object[] {"HEAD", "/v1/stats", null, 200},
        new Object[] {"GET", "/v1/stats/series", null, 200},
        new Object[] {"HEAD", "/v1/stats/series", null, 200},
        new Object[] {"GET", "/v1/notices?limit=5", null, 200},
        new Object[] {"GET", "/v1/notices?key=oa:1", null, 200},
        new Object[] {"HEAD", "/v1/notices", null, 200},
        new Object[] {"GET", "/v1/instances", null, 200},
        new Object[] {"HEAD", "/v1/instances", null, 200},
        new Object[] {"GET", "/v1/rules", null, 200},
        new Object[] {"HEAD", "/v1/rules", null, 200},
        new Object[] {"POST", "/v1/tokens", "{\"keys\":[\"oa:*\"],\"ttl\":60}", 200},
        new Object[] {"GET", "/demo/products", null, 200},
        new Object[] {"HEAD", "/demo/products", null, 200},
        new Object[] {"POST", "/demo/products/7/bump", null, 200},
        new Object[] {"POST", "/demo/products/1000/bump", null, 404},
        new Object[] {"POST", "/v1/events/user_updated", "{\"user_id\":7}", 200},
        new Object[] {"POST", "/v1/events/no_such_event", "{}", 404},
        new Object[] {"POST", "/v1/invalidations?dryRun=true", "{\"tags\":[\"oa:t\"]}", 200},
        new Object[] {"POST", "/v1/rules/products/evaluate", "{\"op\":\"INSERT\",\"new\":{\"id\":1,\"category_id\":2}}", 200},
        new Object[] {"POST", "/v1/rules/nope/evaluate", "{\"op\":\"TRUNCATE\"}", 404},
        new Object[] {"POST", "/v1/invalidations", "{\"tags\":[\"oa:t\"],\"reason\":\"openapi tour\"}", 200},
        new Object[] {"DELETE", "/v1/entries/oa:base?cascade=false", null, 200},
        new Object[] {"PUT", "/v1/entries/oa:1", "{\"value\":2,\"ifVersion\":\"" + version + "\"}", 412},
        new Object[] {"GET", "/v1/stream", null, 400},
        new Object[] {"PATCH", "/v1/entries/oa:1", "{}", 405},
        new Object[] {"GET", "/v1/no-such-route", null, 404});
    Set<String> reached = new TreeSet<>();
    OpenAPIContract contract = OpenApiCheck.get().contract();
    for (Object[] t : tour) {
      TestGateway.Reply r = admin((String) t[0], (String) t[1], (String) t[2]);
      assertThat(r.status()).as(t[0] + " " + t[1] + " -> " + r.body()).isEqualTo(t[3]);
      Operation op = contract.findOperation(((String) t[1]).split("\\?")[0], HttpMethod.valueOf((String) t[0]));
      if (op != null) reached.add(op.getOperationId());
    }
    // refusals of the keyed routes, with the reader's key and none
    assertThat(gw.call("PUT", "/v1/entries/oa:2", "{\"value\":1}", "Authorization", "Bearer " + READ).status()).isEqualTo(403);
    assertThat(gw.call("DELETE", "/v1/entries/oa:2", null).status()).isEqualTo(401);
    assertThat(gw.call("HEAD", "/v1/entries/oa:2", null).status()).isEqualTo(401);
    Set<String> all = new TreeSet<>();
    contract.getPaths().forEach(p -> p.getOperations().forEach(o -> all.add(o.getOperationId())));
    assertThat(reached).as("operations the tour reached").containsExactlyInAnyOrderElementsOf(all);
  }

  @Test
  void theCheckerRefusesAnswersTheDocumentDoesNotDescribe() {
    OpenApiCheck check = OpenApiCheck.get();
    Map<String, List<String>> json = Map.of("Content-Type", List.of("application/json"));
    Map<String, List<String>> jsonWithEtag = Map.of("Content-Type", List.of("application/json"), "ETag", List.of("\"7\""));
    String entry = "{\"key\":\"k\",\"value\":{\"a\":1},\"version\":\"7\",\"ttl\":60,\"tags\":[]}";

    // what the gateway answers passes
    assertThatCode(() -> check.check("GET", "/v1/entries/k", 200, jsonWithEtag, entry)).doesNotThrowAnyException();
    assertThatCode(() -> check.check("GET", "/v1/entries/k", 200, jsonWithEtag,
        entry.replace("\"tags\":[]", "\"tags\":[],\"stale\":true,\"lease\":\"ab12\",\"refreshAhead\":true"))).doesNotThrowAnyException();
    assertThatCode(() -> check.check("GET", "/v1/nowhere", 404, json, "{\"error\":\"not_found\",\"message\":\"no such route\"}"))
        .doesNotThrowAnyException();
    assertThatCode(() -> check.check("GET", "/app.js", 200, Map.of(), "static")).as("not REST").doesNotThrowAnyException();

    // an undocumented status: named with the route, the status and the body
    assertThatThrownBy(() -> check.check("GET", "/v1/entries/k", 418, json, "{\"error\":\"teapot\",\"message\":\"short and stout\"}"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("GET /v1/entries/k").hasMessageContaining("418").hasMessageContaining("short and stout")
        .hasMessageContaining("getEntry");
    assertThatThrownBy(() -> check.check("GET", "/v1/stats", 500, json, "{\"error\":\"internal_error\",\"message\":\"internal error\"}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("500");
    // a wrong type, a missing field, an undocumented field, a wrong error code
    assertThatThrownBy(() -> check.check("GET", "/v1/entries/k", 200, jsonWithEtag, entry.replace("\"ttl\":60", "\"ttl\":\"60\"")))
        .isInstanceOf(AssertionError.class).hasMessageContaining("\"ttl\":\"60\"");
    assertThatThrownBy(() -> check.check("GET", "/v1/entries/k", 200, jsonWithEtag, entry.replace(",\"tags\":[]", "")))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("PUT", "/v1/entries/k", 200, jsonWithEtag, "{\"key\":\"k\",\"version\":\"7\",\"ttl\":60,\"surprise\":1}"))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("PUT", "/v1/entries/k", 412, json, "{\"error\":\"lease_voided\",\"message\":\"m\"}"))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(() -> check.check("GET", "/v1/entries/k", 404, json, "{\"error\":\"not_found\",\"message\":\"m\",\"lease\":\"a\",\"retryAfterMs\":5}"))
        .as("a lease and a wait at once").isInstanceOf(AssertionError.class);
    // a missing header, a wrong content type, a body where none is documented
    assertThatThrownBy(() -> check.check("GET", "/v1/entries/k", 200, json, entry))
        .isInstanceOf(AssertionError.class).hasMessageContaining("ETag");
    assertThatThrownBy(() -> check.check("GET", "/v1/stats", 429, json, "{\"error\":\"rate_limited\",\"message\":\"slow down\"}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("Retry-After");
    assertThatThrownBy(() -> check.check("GET", "/v1/tags/t", 200, Map.of("Content-Type", List.of("text/plain")), "{\"tag\":\"t\",\"keys\":[]}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("text/plain");
    assertThatThrownBy(() -> check.check("HEAD", "/health", 200, json, "{\"status\":\"UP\"}"))
        .isInstanceOf(AssertionError.class);
    // an unknown route, an unlisted method, a wrong Allow
    assertThatThrownBy(() -> check.check("GET", "/v1/nowhere", 200, json, "{}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("/v1/nowhere");
    assertThatThrownBy(() -> check.check("PATCH", "/v1/entries/k", 200, json, "{}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("PATCH");
    assertThatThrownBy(() -> check.check("PATCH", "/v1/entries/k", 405,
        Map.of("Content-Type", List.of("application/json"), "Allow", List.of("GET, PUT")),
        "{\"error\":\"method_not_allowed\",\"message\":\"m\"}"))
        .isInstanceOf(AssertionError.class).hasMessageContaining("DELETE, GET, HEAD, PUT");
  }
}
