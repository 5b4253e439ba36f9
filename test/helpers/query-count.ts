import type { Database } from '../../src/db/database.js';

/** The SQL statements `fn` sends through `db`, counted with knex's 'query' event (transactions' too). */
export async function countQueries(db: Database, fn: () => Promise<unknown>): Promise<{ count: number; sql: string[] }> {
  const sql: string[] = [];
  const listen = (q: { sql: string }) => void sql.push(q.sql);
  db.knex.on('query', listen);
  try {
    await fn();
  } finally {
    db.knex.off('query', listen);
  }
  return { count: sql.length, sql };
}
