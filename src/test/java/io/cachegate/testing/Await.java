package io.cachegate.testing;

import io.vertx.core.Future;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Blocking waits for tests, always bounded. */
public final class Await {

  private Await() {}

  public static <T> T get(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until a condition on real state holds (each check is a real query), failing after the
   * deadline. For state that has no event to wait on, such as a key vanishing from Redis.
   */
  public static void until(String what, long timeoutMs, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
      Thread.onSpinWait();
      try {
        Thread.sleep(10); // pacing between real checks, not a synchronisation: the loop ends on the condition
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
