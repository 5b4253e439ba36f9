import t from 'tap';
import { freshDatabase } from '../helpers/db.js';
import { UniqueViolation } from '../../src/db/errors.js';
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

/** Database.inserter: one row, SQL built once per set of columns, values bound, the new id answered, in the open transaction. */
t.test('a prepared insert stores what the builder stores and answers the new id', async (t) => {
  const { db, drop } = await freshDatabase();
  t.teardown(drop);
  const insert = db.inserter('departments');
  const row = (name: string) => ({ name, created_at: '2026-01-01 00:00:00' });
  const first = await insert(row("Zeta ' Sales"));
  const counted = await countQueries(db, () => insert(row("x' OR '1'='1")));
  t.same(counted.count, 1);
  t.notMatch(counted.sql[0]!, "'1'='1", 'values are bound, never written into the SQL');
  const second = Number((await db.knex('departments').where('name', "x' OR '1'='1").first('id')).id);
  t.ok(first > 0 && second > first, 'each insert answers its own row id');
  t.same((await db.knex('departments').where('id', first).first('name')).name, "Zeta ' Sales");

  // Another set of columns is another statement; a blob binds its own value (a raw fragment on MySQL).
  const raw = Buffer.from('Subject: hé\r\n\r\nbody', 'utf8');
  const binary = Buffer.from([0, 255, 1, 254]);
  const inbound = db.inserter('inbound_messages');
  const common = { message_id: null, size: 1, status: 'quarantined', source: 'smtp', received_at: '2026-01-01 00:00:00' };
  const a = await inbound({ ...common, message_id_hash: 'a'.repeat(64), raw: db.blob(raw) });
  const b = await inbound({ ...common, message_id_hash: 'b'.repeat(64), raw: db.blob(binary), error: 'kept' });
  const stored = await db.knex('inbound_messages').orderBy('id').select('id', 'raw', 'error');
  t.same(stored.map((r) => [Number(r.id), Buffer.from(r.raw).toString('hex'), r.error]), [[a, raw.toString('hex'), null], [b, binary.toString('hex'), 'kept']], 'bytes stored unchanged');

  await db.transaction(async () => {
    const id = await insert(row('Zeta Support'));
    // On SQLite's single connection a write outside the transaction would wait for it.
    t.same((await db.q('departments').where('id', id).first('name')).name, 'Zeta Support', 'writes in the open transaction');
  });
  const err = await insert(row('Zeta Support')).then(() => null, (e: unknown) => e);
  t.ok(err instanceof UniqueViolation, 'driver errors come out normalised');
});

/**
 * Two transactions that take the same two rows in opposite orders deadlock on InnoDB, which rolls one back;
 * Database.transaction runs the victim again, so both changes land and neither caller sees an error.
 */
t.test('a deadlock victim is run again, whole, and both transactions land', async (t) => {
  const { db, drop } = await freshDatabase();
  t.teardown(drop);
  if (db.dialect !== 'mysql') {
    t.pass('SQLite has one writer at a time: no deadlock to recover from');
    return;
  }
  const [a] = await db.knex('departments').insert({ name: 'Deadlock A', created_at: '2026-01-01 00:00:00' });
  const [b] = await db.knex('departments').insert({ name: 'Deadlock B', created_at: '2026-01-01 00:00:00' });
  // Each holds its first row until the other holds its own: then each asks for the other's.
  let holding = 0;
  const bothHold = async () => {
    holding += 1;
    for (let i = 0; i < 500 && holding < 2; i++) await new Promise((r) => setTimeout(r, 10));
  };
  let runs = 0;
  const crossed = (first: number, second: number, name: string) => db.transaction(async (trx) => {
    runs += 1;
    await trx('departments').where('id', first).update({ name: `${name} first` });
    await bothHold();
    await trx('departments').where('id', second).update({ name });
  });
  await Promise.all([crossed(a, b, 'one'), crossed(b, a, 'two')]);
  t.equal(runs, 3, 'the victim ran a second time');
  const names = (await db.knex('departments').whereIn('id', [a, b]).orderBy('id').pluck('name')) as string[];
  t.ok(names.includes('one') || names.includes('two'), 'the last writer of each row is one of the two');
  t.equal(names.filter((n) => n.endsWith(' first')).length, 1, 'both transactions committed, in some order');
});
