import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';

t.test('a ticket is created with its first message and a confirmation in the outbox', async (t) => {
  const { services } = await createTestContext(t);
  const { ticket, entryId } = await services.tickets.create(null, {
    name: 'Ada', email: 'Ada@Example.com', subject: 'Printer 🔥 on fire', message: 'Help — ünïcödé', source: 'web',
    attachments: [{ filename: '../../etc/passwd', contentType: 'text/plain', data: Buffer.from('hello') }],
  });
  t.match(ticket.number, /^\d{8}$/);
  t.equal(ticket.subject, 'Printer 🔥 on fire');
  t.equal(ticket.requesterEmail, 'ada@example.com');
  const agent = await createAgent(services);
  const view = await services.tickets.view(agent.principal, ticket.number);
  t.same(view.ticket, ticket, 'create() returns the ticket as stored, without reading it back');
  t.equal(view.entries.length, 1);
  t.equal(view.entries[0]!.id, entryId);
  t.equal(view.entries[0]!.bodyText, 'Help — ünïcödé');
  t.equal(view.entries[0]!.attachments[0]!.filename, 'passwd');
  const outbox = await services.outbox.forTicket(ticket.id);
  t.same(outbox.map((o) => o.kind), ['ticket_created']);
  t.same(outbox[0]!.to, ['ada@example.com']);
});

t.test('validation names each bad field', async (t) => {
  const { services } = await createTestContext(t);
  await t.rejects(services.tickets.create(null, { name: 'x', email: 'not-an-email', subject: ' ', message: '', source: 'web' }), {
    code: 'VALIDATION_FAILED',
    fields: { email: String, subject: String, message: String },
  });
});

t.test('agents see only their departments; admins see all', async (t) => {
  const { services } = await createTestContext(t);
  const billing = await services.departments.ensure('Billing');
  const { ticket } = await services.tickets.create(null, { name: 'B', email: 'b@example.com', subject: 'Invoice', message: 'Where?', source: 'web', departmentId: billing.id });
  const support = await createAgent(services, { departments: ['Support'] });
  const biller = await createAgent(services, { departments: ['Billing'] });
  const admin = await createAgent(services, { admin: true, departments: [] });
  await t.rejects(services.tickets.view(support.principal, ticket.number), { code: 'TICKET_NOT_FOUND' });
  t.equal((await services.tickets.view(biller.principal, ticket.number)).ticket.id, ticket.id);
  t.equal((await services.tickets.view(admin.principal, ticket.number)).ticket.id, ticket.id);
  t.equal((await services.tickets.queue(support.principal, { queue: 'open' })).rows.length, 0);
  t.equal((await services.tickets.queue(biller.principal, { queue: 'open' })).rows.length, 1);
});

t.test('keyset pagination walks every ticket exactly once', async (t) => {
  const { services, clock } = await createTestContext(t, { queuePageSize: 5 });
  const agent = await createAgent(services);
  const numbers = new Set<string>();
  for (let i = 0; i < 12; i++) {
    clock.advance(i % 3 === 0 ? 0 : 1000); // equal timestamps exercise the id tie-breaker
    numbers.add((await services.tickets.create(null, { name: 'N', email: `n${i}@example.com`, subject: `S${i}`, message: 'm', source: 'web' })).ticket.number);
  }
  for (const sort of ['updated', 'number', 'priority', 'subject'] as const) {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await services.tickets.queue(agent.principal, { queue: 'open', sort, cursor });
      seen.push(...page.rows.map((r) => r.number));
      cursor = page.nextCursor;
    } while (cursor);
    t.equal(seen.length, 12, `${sort}: 12 rows`);
    t.same(new Set(seen), numbers, `${sort}: every ticket once`);
  }
  const counts = await services.tickets.queueCounts(agent.principal);
  t.same(counts, { open: 12, mine: 0, unassigned: 12, answered: 0, closed: 0 });
});

