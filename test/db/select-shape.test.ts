import t from 'tap';
import { freshDatabase } from '../helpers/db.js';
import { countQueries } from '../helpers/query-count.js';

/**
 * Database.select: a query knex builds once and runs again with new values. It must answer as the builder does
 * on both dialects, bind every value (never write one into the SQL), and run in the open transaction.
 */
t.test('a prepared select answers as the builder does, in the transaction it runs in', async (t) => {
  const { db, drop } = await freshDatabase();
  t.teardown(drop);
  const insert = (name: string, archived: boolean) => db.q('departments').insert({ name, archived_at: archived ? '2026-01-01 00:00:00' : null, created_at: '2026-01-01 00:00:00' });
  await insert('Zeta Sales', false);
  await insert('Zeta Sales archive', true);

  const build = (q: typeof db.knex, name: string) => q('departments').where('name', 'like', name).whereNull('archived_at').where('id', '>', q.raw('?', [0])).orderBy('name').select('id', 'name');
  const byName = db.select<{ name: string }>((q, p) => build(q, p.name));
  t.same(await byName({ name: 'Zeta Sales%' }), await build(db.knex, 'Zeta Sales%'), 'the rows the builder returns');
  t.same((await byName({ name: 'Zeta Sales%' })).map((r) => r.name), ['Zeta Sales']);
  t.same(await byName({ name: 'Nobody' }), [], 'new values each time');

  const counted = await countQueries(db, () => byName({ name: "x' OR '1'='1" }));
  t.same(counted.count, 1);
  t.notMatch(counted.sql[0]!, "'1'='1", 'values are bound, never written into the SQL');

  await db.transaction(async () => {
    await insert('Zeta Support', false);
    // On SQLite's single connection a read outside the transaction would wait for it: this one sees its row.
    t.same((await byName({ name: 'Zeta Support' })).map((r) => r.name), ['Zeta Support'], 'reads the open transaction');
  });

  t.throws(() => db.select<{ name: string }>((q, p) => q('departments').whereRaw(`name = '${p.name}'`)), /bound/, 'a parameter written into the SQL text is refused when built');
});
