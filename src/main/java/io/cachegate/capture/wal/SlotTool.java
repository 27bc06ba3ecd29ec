package io.cachegate.capture.wal;

import io.cachegate.config.PostgresUrl;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code cachegate --drop-slot}: removes the replication slot of {@code capture.wal.slot}, so that it
 * stops keeping WAL on the database server (after switching to the outbox, or when decommissioning).
 * A slot that a running gateway streams is not dropped: the answer says which process holds it.
 */
public final class SlotTool {

  /** What happened, in one sentence; {@code dropped} false when nothing was removed. */
  public record Outcome(boolean dropped, String message) {}

  private SlotTool() {}

  public static Outcome drop(PostgresUrl url, String slot) throws SQLException {
    try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.jdbcProperties("cachegate-drop-slot"))) {
      Long retained;
      Integer holder;
      try (PreparedStatement s = c.prepareStatement("SELECT active_pid, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
          + "FROM pg_replication_slots WHERE slot_name = ?")) {
        s.setString(1, slot);
        try (ResultSet r = s.executeQuery()) {
          if (!r.next()) return new Outcome(false, "there is no replication slot " + slot + " on " + url.hostPort() + "; nothing to drop");
          holder = (Integer) r.getObject(1);
          retained = (Long) r.getObject(2);
        }
      }
      if (holder != null) {
        return new Outcome(false, "replication slot " + slot + " is streamed by server process " + holder
            + " (a gateway running with capture.mode wal); stop it or switch it to capture.mode outbox first");
      }
      try (PreparedStatement s = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
        s.setString(1, slot);
        s.execute();
      }
      return new Outcome(true, "dropped replication slot " + slot + " on " + url.hostPort()
          + (retained == null ? "" : "; it kept " + retained + " bytes of WAL"));
    }
  }
}
