package io.cachegate.api;

import io.cachegate.bus.Messages.Cause;
import io.cachegate.bus.Messages.Invalidation;
import io.cachegate.bus.Messages.PutCommand;
import io.cachegate.config.ConfigLoader;
import io.cachegate.config.GatewayConfig;
import io.cachegate.rules.InvalidationRule;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Request bodies to bus commands: what is accepted, and the 400 (code and sentence) for what is not. */
class RequestsTest {

  /** defaultTtl 300, maxTtl 1000, and three strategies: templated, without ttl, and non-adaptive. */
  private static final GatewayConfig CONFIG = ConfigLoader.fromTree(new JsonObject("""
      {"cache": {"defaultTtl": 300, "maxTtl": 1000},
       "strategies": {
         "user_profile": {"ttl": 600, "tags": ["user:{user_id}"], "dependsOn": ["user:{user_id}:base"]},
         "plain": {},
         "fixed": {"ttl": 60, "adaptive": false},
         "self": {"dependsOn": ["doc:{id}"]}
       }}"""), Map.of());

  private static JsonObject json(String s) {
    return new JsonObject(s);
  }

  private static void refused(ThrowingCallable call, String code, String message) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status).isEqualTo(400);
      assertThat(e.code).isEqualTo(code);
    }).hasMessage(message);
  }

  private static void badRequest(ThrowingCallable call, String message) {
    refused(call, "bad_request", message);
  }

  private static void badName(ThrowingCallable call, String messagePart) {
    assertThatThrownBy(call).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status).isEqualTo(400);
      assertThat(e.code).isEqualTo("bad_name");
    }).hasMessageContaining(messagePart);
  }

  private static PutCommand put(String body) {
    return Requests.put("k", json(body), CONFIG);
  }

  private static JsonArray names(String stem, int n) {
    return new JsonArray(IntStream.range(0, n).mapToObj(i -> stem + i).collect(Collectors.toList()));
  }

  // ---- checkName ----

  @Test
  void checkNameAcceptsValidNamesAndRefusesOthersAsBadName() {
    Requests.checkName("key", "user:42:profile");
    Requests.checkName("key", "k".repeat(512));
    badName(() -> Requests.checkName("key", ""), "key must not be empty");
    badName(() -> Requests.checkName("key", "a b"), "whitespace");
    badName(() -> Requests.checkName("tag", "a\u0001b"), "control");
    badName(() -> Requests.checkName("key", "k".repeat(513)), "longer than 512");
    badName(() -> Requests.checkName("prefix", "cg:x"), "reserved prefix cg:");
  }

  // ---- PUT /v1/entries/{key} ----

  @Test
  void aPutWithOnlyAValueTakesTheDefaults() {
    PutCommand c = put("{\"value\": {\"name\": \"Ada\"}}");
    assertThat(c.key()).isEqualTo("k");
    assertThat(new JsonObject(c.valueJson())).isEqualTo(json("{\"name\": \"Ada\"}"));
    assertThat(c.ttlSeconds()).isEqualTo(300);
    assertThat(c.ttlExplicit()).isFalse();
    assertThat(c.tags()).isEmpty();
    assertThat(c.dependsOn()).isEmpty();
    assertThat(c.sliding()).isFalse();
    assertThat(c.ifVersion()).isNull();
    assertThat(c.lease()).isNull();
    assertThat(c.type()).isNull();
    assertThat(c.autoDepends()).isFalse();
    assertThat(c.computeMs()).isZero();
  }

  @Test
  void theValueMayBeAnyJsonValueIncludingNull() {
    assertThat(put("{\"value\": null}").valueJson()).isEqualTo("null");
    assertThat(put("{\"value\": [1, \"two\"]}").valueJson()).isEqualTo("[1,\"two\"]");
    assertThat(put("{\"value\": \"text\"}").valueJson()).isEqualTo("\"text\"");
    assertThat(put("{\"value\": 42}").valueJson()).isEqualTo("42");
    assertThat(put("{\"value\": false}").valueJson()).isEqualTo("false");
  }

  @Test
  void aPutWithoutAValueOrWithAnUnknownFieldIsRefused() {
    badRequest(() -> put("{}"), "value is required (any JSON value)");
    badRequest(() -> put("{\"ttl\": 5}"), "value is required (any JSON value)");
    badRequest(() -> put("{\"value\": 1, \"ttll\": 5}"),
        "unknown field 'ttll' (allowed: computeMs, dependsOn, ifVersion, lease, params, sliding, tags, ttl, type, value)");
  }

  @Test
  void aPutUnderAnInvalidKeyIsRefusedAsBadName() {
    badName(() -> Requests.put("a b", json("{\"value\": 1}"), CONFIG), "whitespace");
    badName(() -> Requests.put("cg:notices", json("{\"value\": 1}"), CONFIG), "reserved");
    badName(() -> Requests.put("", json("{\"value\": 1}"), CONFIG), "empty");
  }

  @Test
  void theTtlIsAWholeNumberOfSecondsFromOneToMaxTtl() {
    assertThat(put("{\"value\": 1, \"ttl\": 1}").ttlSeconds()).isEqualTo(1);
    assertThat(put("{\"value\": 1, \"ttl\": 1000}").ttlSeconds()).isEqualTo(1000);
    assertThat(put("{\"value\": 1, \"ttl\": 60.0}").ttlSeconds()).isEqualTo(60);
    assertThat(put("{\"value\": 1, \"ttl\": 60}").ttlExplicit()).isTrue();
    assertThat(put("{\"value\": 1, \"ttl\": null}").ttlSeconds()).isEqualTo(300); // null is absent
    for (String ttl : new String[] {"0", "-1", "1001", "1e30", "-1e30"}) {
      badRequest(() -> put("{\"value\": 1, \"ttl\": " + ttl + "}"), "ttl must be between 1 and 1000 seconds");
    }
    for (String ttl : new String[] {"1.5", "\"60\"", "true", "[60]", "{}"}) {
      badRequest(() -> put("{\"value\": 1, \"ttl\": " + ttl + "}"), "ttl must be a whole number of seconds");
    }
  }

  @Test
  void aTtlTooLargeForALongIsRefusedNotWrappedAround() {
    // Jackson decodes integers beyond a long as BigInteger; longValue() keeps only the low 64 bits
    badRequest(() -> put("{\"value\": 1, \"ttl\": 18446744073709551621}"), "ttl must be between 1 and 1000 seconds");
    badRequest(() -> Requests.touchTtl(json("{\"ttl\": 18446744073709551621}"), CONFIG), "ttl must be between 1 and 1000 seconds");
  }

  @Test
  void aTypeTakesItsStrategysTtlTagsAndDependencies() {
    PutCommand c = put("{\"value\": 1, \"type\": \"user_profile\", \"params\": {\"user_id\": 42}}");
    assertThat(c.type()).isEqualTo("user_profile");
    assertThat(c.ttlSeconds()).isEqualTo(600);
    assertThat(c.ttlExplicit()).isFalse(); // adaptive rules may adjust it
    assertThat(c.tags()).containsExactly("user:42", "user");
    assertThat(c.dependsOn()).containsExactly("user:42:base");
  }

  @Test
  void anExplicitTtlAndTheCallersNamesAddToTheTypes() {
    PutCommand c = put("{\"value\": 1, \"type\": \"user_profile\", \"params\": {\"user_id\": 42}, \"ttl\": 90,"
        + " \"tags\": [\"team:a\"], \"dependsOn\": [\"org:1\", \"user:42:base\"]}");
    assertThat(c.ttlSeconds()).isEqualTo(90);
    assertThat(c.ttlExplicit()).isTrue();
    assertThat(c.tags()).containsExactlyInAnyOrder("team:a", "team", "user:42", "user");
    assertThat(c.dependsOn()).containsExactly("org:1", "user:42:base"); // the same key once
  }

  @Test
  void aTypeWithoutTtlTakesTheDefaultAndANonAdaptiveTypesTtlCountsAsExplicit() {
    PutCommand plain = put("{\"value\": 1, \"type\": \"plain\"}");
    assertThat(plain.ttlSeconds()).isEqualTo(300);
    assertThat(plain.ttlExplicit()).isFalse();
    PutCommand fixed = put("{\"value\": 1, \"type\": \"fixed\"}");
    assertThat(fixed.ttlSeconds()).isEqualTo(60);
    assertThat(fixed.ttlExplicit()).isTrue();
  }

  @Test
  void aTypeMustBeAConfiguredStrategyAndItsParamsMustFillItsTemplates() {
    badRequest(() -> put("{\"value\": 1, \"type\": \"nope\"}"), "type 'nope' is not a configured strategy");
    badRequest(() -> put("{\"value\": 1, \"type\": 7}"), "type must be a string");
    badRequest(() -> put("{\"value\": 1, \"type\": \"user_profile\"}"),
        "params.user_id is required by the type's template user:{user_id}");
    badRequest(() -> put("{\"value\": 1, \"type\": \"user_profile\", \"params\": {\"other\": 1}}"),
        "params.user_id is required by the type's template user:{user_id}");
    badRequest(() -> put("{\"value\": 1, \"type\": \"user_profile\", \"params\": [42]}"), "params must be a JSON object");
    badName(() -> put("{\"value\": 1, \"type\": \"user_profile\", \"params\": {\"user_id\": \"4 2\"}}"), "whitespace");
  }

  @Test
  void tagsAreFiledWithTheirParentsOnceEach() {
    PutCommand c = put("{\"value\": 1, \"tags\": [\"user:1:profile\", \"user:1\", \"user:1:profile\", \"team\"]}");
    assertThat(c.tags()).containsExactlyInAnyOrder("user:1:profile", "user:1", "user", "team"); // each once
  }

  @Test
  void tagsAndDependsOnMustBeListsOfValidNames() {
    badRequest(() -> put("{\"value\": 1, \"tags\": \"user:1\"}"), "tags must be a list of strings");
    badRequest(() -> put("{\"value\": 1, \"tags\": [\"a\", 1]}"), "tags must be a list of strings");
    badRequest(() -> put("{\"value\": 1, \"tags\": [null]}"), "tags must be a list of strings");
    badName(() -> put("{\"value\": 1, \"tags\": [\"a b\"]}"), "tag 'a?b' contains whitespace");
    badRequest(() -> put("{\"value\": 1, \"dependsOn\": {\"k\": 1}}"), "dependsOn must be a list of strings");
    badRequest(() -> put("{\"value\": 1, \"dependsOn\": \"other\"}"), "dependsOn must be a list of strings");
    badName(() -> put("{\"value\": 1, \"dependsOn\": [\"cg:x\"]}"), "key 'cg:x' is under the reserved prefix");
  }

  @Test
  void anEntryMayCarryAtMost256Tags() {
    assertThat(Requests.put("k", new JsonObject().put("value", 1).put("tags", names("t", 256)), CONFIG).tags()).hasSize(256);
    badRequest(() -> Requests.put("k", new JsonObject().put("value", 1).put("tags", names("t", 257)), CONFIG),
        "tags may hold at most 256 names");
    badRequest(() -> Requests.put("k", new JsonObject().put("value", 1).put("dependsOn", names("d", 257)), CONFIG),
        "dependsOn may hold at most 256 names");
    // 130 tags, each with a parent: 260 in all
    JsonArray withParents = new JsonArray();
    for (int i = 0; i < 130; i++) withParents.add("p" + i + ":c");
    badRequest(() -> Requests.put("k", new JsonObject().put("value", 1).put("tags", withParents), CONFIG),
        "an entry may carry at most 256 tags with their parents");
  }

  @Test
  void dependsOnAutoAsksForSuggestedDependencies() {
    PutCommand c = put("{\"value\": 1, \"dependsOn\": \"auto\"}");
    assertThat(c.autoDepends()).isTrue();
    assertThat(c.dependsOn()).isEmpty();
  }

  @Test
  void anEntryMayNotDependOnItself() {
    badRequest(() -> Requests.put("doc:1", json("{\"value\": 1, \"dependsOn\": [\"doc:2\", \"doc:1\"]}"), CONFIG),
        "dependsOn must not name the entry itself");
    // nor through its type's template
    badRequest(() -> Requests.put("doc:1", json("{\"value\": 1, \"type\": \"self\", \"params\": {\"id\": 1}}"), CONFIG),
        "dependsOn must not name the entry itself");
    assertThat(Requests.put("doc:2", json("{\"value\": 1, \"type\": \"self\", \"params\": {\"id\": 1}}"), CONFIG).dependsOn())
        .containsExactly("doc:1");
  }

  @Test
  void slidingIfVersionAndLeaseAreReadWithTheirTypes() {
    PutCommand c = put("{\"value\": 1, \"sliding\": true, \"ifVersion\": \"v7\", \"lease\": \"L1\"}");
    assertThat(c.sliding()).isTrue();
    assertThat(c.ifVersion()).isEqualTo("v7");
    assertThat(c.lease()).isEqualTo("L1");
    assertThat(put("{\"value\": 1, \"sliding\": false}").sliding()).isFalse();
    // a version is also accepted as the whole number it usually is
    assertThat(put("{\"value\": 1, \"ifVersion\": 7}").ifVersion()).isEqualTo("7");
    assertThat(put("{\"value\": 1, \"ifVersion\": 7.0}").ifVersion()).isEqualTo("7");
    badRequest(() -> put("{\"value\": 1, \"sliding\": \"yes\"}"), "sliding must be true or false");
    badRequest(() -> put("{\"value\": 1, \"sliding\": 1}"), "sliding must be true or false");
    badRequest(() -> put("{\"value\": 1, \"ifVersion\": 7.5}"), "ifVersion must be a version string");
    badRequest(() -> put("{\"value\": 1, \"ifVersion\": true}"), "ifVersion must be a version string");
    badRequest(() -> put("{\"value\": 1, \"lease\": 5}"), "lease must be a string");
  }

  @Test
  void computeMsIsFromOneToAnHour() {
    assertThat(put("{\"value\": 1, \"computeMs\": 1}").computeMs()).isEqualTo(1);
    assertThat(put("{\"value\": 1, \"computeMs\": 3600000}").computeMs()).isEqualTo(3_600_000);
    badRequest(() -> put("{\"value\": 1, \"computeMs\": 0}"), "computeMs must be between 1 and 3600000");
    badRequest(() -> put("{\"value\": 1, \"computeMs\": 3600001}"), "computeMs must be between 1 and 3600000");
    assertThatThrownBy(() -> put("{\"value\": 1, \"computeMs\": \"50\"}")).isInstanceOf(ApiError.class)
        .hasMessageStartingWith("computeMs must be a whole number");
  }

  @Test
  void aNonWholeComputeMsIsRefusedInMilliseconds() {
    assertThatThrownBy(() -> put("{\"value\": 1, \"computeMs\": 1.5}")).isInstanceOf(ApiError.class)
        .hasMessage("computeMs must be a whole number of milliseconds");
  }

  // ---- POST /v1/invalidations ----

  @Test
  void anInvalidationTakesKeysTagsAndPrefixesAsGivenAndCascadesByDefault() {
    Invalidation inv = Requests.invalidation(json(
        "{\"keys\": [\"user:1\", \"user:1\", \"user:2\"], \"tags\": [\"team:a\"], \"prefixes\": [\"cart:1:\"]}"));
    assertThat(inv.targets().keys()).containsExactly("user:1", "user:2");
    assertThat(inv.targets().tags()).containsExactly("team:a"); // no parents: "team" is not invalidated
    assertThat(inv.targets().prefixes()).containsExactly("cart:1:");
    assertThat(inv.cascade()).isTrue();
    assertThat(inv.soft()).isFalse();
    assertThat(inv.cause()).isEqualTo(Cause.api(null));
  }

  @Test
  void cascadeReasonAndModeAreHonoured() {
    Invalidation inv = Requests.invalidation(json("{\"tags\": [\"t\"], \"cascade\": false, \"reason\": \"price list\", \"mode\": \"soft\"}"));
    assertThat(inv.cascade()).isFalse();
    assertThat(inv.soft()).isTrue();
    assertThat(inv.cause()).isEqualTo(Cause.api("price list"));
    assertThat(Requests.invalidation(json("{\"prefixes\": [\"p:\"], \"mode\": \"hard\", \"cascade\": true}")).soft()).isFalse();
    assertThat(Requests.invalidation(json("{\"keys\": [\"k\"], \"reason\": \"" + "r".repeat(512) + "\"}")).cause().reason())
        .hasSize(512);
  }

  @Test
  void anInvalidationMustNameSomething() {
    badRequest(() -> Requests.invalidation(json("{}")), "name at least one of keys, tags or prefixes");
    badRequest(() -> Requests.invalidation(json("{\"keys\": [], \"tags\": [], \"cascade\": false}")),
        "name at least one of keys, tags or prefixes");
  }

  @Test
  void anInvalidationsFieldsAreChecked() {
    badRequest(() -> Requests.invalidation(json("{\"key\": [\"a\"]}")),
        "unknown field 'key' (allowed: cascade, keys, mode, prefixes, reason, tags)");
    badRequest(() -> Requests.invalidation(json("{\"keys\": \"a\"}")), "keys must be a list of strings");
    badRequest(() -> Requests.invalidation(json("{\"prefixes\": [1]}")), "prefixes must be a list of strings");
    badName(() -> Requests.invalidation(json("{\"tags\": [\"\"]}")), "tag must not be empty");
    badName(() -> Requests.invalidation(json("{\"prefixes\": [\"cg:\"]}")), "prefix 'cg:' is under the reserved prefix");
    badRequest(() -> Requests.invalidation(json("{\"keys\": [\"a\"], \"cascade\": \"no\"}")), "cascade must be true or false");
    badRequest(() -> Requests.invalidation(json("{\"keys\": [\"a\"], \"reason\": 5}")), "reason must be a string");
    badRequest(() -> Requests.invalidation(json("{\"keys\": [\"a\"], \"reason\": \"" + "r".repeat(513) + "\"}")),
        "reason is longer than 512 characters");
    badRequest(() -> Requests.invalidation(json("{\"keys\": [\"a\"], \"mode\": \"SOFT\"}")), "mode must be hard or soft");
  }

  @Test
  void anInvalidationNamesAtMostTenThousandNames() {
    assertThat(Requests.invalidation(new JsonObject().put("keys", names("k", 10_000))).targets().keys()).hasSize(10_000);
    badRequest(() -> Requests.invalidation(new JsonObject().put("keys", names("k", 10_001))), "keys may hold at most 10000 names");
    badRequest(() -> Requests.invalidation(new JsonObject().put("keys", names("k", 5_000)).put("tags", names("t", 5_001))),
        "one invalidation may name at most 10000 keys, tags and prefixes");
    // duplicates count once
    JsonArray twice = names("k", 5_000).addAll(names("k", 5_000));
    assertThat(Requests.invalidation(new JsonObject().put("keys", twice).put("tags", names("t", 5_000))).targets().keys())
        .hasSize(5_000);
  }

  @Test
  void modeIsAbsentHardOrSoft() {
    assertThat(Requests.soft(null)).isFalse();
    assertThat(Requests.soft("hard")).isFalse();
    assertThat(Requests.soft("soft")).isTrue();
    badRequest(() -> Requests.soft("lazy"), "mode must be hard or soft");
    badRequest(() -> Requests.soft(""), "mode must be hard or soft");
    badRequest(() -> Requests.soft(true), "mode must be hard or soft");
  }

  // ---- POST /v1/tokens ----

  @Test
  void aTokenClaimListsNamesAndPatternsAndAlwaysHasAllThreeLists() {
    assertThat(Requests.tokenClaim(json("{}"))).isEqualTo(json("{\"keys\": [], \"tags\": [], \"prefixes\": []}"));
    JsonObject cg = Requests.tokenClaim(json("{\"keys\": [\"user:42:*\", \"home\"], \"tags\": [\"*\"], \"prefixes\": [\"cart:42:\"], \"ttl\": 60}"));
    assertThat(cg).isEqualTo(json("{\"keys\": [\"user:42:*\", \"home\"], \"tags\": [\"*\"], \"prefixes\": [\"cart:42:\"]}"));
  }

  @Test
  void aTokenClaimRefusesWhatCouldNeverMatchAValidName() {
    badRequest(() -> Requests.tokenClaim(json("{\"keys\": \"user:*\"}")), "keys must be a list of names or patterns");
    badRequest(() -> Requests.tokenClaim(json("{\"tags\": [7]}")), "tags must hold strings");
    badRequest(() -> Requests.tokenClaim(json("{\"all\": true}")), "unknown field 'all' (allowed: keys, prefixes, tags, ttl)");
    badName(() -> Requests.tokenClaim(json("{\"keys\": [\"a b*\"]}")), "whitespace");
    badName(() -> Requests.tokenClaim(json("{\"prefixes\": [\"cg:*\"]}")), "reserved");
    badName(() -> Requests.tokenClaim(json("{\"keys\": [\"\"]}")), "empty");
    badRequest(() -> Requests.tokenClaim(new JsonObject().put("keys", names("k", 10_001))), "keys may hold at most 10000 entries");
  }

  @Test
  void aTokensTtlDefaultsToAnHourCappedByTheMaximum() {
    assertThat(Requests.tokenTtl(json("{}"), 86_400)).isEqualTo(3600);
    assertThat(Requests.tokenTtl(json("{}"), 600)).isEqualTo(600);
    assertThat(Requests.tokenTtl(json("{\"ttl\": 60}"), 86_400)).isEqualTo(60);
    assertThat(Requests.tokenTtl(json("{\"ttl\": 600}"), 600)).isEqualTo(600);
    badRequest(() -> Requests.tokenTtl(json("{\"ttl\": 0}"), 600), "ttl must be between 1 and 600 seconds");
    badRequest(() -> Requests.tokenTtl(json("{\"ttl\": 601}"), 600), "ttl must be between 1 and 600 seconds");
    badRequest(() -> Requests.tokenTtl(json("{\"ttl\": \"60\"}"), 600), "ttl must be a whole number of seconds");
  }

  // ---- GET /v1/entries?keys= ----

  @Test
  void aMultiGetTakesCommaSeparatedKeysOnceEachInOrder() {
    assertThat(Requests.multiGetKeys("a")).containsExactly("a");
    assertThat(Requests.multiGetKeys("c,a,b")).containsExactly("c", "a", "b");
    assertThat(Requests.multiGetKeys("a,b,a")).containsExactly("a", "b");
    String hundred = IntStream.range(0, 100).mapToObj(i -> "k" + i).collect(Collectors.joining(","));
    assertThat(Requests.multiGetKeys(hundred)).hasSize(100);
  }

  @Test
  void aMultiGetRefusesNoKeysEmptyOrInvalidKeysAndMoreThanAHundred() {
    badRequest(() -> Requests.multiGetKeys(null), "keys is required: ?keys=a,b,c");
    badRequest(() -> Requests.multiGetKeys(""), "keys is required: ?keys=a,b,c");
    badName(() -> Requests.multiGetKeys("a,,b"), "key must not be empty");
    badName(() -> Requests.multiGetKeys("a,"), "key must not be empty");
    badName(() -> Requests.multiGetKeys(","), "key must not be empty");
    badName(() -> Requests.multiGetKeys("a, b"), "whitespace");
    badName(() -> Requests.multiGetKeys("a,cg:lease:a"), "reserved");
    String many = IntStream.range(0, 101).mapToObj(i -> "k" + i).collect(Collectors.joining(","));
    badRequest(() -> Requests.multiGetKeys(many), "at most 100 keys per multi-get");
  }

  // ---- POST /v1/entries/{key}/touch ----

  @Test
  void aTouchBodyIsEmptyOrATtl() {
    assertThat(Requests.touchTtl(null, CONFIG)).isNull();
    assertThat(Requests.touchTtl(json("{}"), CONFIG)).isNull();
    assertThat(Requests.touchTtl(json("{\"ttl\": null}"), CONFIG)).isNull();
    assertThat(Requests.touchTtl(json("{\"ttl\": 30}"), CONFIG)).isEqualTo(30L);
    assertThat(Requests.touchTtl(json("{\"ttl\": 1000}"), CONFIG)).isEqualTo(1000L);
    badRequest(() -> Requests.touchTtl(json("{\"ttl\": 0}"), CONFIG), "ttl must be between 1 and 1000 seconds");
    badRequest(() -> Requests.touchTtl(json("{\"ttl\": 1001}"), CONFIG), "ttl must be between 1 and 1000 seconds");
    badRequest(() -> Requests.touchTtl(json("{\"ttl\": 2.5}"), CONFIG), "ttl must be a whole number of seconds");
    badRequest(() -> Requests.touchTtl(json("{\"sliding\": true}"), CONFIG), "unknown field 'sliding' (allowed: ttl)");
  }

  // ---- POST /v1/events/{name} ----

  private static final InvalidationRule USER_UPDATED = InvalidationRule.parse("user_updated",
      json("{\"keys\": [\"user:{id}:profile\"], \"tags\": [\"team:{team}\"], \"mode\": \"soft\"}"), "events.user_updated");

  @Test
  void anEventRendersItsRuleFromTheBody() {
    Invalidation inv = Requests.event("user_updated", USER_UPDATED, json("{\"id\": 42, \"team\": \"a\", \"extra\": [1]}"));
    assertThat(inv.targets().keys()).containsExactly("user:42:profile");
    assertThat(inv.targets().tags()).containsExactly("team:a");
    assertThat(inv.targets().prefixes()).isEmpty();
    assertThat(inv.cascade()).isTrue();
    assertThat(inv.soft()).isTrue();
    assertThat(inv.cause()).isEqualTo(Cause.event("user_updated", null));
  }

  @Test
  void anEventBodyMustHoldEveryFieldAndRenderValidNames() {
    badRequest(() -> Requests.event("user_updated", USER_UPDATED, json("{\"id\": 42}")),
        "event 'user_updated' needs the field 'team' in its body");
    badRequest(() -> Requests.event("user_updated", USER_UPDATED, json("{\"id\": null, \"team\": \"a\"}")),
        "event 'user_updated' needs the field 'id' in its body");
    badName(() -> Requests.event("user_updated", USER_UPDATED, json("{\"id\": 42, \"team\": \"a b\"}")), "tag 'team:a?b'");
    badName(() -> Requests.event("user_updated", USER_UPDATED, json("{\"id\": \"" + "9".repeat(600) + "\", \"team\": \"a\"}")),
        "longer than 512");
  }
}
