package io.cachegate.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * The last minutes of this instance's figures, one sample per step, for the dashboard's charts
 * ({@code GET /v1/stats/series}): the notices streamed in each step, and the capture's backlog at its
 * end (outbox depth, or the WAL slot's lag in bytes; -1 where this instance does not lead the capture).
 * Every instance streams every notice, so any instance's notice series is the whole gateway's. Written
 * by the instance verticle once a step, read by the HTTP verticles; synchronized, since both are rare.
 */
public final class StatsSeries {

  /** The samples, oldest first; {@code endMs}: the end of the last step. */
  public record Snapshot(long stepMs, long endMs, List<Long> notices, List<Long> capture, String captureFigure) {}

  private final long stepMs;
  private final long[] notices;
  private final long[] capture;
  private int count;   // samples held, up to the capacity
  private int next;    // where the next sample goes
  private long endMs;
  private long lastTotal = -1;
  private String captureFigure = "outboxDepth";

  public StatsSeries(long stepMs, int samples) {
    this.stepMs = stepMs;
    this.notices = new long[samples];
    this.capture = new long[samples];
  }

  /** A step ended at {@code nowMs}: the notices streamed so far (a running total) and the capture figure now. */
  public synchronized void sample(long nowMs, long noticesTotal, long captureValue, String figure) {
    long delta = lastTotal < 0 ? 0 : Math.max(0, noticesTotal - lastTotal);
    lastTotal = noticesTotal;
    notices[next] = delta;
    capture[next] = captureValue;
    next = (next + 1) % notices.length;
    count = Math.min(count + 1, notices.length);
    endMs = nowMs;
    captureFigure = figure;
  }

  public synchronized Snapshot snapshot() {
    List<Long> n = new ArrayList<>(count);
    List<Long> c = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int at = Math.floorMod(next - count + i, notices.length);
      n.add(notices[at]);
      c.add(capture[at]);
    }
    return new Snapshot(stepMs, endMs, n, c, captureFigure);
  }
}
