import type { Database } from '../../src/db/database.js';

/**
 * The SQL statements knex sends while `fn` runs, on every connection of `db` (other work running at the same
 * time is counted too, so callers run `fn` alone). Transaction control counts: knex emits BEGIN, COMMIT,
 * ROLLBACK and SAVEPOINT as statements of their own, and each is a round trip to the server like any other.
 * Not counted: the per-connection setup a new pooled connection runs once (database.ts afterCreate).
 */
export async function countQueries(db: Database, fn: () => Promise<unknown>): Promise<{ count: number; sql: string[] }> {
  const sql: string[] = [];
  const listener = (q: { sql: string }) => sql.push(q.sql);
  db.knex.on('query', listener);
  try {
    await fn();
  } finally {
    db.knex.off('query', listener);
  }
  return { count: sql.length, sql };
}

/** BEGIN, COMMIT, ROLLBACK and savepoints: the statements a budget may count apart from those doing the work. */
export function isTransactionControl(sql: string): boolean {
  return /^(begin|commit|rollback|savepoint|release savepoint)\b/i.test(sql.trim());
}
