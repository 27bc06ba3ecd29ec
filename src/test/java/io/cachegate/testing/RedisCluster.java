package io.cachegate.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster on loopback: {@code masters} masters with {@code replicas} replicas each, every
 * node a Debian redis-server process ({@link RedisServerProcess}) on free ports (its cluster bus on a
 * free port of its own, {@code cluster-port}), joined with {@code redis-cli --cluster create}. Ready
 * when every node reports {@code cluster_state:ok}. Closing stops every node by its pid.
 */
public final class RedisCluster implements AutoCloseable {

  public final List<RedisServerProcess> nodes = new ArrayList<>();

  public RedisCluster(int masters, int replicas) {
    try {
      int n = masters * (1 + replicas);
      for (int i = 0; i < n; i++) {
        int port = RedisServerProcess.freePort();
        nodes.add(new RedisServerProcess(port, List.of("cluster-enabled yes", "cluster-config-file nodes.conf",
            "cluster-port " + RedisServerProcess.freePort(), "cluster-node-timeout 2000")));
      }
      List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (RedisServerProcess node : nodes) cmd.add("127.0.0.1:" + node.port);
      cmd.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
      Process create = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!create.waitFor(60, TimeUnit.SECONDS) || create.exitValue() != 0) {
        create.destroyForcibly();
        throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
      }
      Await.until("every node to report cluster_state:ok", 30_000,
          () -> nodes.stream().allMatch(node -> info(node.port, "CLUSTER INFO").contains("cluster_state:ok")));
      // and to know every replica as such (gossip may lag behind cluster_state:ok)
      Await.until("every node to see " + masters * replicas + " replicas", 30_000, () -> nodes.stream().allMatch(node ->
          info(node.port, "CLUSTER NODES").lines().filter(l -> l.split(" ").length > 2 && l.split(" ")[2].contains("slave")).count()
              == (long) masters * replicas));
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** A URL naming one live node (a cluster client discovers the others). */
  public String url() {
    return nodes.stream().filter(RedisServerProcess::alive).findFirst().orElseThrow().url();
  }

  /** A bulk-string reply of an inline command (CLUSTER INFO, INFO replication), over a plain socket. */
  public static String info(int port, String inline) {
    try (Socket so = new Socket("127.0.0.1", port)) {
      so.setSoTimeout(5000);
      so.getOutputStream().write((inline + "\r\n").getBytes(StandardCharsets.US_ASCII));
      BufferedReader in = new BufferedReader(new InputStreamReader(so.getInputStream(), StandardCharsets.UTF_8));
      String head = in.readLine();
      if (head == null || !head.startsWith("$")) return String.valueOf(head);
      char[] body = new char[Integer.parseInt(head.substring(1))];
      int read = 0;
      while (read < body.length) {
        int r = in.read(body, read, body.length - read);
        if (r < 0) break;
        read += r;
      }
      return new String(body, 0, read);
    } catch (IOException e) {
      return "";
    }
  }

  /** The node that is the master of {@code slot} now, as CLUSTER NODES on a live node says. */
  public RedisServerProcess masterOf(int slot) {
    for (String line : clusterNodes()) {
      String[] f = line.split(" ");
      if (!f[2].contains("master") || f[2].contains("fail")) continue;
      for (int i = 8; i < f.length; i++) {
        if (f[i].startsWith("[")) continue; // a slot being migrated
        String[] range = f[i].split("-");
        int from = Integer.parseInt(range[0]);
        int to = range.length > 1 ? Integer.parseInt(range[1]) : from;
        if (slot >= from && slot <= to) return node(f[1]);
      }
    }
    throw new IllegalStateException("no master serves slot " + slot);
  }

  /** The replicas of {@code master}. */
  public List<RedisServerProcess> replicasOf(RedisServerProcess master) {
    String id = null;
    List<String> lines = clusterNodes();
    for (String line : lines) {
      String[] f = line.split(" ");
      if (node(f[1]) == master) id = f[0];
    }
    List<RedisServerProcess> out = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f[2].contains("slave") && f[3].equals(id)) out.add(node(f[1]));
    }
    return out;
  }

  private RedisServerProcess node(String address) {
    int port = Integer.parseInt(address.substring(address.indexOf(':') + 1, address.indexOf('@')));
    return nodes.stream().filter(n -> n.port == port).findFirst().orElseThrow();
  }

  private List<String> clusterNodes() {
    for (RedisServerProcess n : nodes) {
      String text = info(n.port, "CLUSTER NODES");
      if (text.contains("myself")) return text.lines().filter(l -> !l.isBlank()).toList();
    }
    throw new IllegalStateException("no node answers CLUSTER NODES");
  }

  @Override
  public void close() {
    for (RedisServerProcess node : nodes) node.close();
  }
}
