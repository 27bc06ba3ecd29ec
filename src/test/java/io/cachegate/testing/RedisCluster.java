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

  private final List<String> cli;  // redis-cli's connection options (TLS and the ACL user), empty for a plain cluster
  private final String urlPrefix;

  public RedisCluster(int masters, int replicas) {
    this(masters, replicas, List.of(), List.of(), "redis://");
  }

  /**
   * A cluster that speaks TLS only, clients and bus and replication alike (the certificate of
   * {@code certs}, which names localhost and 127.0.0.1), and whose only user is the ACL user
   * {@code user}: the shape of a managed cluster.
   */
  public static RedisCluster tls(int masters, int replicas, TestCerts certs, String user, String password) {
    List<String> config = List.of("port 0", "tls-cluster yes", "tls-replication yes", "tls-cert-file " + certs.serverCert,
        "tls-key-file " + certs.serverKey, "tls-ca-cert-file " + certs.ca, "tls-auth-clients no", "user default off",
        "user " + user + " on >" + password + " ~* &* +@all", "masteruser " + user, "masterauth " + password);
    List<String> cli = List.of("--tls", "--cacert", certs.ca.toString(), "--user", user, "--pass", password, "--no-auth-warning");
    return new RedisCluster(masters, replicas, config, cli, "rediss://" + user + ":" + password + "@");
  }

  private RedisCluster(int masters, int replicas, List<String> extra, List<String> cli, String urlPrefix) {
    this.cli = cli;
    this.urlPrefix = urlPrefix;
    try {
      int n = masters * (1 + replicas);
      for (int i = 0; i < n; i++) {
        int port = RedisServerProcess.freePort();
        List<String> lines = new ArrayList<>(List.of("cluster-enabled yes", "cluster-config-file nodes.conf",
            "cluster-port " + RedisServerProcess.freePort(), "cluster-node-timeout 2000"));
        if (!extra.isEmpty()) lines.add("tls-port " + port);
        lines.addAll(extra);
        nodes.add(new RedisServerProcess(port, lines));
      }
      List<String> cmd = new ArrayList<>(List.of("redis-cli"));
      cmd.addAll(cli);
      cmd.addAll(List.of("--cluster", "create"));
      for (RedisServerProcess node : nodes) cmd.add("127.0.0.1:" + node.port);
      cmd.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
      java.nio.file.Path log = java.nio.file.Files.createTempFile("cachegate-cluster-create", ".log");
      Process create = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean exited = create.waitFor(60, TimeUnit.SECONDS); // bounded: a cluster that never joins must not hang the run
      String out = java.nio.file.Files.readString(log);
      java.nio.file.Files.deleteIfExists(log);
      if (!exited || create.exitValue() != 0) {
        create.destroyForcibly();
        throw new IllegalStateException("redis-cli --cluster create " + (exited ? "failed" : "did not finish in 60 s") + ":\n" + out);
      }
      Await.until("every node to report cluster_state:ok", 30_000,
          () -> nodes.stream().allMatch(node -> ask(node.port, "CLUSTER INFO").contains("cluster_state:ok")));
      // and to know every replica as such (gossip may lag behind cluster_state:ok)
      Await.until("every node to see " + masters * replicas + " replicas", 30_000, () -> nodes.stream().allMatch(node ->
          ask(node.port, "CLUSTER NODES").lines().filter(l -> l.split(" ").length > 2 && l.split(" ")[2].contains("slave")).count()
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

  /** A URL naming one live node (a cluster client discovers the others), with the user for a TLS cluster. */
  public String url() {
    return urlPrefix + "127.0.0.1:" + nodes.stream().filter(RedisServerProcess::alive).findFirst().orElseThrow().port;
  }

  /** A reply as text: over a plain socket, or through redis-cli with TLS and the user; "" when it fails. */
  public String ask(int port, String inline) {
    if (cli.isEmpty()) return info(port, inline);
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
    cmd.addAll(cli);
    cmd.addAll(List.of(inline.split(" ")));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
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
      String text = ask(n.port, "CLUSTER NODES");
      if (text.contains("myself")) return text.lines().filter(l -> !l.isBlank()).toList();
    }
    throw new IllegalStateException("no node answers CLUSTER NODES");
  }

  @Override
  public void close() {
    for (RedisServerProcess node : nodes) node.close();
  }
}
