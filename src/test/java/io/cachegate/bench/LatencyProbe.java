package io.cachegate.bench;

import io.cachegate.testing.TestGateway;
import io.cachegate.testing.TestSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;

/** Where the time goes on one notice: REST round trip vs frame arrival (a development probe). */
public final class LatencyProbe {
  public static void main(String[] args) throws Exception {
    try (TestGateway gw = TestGateway.start(); TestSocket s = gw.socket()) {
      s.subscribe(new JsonObject().put("keys", new JsonArray().add("probe")));
      gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.CONFIG).arg("SET").arg("slowlog-log-slower-than").arg("0"));
      gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SLOWLOG).arg("RESET"));
      long[] rest = new long[200];
      long[] frame = new long[200];
      for (int i = 0; i < 200; i++) {
        long t0 = System.nanoTime();
        gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("probe")));
        long t1 = System.nanoTime();
        s.next("invalidate");
        long t2 = System.nanoTime();
        rest[i] = (t1 - t0) / 1000;
        frame[i] = (t2 - t0) / 1000;
      }
      Arrays.sort(rest);
      Arrays.sort(frame);
      System.out.println("REST p50 us " + rest[100] + " p99 " + rest[198] + "; frame p50 us " + frame[100] + " p99 " + frame[198]);
      io.vertx.redis.client.Response log0 = gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SLOWLOG).arg("GET").arg("128"));
      java.util.List<Long> ev = new java.util.ArrayList<>();
      for (io.vertx.redis.client.Response e : log0) if (e.get(3).get(0).toString().equalsIgnoreCase("evalsha")) ev.add(e.get(2).toLong());
      java.util.Collections.sort(ev);
      System.out.println("invalidate.lua n=" + ev.size() + " p50 us " + (ev.isEmpty() ? -1 : ev.get(ev.size() / 2)) + " max " + (ev.isEmpty() ? -1 : ev.get(ev.size() - 1)));
      long[] bare = new long[200];
      for (int i = 0; i < 200; i++) {
        long t0 = System.nanoTime();
        gw.post("/v1/invalidations", new JsonObject().put("keys", new JsonArray().add("nobody-listens")));
        bare[i] = (System.nanoTime() - t0) / 1000;
      }
      Arrays.sort(bare);
      System.out.println("REST invalidation of an unsubscribed key p50 us " + bare[100]);
      long[] del = new long[200];
      for (int i = 0; i < 200; i++) {
        long t0 = System.nanoTime();
        gw.call("DELETE", "/v1/entries/nobody-listens2", null);
        del[i] = (System.nanoTime() - t0) / 1000;
      }
      Arrays.sort(del);
      System.out.println("REST DELETE p50 us " + del[100]);
      long[] get = new long[200];
      long[] health = new long[200];
      long[] ping = new long[200];
      for (int i = 0; i < 200; i++) {
        long t0 = System.nanoTime();
        gw.call("GET", "/v1/entries/probe", null);
        long t1 = System.nanoTime();
        gw.post("/v1/events/none", new JsonObject());
        long t2 = System.nanoTime();
        gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.PING));
        long t3 = System.nanoTime();
        get[i] = (t1 - t0) / 1000;
        health[i] = (t2 - t1) / 1000;
        ping[i] = (t3 - t2) / 1000;
      }
      Arrays.sort(get);
      Arrays.sort(health);
      Arrays.sort(ping);
      io.vertx.redis.client.Response log = gw.redis(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SLOWLOG).arg("GET").arg("128"));
      java.util.Map<String, java.util.List<Long>> byCmd = new java.util.TreeMap<>();
      for (io.vertx.redis.client.Response e : log) {
        String cmd = e.get(3).get(0).toString() + (e.get(3).size() > 1 && e.get(3).get(0).toString().equalsIgnoreCase("evalsha") ? ":" + e.get(3).get(1).toString().substring(0, 6) : "");
        byCmd.computeIfAbsent(cmd, k -> new java.util.ArrayList<>()).add(e.get(2).toLong());
      }
      byCmd.forEach((k, v) -> { java.util.Collections.sort(v); System.out.println("redis " + k + " n=" + v.size() + " p50 us " + v.get(v.size() / 2)); });
      System.out.println("GET p50 us " + get[100] + "; POST 404 p50 us " + health[100] + "; raw PING p50 us " + ping[100]);
    }
    System.exit(0);
  }
}
