import t from 'tap';
import { FrozenClock, createAgent, createTestContext } from '../helpers/context.js';
import { createTestApp } from '../helpers/http.js';
import { countQueries, isTransactionControl } from '../helpers/query-count.js';

/**
 * SQL statements per ticket opened through the JSON API, with an agent in the department to alert. BEGIN and
 * COMMIT are counted apart (knex sends each as a statement of its own). Search indexes the ticket and its
 * first entry within their own INSERTs (migration 0026), at no statement of its own.
 */
const BUDGET = { work: 5, total: 7 };

t.test('POST /api/tickets.json stays within its statement budget', async (t) => {
  const clock = new FrozenClock();
  const ctx = await createTestContext(t, {}, clock);
  await createAgent(ctx.services, { departments: ['Support'] });
  const app = await createTestApp(t, ctx);
  const { key } = await ctx.services.apiKeys.create({ name: 'CRM' });
  const post = (subject: string) =>
    app.inject({ method: 'POST', url: '/api/tickets.json', payload: { name: 'Ann', email: 'ann@example.com', subject, message: 'The printer is on fire.' }, headers: { 'x-api-key': key } });

  // A known requester, a warm directory cache, and the key read and its last use written a moment ago.
  clock.advance(5000);
  t.equal((await post('First')).statusCode, 201);
  const counted = await countQueries(ctx.services.db, async () => t.equal((await post('Second')).statusCode, 201));
  const work = counted.sql.filter((s) => !isTransactionControl(s));
  t.ok(work.length <= BUDGET.work, `${work.length} statements besides BEGIN/COMMIT, at most ${BUDGET.work}`, { sql: work });
  t.ok(counted.count <= BUDGET.total, `${counted.count} statements in all, at most ${BUDGET.total}`);
  const ticketId = Number((await ctx.services.db.knex('tickets').where({ subject: 'Second' }).first('id')).id);
  t.same((await ctx.services.outbox.forTicket(ticketId)).map((m) => m.kind), ['ticket_created', 'alert_new_ticket'], 'confirmation and alert, in one insert');

  // Reading it back: the ticket and its thread with files in one statement, the key still known.
  const { number } = (await post('Fourth')).json() as { number: string };
  const read = await countQueries(ctx.services.db, async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/tickets/${number}`, headers: { 'x-api-key': key } });
    t.equal(res.statusCode, 200);
    t.equal(res.json().thread.length, 1);
  });
  t.equal(read.count, 1, 'GET /api/v1/tickets/:number reads once', { sql: read.sql });

  // The key's last use is still recorded, to the minute.
  clock.advance(60_000);
  const later = await countQueries(ctx.services.db, async () => t.equal((await post('Third')).statusCode, 201));
  t.ok(later.sql.some((s) => /^update `api_keys`/.test(s)), 'a minute later, last_used_at is written again');
});