t.test('response, note, status and assignment', async (t) => {
  const { services } = await createTestContext(t);
  const agent = await createAgent(services);
  const { ticket } = await services.tickets.create(null, { name: 'C', email: 'c@example.com', subject: 'Hi', message: 'Hello', source: 'email' });
  await services.tickets.respond(agent.principal, ticket.number, 'We are on it');
  await services.tickets.note(agent.principal, ticket.number, 'internal only');
  await services.tickets.assign(agent.principal, ticket.number, agent.principal.staffId);
  await services.tickets.setStatus(agent.principal, ticket.number, 'resolved');
  const staffView = await services.tickets.view(agent.principal, ticket.number);
  t.same(staffView.entries.map((e) => e.type), ['message', 'response', 'note']);
  t.equal(staffView.ticket.status, 'resolved');
  t.equal(staffView.ticket.assigneeId, agent.principal.staffId);
  const client = { kind: 'client' as const, userId: ticket.userId, ticketId: ticket.id };
  const clientView = await services.tickets.view(client, ticket.number);
  t.same(clientView.entries.map((e) => e.type), ['message', 'response'], 'client never sees notes');
  await services.tickets.clientReply(client, ticket.number, 'thanks, still broken');
  t.equal((await services.tickets.get(agent.principal, ticket.number)).status, 'open', 'client reply re-opens');
  const kinds = (await services.outbox.forTicket(ticket.id)).map((o) => o.kind);
  t.same(kinds, ['ticket_created', 'alert_new_ticket', 'response', 'alert_new_message'], 'department agents are alerted');
  const audit = await services.audit.forObject('ticket', ticket.id);
  t.same(audit.map((a) => a.action).sort(), ['ticket.assign', 'ticket.status']);
});

t.test('every agent of the department gets the new-ticket alert, with the thread headers of the first message', async (t) => {
  const { services } = await createTestContext(t);
  const agents = [await createAgent(services), await createAgent(services), await createAgent(services)];
  const { ticket } = await services.tickets.create(null, { name: 'D', email: 'd@example.com', subject: 'Hi', message: 'Hello', source: 'email', messageId: 'first@mail.example' });
  const alerts = (await services.outbox.forTicket(ticket.id)).filter((o) => o.kind === 'alert_new_ticket');
  t.same(alerts.map((o) => o.to[0]).sort(), agents.map((a) => `${a.username}@staff.test`).sort());
  for (const o of alerts) {
    t.equal(o.headers['In-Reply-To'], '<first@mail.example>');
    t.match(o.headers.References, /^<first@mail\.example> <sb1\./);
    t.equal(o.fromAddress, 'support@helpdesk.test');
  }
});

t.test('two first tickets from one new address at once: both open, for one user, with no orphan row', async (t) => {
  const { services } = await createTestContext(t);
  const { db } = services;
  // SQLite has one writer: the second transaction starts after the first commits, and finds its user.
  if (db.dialect !== 'mysql') return t.pass('one writer on SQLite: no race to lose');
  const open = (name: string) => services.tickets.create(null, { name, email: 'race@example.com', subject: name, message: 'Hello', source: 'api' });
  let inserted!: () => void;
  const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The first creation holds its transaction open after its user row, until the second waits on its address.
  const first = db.transaction(async () => {
    const r = await open('First');
    inserted();
    await held;
    return r;
  });
  await firstInserted;
  const second = open('Second');
  // The statement in progress on a connection (PROCESSLIST.INFO): the second's insert of the address, waiting.
  const waiting = async () =>
    Number((await db.knex('information_schema.processlist').whereRaw('db = database()').where('info', 'like', 'insert into `user_emails`%').count({ n: '*' }).first())!.n) > 0;
  for (let i = 0; i < 1000 && !(await waiting()); i++) await new Promise((resolve) => setImmediate(resolve));
  t.ok(await waiting(), "the second creation waits on the first one's address");
  release();
  const [a, b] = await Promise.all([first, second]);
  t.equal(b.ticket.userId, a.ticket.userId, 'the second ticket goes to the user the first one created');
  t.same(await db.knex('users').pluck('id'), [a.ticket.userId], 'the user row the second creation inserted is gone');
  t.same(await db.knex('user_emails').pluck('address'), ['race@example.com']);
});
