/**
 * Change capture from PostgreSQL: triggers write every change of a watched table to
 * {@code cachegate.outbox} and NOTIFY a wake-up channel; on the capture leader
 * ({@link io.cachegate.capture.Leadership}), {@link io.cachegate.capture.OutboxDrainer} drains the
 * outbox by claiming and deleting rows in a transaction that commits only after Redis has applied the
 * invalidations. NOTIFY is a wake-up, never the message: the drain also runs on a timer and after
 * every reconnect, so a change is never skipped (at least once; a repeat is harmless because a delete
 * is idempotent). Progress is never tracked by "last id seen", since ids are not commit order.
 */
package io.cachegate.capture;
