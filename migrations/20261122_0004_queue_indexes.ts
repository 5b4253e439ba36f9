import type { Knex } from 'knex';
import { addIndex } from '../src/db/schema.js';

export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  // Queue counts read only this index, for administrators (every department) as for agents: the open queues
  // as one range on status = 'open', resolved and closed as two more. Without it an administrator's counts
  // read every ticket row on SQLite (~125 ms at 100,000 tickets) and grouped every ticket on MariaDB (~60 ms).
  await addIndex(knex, 'tickets', 'tickets_open_counts_idx', ['status', 'department_id', 'is_answered', 'assignee_id']);
  // The Closed queue pages each of its statuses in (updated_at, id) order and merges them: without this
  // index both engines sorted every closed ticket on every page view (~150 ms at 100,000 tickets).
  await addIndex(knex, 'tickets', 'tickets_status_updated_idx', ['status', 'updated_at', 'id']);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
