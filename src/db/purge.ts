import type { Knex } from 'knex';
import type { Database } from './database.js';

/**
 * Deletes the rows of `table` matching `filter`, `batchSize` at a time, each batch its own short statement so
 * that a purge of half a million rows never holds locks long enough to stall the desk. Ids are read first and
 * deleted by id: SQLite has no DELETE … LIMIT, and MySQL refuses LIMIT inside an IN subquery (DESIGN.md §9).
 * Stops between batches once `signal` aborts (the scheduler's lease is no longer held).
 */
export async function deleteInBatches(
  db: Database,
  table: string,
  filter: (w: Knex.QueryBuilder) => Knex.QueryBuilder,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const ids = await db.run((q) => q(table).where(filter).limit(batchSize).pluck('id'));
    if (!ids.length) break;
    total += await db.run((q) => q(table).whereIn('id', ids).delete());
    if (ids.length < batchSize) break;
  }
  return total;
}
