package io.cachegate.it;

import io.cachegate.cache.SlotTags;
import io.cachegate.testing.*;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tags whose keys sit in many slots: on a cluster (pom.xml's redis-cluster execution) each slot may be
 * on another master; on one Redis the same steps run. Every leg runs this class.
 */
class TagSlotsIT {

  private static TestGateway gw;

  @BeforeAll
  static void up() {
    gw = TestGateway.start();
  }

  @AfterAll
  static void down() {
    gw.close();
  }

  /** Keys named {@code prefix<i>}, enough of them to sit in {@code slots} different slots. */
  private static List<String> keysInSlots(String prefix, int slots) {
    List<String> keys = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; seen.size() < slots; i++) {
      String k = prefix + i;
      if (seen.add(SlotTags.slot(gw.namespace + k))) keys.add(k);
    }
    return keys;
  }

  @Test
  void aTagInvalidationRemovesItsKeysInEverySlotAndNothingElse() {
    List<String> wide = keysInSlots("wide:{u}", 1); // braces of its own: one slot, whatever follows
    wide.addAll(keysInSlots("wide:", 40));
    List<String> other = keysInSlots("other:", 10);
    for (String k : wide) assertThat(gw.put(path(k), new JsonObject().put("value", k).put("tags", new JsonArray().add("wide:tag"))).status()).isEqualTo(200);
    for (String k : other) assertThat(gw.put(k, new JsonObject().put("value", k).put("tags", new JsonArray().add("other:tag"))).status()).isEqualTo(200);
    assertThat(wide.stream().map(k -> SlotTags.slot(gw.namespace + k)).distinct().count()).isGreaterThanOrEqualTo(30);
    assertThat(gw.call("GET", "/v1/tags/wide:tag", null).json().getJsonArray("keys").getList()).containsExactlyInAnyOrderElementsOf(wide);

    TestGateway.Reply r = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("wide:tag")));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonArray("invalidated").getList()).containsExactlyInAnyOrderElementsOf(wide);
    for (String k : wide) {
      assertThat(gw.exists(k)).as(k).isFalse();
      assertThat(gw.call("GET", "/v1/entries/" + path(k), null).status()).isEqualTo(404);
    }
    for (String k : other) assertThat(gw.exists(k)).as(k).isTrue();
    assertThat(gw.call("GET", "/v1/tags/wide:tag", null).json().getJsonArray("keys")).isEmpty();
    assertThat(gw.call("GET", "/v1/tags/other:tag", null).json().getJsonArray("keys").getList()).containsExactlyInAnyOrderElementsOf(other);
  }

  @Test
  void aReTaggedKeyLeavesItsOldTag() {
    assertThat(gw.put("retag:1", new JsonObject().put("value", 1).put("tags", new JsonArray().add("retag:old"))).status()).isEqualTo(200);
    assertThat(gw.put("retag:1", new JsonObject().put("value", 2).put("tags", new JsonArray().add("retag:new"))).status()).isEqualTo(200);
    assertThat(gw.call("GET", "/v1/tags/retag:old", null).json().getJsonArray("keys")).isEmpty();
    TestGateway.Reply old = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("retag:old")));
    assertThat(old.json().getJsonArray("invalidated")).as("its old tag no longer reaches it").isEmpty();
    assertThat(gw.exists("retag:1")).isTrue();
    TestGateway.Reply now = gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("retag:new")));
    assertThat(now.json().getJsonArray("invalidated").getList()).containsExactly("retag:1");
    assertThat(gw.exists("retag:1")).isFalse();
  }

  /**
   * Writers fill keys of one tag (in many slots) while the tag is invalidated again and again: after
   * each invalidation, no key holds a value whose PUT had answered before that invalidation began.
   */
  @Test
  void noFillThatAnsweredBeforeATagInvalidationSurvivesIt() throws Exception {
    List<String> keys = keysInSlots("race:", 24);
    Map<Long, Long> answeredAt = new ConcurrentHashMap<>(); // value -> System.nanoTime() after its 200
    AtomicLong next = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<String> violations = new ArrayList<>();
    long presentBefore = 0;
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int seed = w;
        writers.add(pool.submit(() -> {
          int i = seed;
          while (writing.get()) {
            long v = next.incrementAndGet();
            String k = keys.get(i++ % keys.size());
            if (gw.put(k, new JsonObject().put("value", v).put("tags", new JsonArray().add("race:tag"))).status() == 200) {
              answeredAt.put(v, System.nanoTime());
            }
          }
        }));
      }
      for (int round = 0; round < 30; round++) {
        long began = System.nanoTime();
        for (String k : keys) if (answered(k, answeredAt, began)) presentBefore++;
        assertThat(gw.post("/v1/invalidations", new JsonObject().put("tags", new JsonArray().add("race:tag"))).status()).isEqualTo(200);
        for (String k : keys) {
          if (answered(k, answeredAt, began)) violations.add(k + " kept a value filled before invalidation " + round + " began");
        }
      }
      writing.set(false);
      for (Future<?> f : writers) f.get(30, TimeUnit.SECONDS);
    } finally {
      writing.set(false);
      pool.shutdownNow();
    }
    assertThat(presentBefore).as("fills were cached when the invalidations began (the check is not empty)").isPositive();
    assertThat(violations).isEmpty();
  }

  /** A key as a URL path segment. */
  private static String path(String key) {
    return key.replace("{", "%7B").replace("}", "%7D");
  }

  /** The key holds a value whose PUT answered before {@code began}. */
  private static boolean answered(String key, Map<Long, Long> answeredAt, long began) {
    io.vertx.redis.client.Response v = gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET).arg(gw.namespace + key));
    if (v == null) return false;
    Long at = answeredAt.get(Long.parseLong(v.toString()));
    return at != null && at < began;
  }
}
