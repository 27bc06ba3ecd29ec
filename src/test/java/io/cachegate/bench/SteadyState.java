package io.cachegate.bench;

import io.cachegate.testing.GatewayProcess;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Warms a JVM up until its JIT compilers are nearly idle, so that a figure measures the steady state a
 * long-running server serves rather than its compilation. A gateway started seconds before a run
 * spends a third of its CPU in C2 for well over ten seconds at 2,000 requests/s on two cores (measured:
 * 5.9 s of compiler time in a 10 s window that began 4 s after the load did), while a bare server with
 * little code is compiled within a second or two; a fixed short warm-up therefore compares a cold
 * gateway with a warm baseline.
 *
 * <p>The load runs in rounds of {@link #ROUND_SECONDS}; after each, the compiler threads' CPU time
 * (C1 and C2, from {@code /proc/PID/task/TID/stat}) is compared with the CPU time of the whole process in that
 * round. Warm once it is under {@link #IDLE_SHARE} of it or under {@link #IDLE_CORE} of one core (a
 * process the load keeps mostly idle compiles its rarely run methods slowly), or after
 * {@link #MAX_SECONDS}.
 */
final class SteadyState {

  static final int ROUND_SECONDS = 5;
  static final int MAX_SECONDS = 120;
  static final double IDLE_SHARE = 0.03;
  /** Or warm once the compilers take under this share of one core: a process that is mostly idle. */
  static final double IDLE_CORE = 0.02;

  /** One round of the load, of the given length. */
  @FunctionalInterface
  interface Round {
    void run(int seconds) throws Exception;
  }

  /** How the warm-up went: its length, the compilers' share of the last round's CPU, and whether it ended idle. */
  record Warmed(int seconds, double compilerShare, boolean steady) {
    String describe() {
      return seconds + " s warm-up, compilers at " + Math.round(compilerShare * 1000) / 10.0 + " % of the last round's CPU"
          + (steady ? "" : " (not steady: stopped at the " + MAX_SECONDS + " s bound)");
    }
  }

  private SteadyState() {}

  /** Runs {@code round} until every process in {@code pids} is warm (the compilers of each under the share). */
  static Warmed warm(List<Long> pids, Round round) throws Exception {
    long began = System.nanoTime();
    int spent = 0;
    double share = 1;
    boolean idle = false;
    while (spent < MAX_SECONDS) {
      long[] cpu0 = new long[pids.size()];
      long[] jit0 = new long[pids.size()];
      for (int i = 0; i < pids.size(); i++) {
        cpu0[i] = GatewayProcess.cpuMillis(pids.get(i));
        jit0[i] = compilerMillis(pids.get(i));
      }
      long roundStart = System.nanoTime();
      round.run(ROUND_SECONDS);
      long roundMs = (System.nanoTime() - roundStart) / 1_000_000;
      spent = (int) Math.round((System.nanoTime() - began) / 1e9);
      share = 0;
      idle = true;
      for (int i = 0; i < pids.size(); i++) {
        long cpu = GatewayProcess.cpuMillis(pids.get(i)) - cpu0[i];
        long jit = compilerMillis(pids.get(i)) - jit0[i];
        double of = cpu <= 0 ? 0 : (double) jit / cpu;
        share = Math.max(share, of);
        idle &= of < IDLE_SHARE || jit < IDLE_CORE * Math.max(1, roundMs);
      }
      if (idle) break;
    }
    return new Warmed(spent, share, idle);
  }

  /** The CPU time (user + system) of the JIT compiler threads of process {@code pid}, in ms. */
  static long compilerMillis(long pid) throws IOException {
    long ticks = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : tasks) {
        try {
          String name = Files.readString(t.resolve("comm")).trim();
          if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) continue;
          String stat = Files.readString(t.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException gone) {
          // a thread that ended meanwhile
        }
      }
    }
    return ticks * 10;
  }
}
