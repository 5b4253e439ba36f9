import t from 'tap';
import { seedTickets } from '../../scripts/bench/seed.js';
import { createAgent, createTestContext } from '../helpers/context.js';

// The benchmark's generator writes SQL directly; this keeps it in step with the schema and the product's
// reading of the rows (a generator that drifts would make the benchmark measure nonsense or fail late).
t.test('the benchmark generator writes tickets the product reads back', async (t) => {
  const { services } = await createTestContext(t);
  const r = await seedTickets(services.db, { tickets: 300, batchRows: 64 });
  t.equal(r.tickets, 300);
  t.equal(r.byStatus.open! + r.byStatus.resolved! + r.byStatus.closed!, 300);
  t.ok(r.entries >= 300 && r.entries <= 2700, 'one to nine entries per ticket');

  const q = services.db.q;
  t.equal(Number((await q('tickets').count({ n: '*' }).first())!.n), 300);
  const perTicket = await q('thread_entries').select('ticket_id').count({ n: '*' }).min({ first: 'id' }).groupBy('ticket_id');
  t.equal(perTicket.length, 300, 'every ticket has a thread');
  t.ok(perTicket.every((row) => Number(row.n) >= 1 && Number(row.n) <= 9));
  const firstTypes = await q('thread_entries').whereIn('id', perTicket.map((row) => Number(row.first))).distinct('type');
  t.same(firstTypes.map((row) => row.type), ['message'], 'a thread starts with the requester’s message');
  t.equal(Number((await q('tickets').where('status', 'open').whereNotNull('closed_at').count({ n: '*' }).first())!.n), 0);
  t.equal(Number((await q('tickets').whereNot('status', 'open').whereNull('closed_at').count({ n: '*' }).first())!.n), 0);

  const admin = await createAgent(services, { admin: true });
  const counts = await services.tickets.queueCounts(admin.principal);
  t.equal(counts.open, r.openUnanswered);
  t.equal(counts.open + counts.answered, r.byStatus.open);
  t.equal(counts.closed, r.byStatus.resolved! + r.byStatus.closed!);
  const view = await services.tickets.view(admin.principal, r.sample.number);
  t.equal(view.ticket.requesterEmail, r.sample.email);
  t.ok(view.entries.length >= 3);

  // The tokens it writes with each ticket and entry are the ones the product's search reads.
  const find = async (words: string) => (await services.search.search(admin.principal, { words, filters: {}, limit: 100 })).rows.map((row) => row.number);
  t.ok((await find(`"${r.sample.email}"`)).includes(r.sample.number), 'found by the requester’s address');
  const file = await q('attachments').orderBy('id').first('ticket_id', 'filename');
  const fileTicket = await q('tickets').where('id', file.ticket_id).first('number');
  t.ok((await find(`"${file.filename}"`)).includes(fileTicket.number), `found by an attachment’s name (${file.filename})`);
  const cjk = (await q('tickets').orderBy('id').select('number', 'subject')).find((row) => /^[\u3040-\u9fff]/.test(row.subject));
  t.ok(cjk, 'some tickets are written in Chinese or Japanese');
  t.ok((await find(cjk.subject)).includes(cjk.number), `found by a CJK subject (${cjk.subject})`);

  const again = await seedTickets(services.db, { tickets: 10 });
  t.equal(again.departments.length, r.departments.length, 'a second run reuses the departments');
  t.equal(Number((await q('tickets').count({ n: '*' }).first())!.n), 310);
});
