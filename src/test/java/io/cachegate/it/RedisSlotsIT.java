package io.cachegate.it;

import io.cachegate.cache.SlotTags;
import io.cachegate.testing.*;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** SlotTags against a real cluster-enabled redis-server: CLUSTER KEYSLOT agrees, bookkeeping keys included. */
class RedisSlotsIT {

  @Test
  void slotsAndTagsAgreeWithRedis() throws Exception {
    try (RedisServerProcess node = new RedisServerProcess(RedisServerProcess.freePort(),
        List.of("cluster-enabled yes", "cluster-config-file nodes.conf"));
         Socket so = new Socket("127.0.0.1", node.port)) {
      so.setSoTimeout(5000);
      OutputStream out = so.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(so.getInputStream(), StandardCharsets.UTF_8));
      so.setTcpNoDelay(true);
      Random random = new Random(42);
      List<String> asked = new java.util.ArrayList<>();
      List<Integer> expected = new java.util.ArrayList<>();
      java.io.ByteArrayOutputStream commands = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < 2000; i++) {
        StringBuilder k = new StringBuilder();
        int len = 1 + random.nextInt(20);
        for (int c = 0; c < len; c++) k.append("ab{}:x1é".charAt(random.nextInt(8)));
        String key = k.toString();
        for (String name : List.of(key, SlotTags.inSlotOf(key, "cg:m:", ":" + key))) {
          byte[] b = name.getBytes(StandardCharsets.UTF_8);
          commands.write(("*3\r\n$7\r\nCLUSTER\r\n$7\r\nKEYSLOT\r\n$" + b.length + "\r\n").getBytes(StandardCharsets.UTF_8));
          commands.write(b);
          commands.write("\r\n".getBytes(StandardCharsets.UTF_8));
          asked.add(name);
          expected.add(SlotTags.slot(key));
        }
      }
      out.write(commands.toByteArray()); // pipelined: one write, then every reply in order
      out.flush();
      for (int i = 0; i < asked.size(); i++) assertThat(in.readLine()).as(asked.get(i)).isEqualTo(":" + expected.get(i));
    }
  }
}
