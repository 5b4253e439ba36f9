import type { Knex } from 'knex';
import { addIndex } from '../src/db/schema.js';

export const config = { transaction: false };

/**
 * One statement fewer per mailed reply (issue 8): its entry is stored marked `alert_pending`, and the agents'
 * alerts are written from the marked entries by the outbox job (src/mail/inbound/pending-alerts.ts) instead
 * of by an outbox insert inside the intake transaction. The mark commits with the entry, so alerts survive a
 * crash after the 250 as the outbox rows did. Null, not false, when nothing is pending: the index then holds
 * the pending few under one key, which the job reads in id order.
 *
 * Each step can run again after an interruption (MySQL commits DDL as it goes).
 */
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('thread_entries', 'alert_pending'))) {
    await knex.schema.alterTable('thread_entries', (t) => {
      t.boolean('alert_pending').nullable();
    });
  }
  await addIndex(knex, 'thread_entries', 'thread_entries_alert_pending_idx', ['alert_pending']);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
