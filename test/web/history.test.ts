import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

/** Issue 10, item 1: every change is an event in the ticket's timeline, written with the change. */

const ticketFor = (services: Awaited<ReturnType<typeof createTestContext>>['services'], subject = 'Printer jams') =>
  services.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject, message: 'It jams.', source: 'web' }).then((r) => r.ticket);

/** The history lines of a ticket page, as text, in order. */
const events = (html: string) => [...html.matchAll(/<p class="event" id="event-\d+"><span>(.*?)<\/span>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));

t.test('status, priority, assignee and department changes show who changed what, from what to what, between the entries', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const ann = await createAgent(services, { name: 'Ann Agent', departments: ['Support', 'Billing'] });
  const bob = await createAgent(services, { name: 'Bob <Builder>', departments: ['Support'] });
  const billing = (await services.departments.ensure('Billing')).id;
  const ticket = await ticketFor(services);
  const page = `/scp/tickets/${ticket.number}`;
  const b = new Browser(app);
  await b.staffLogin(ann.username, ann.password);
  t.notMatch((await b.get(page)).body, 'id="hide-history"', 'no toggle while there is no history');

  await b.get(page);
  t.equal((await b.post(`${page}/properties`, { priority: '4', assigneeId: String(bob.principal.staffId), departmentId: '' })).statusCode, 302);
  await b.get(page);
  t.equal((await b.post(`${page}/status`, { status: 'resolved' })).statusCode, 302);
  await services.tickets.respond(ann.principal, ticket.number, 'One more thing.');
  // Bob works only in Support: the transfer ends his assignment, which the history says, with the reason.
  await b.get(page);
  t.equal((await b.post(`${page}/properties`, { priority: '4', departmentId: String(billing) })).statusCode, 302);

  const html = (await b.get(page)).body;
  t.same(events(html), [
    'Ann Agent changed the priority from Normal to Urgent',
    'Ann Agent assigned the ticket to Bob &lt;Builder&gt;',
    'Ann Agent changed the status from Open to Resolved',
    'Bob &lt;Builder&gt; was unassigned: Ann Agent transferred the ticket to a department they do not work in',
    'Ann Agent transferred the ticket from Support to Billing',
  ], 'in order, names escaped');
  t.ok(html.indexOf('One more thing.') > html.indexOf('to Resolved') && html.indexOf('One more thing.') < html.indexOf('transferred the ticket from'), 'between the entries, by time');
  t.match(html, /<input type="checkbox" id="hide-history" class="hide-history"><label for="hide-history"[^>]*>Hide changes<\/label>/, 'one toggle hides them');

  // The same history in the reader's language.
  await b.post('/scp/preferences', { timezone: 'UTC', language: 'da' });
  t.match(events((await b.get(page)).body)[0], 'Ann Agent ændrede prioriteten fra Normal til Akut');
});

t.test('a response sent "and resolved", the requester’s reply and a broken lock each leave an event; a refused change leaves none', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
  const holder = await createAgent(services, { name: 'Hal Holder' });
  const ticket = await ticketFor(services);
  const page = `/scp/tickets/${ticket.number}`;

  await services.tickets.respond(admin.principal, ticket.number, 'Fixed, I think.', [], { thenStatus: 'resolved' });
  const user = (await services.users.findOrCreate('Rita Requester', 'rita@example.com'))!;
  await services.tickets.clientReply({ kind: 'client', userId: user.id, ticketId: null }, ticket.number, 'No, it still jams.');

  await services.locks.acquire(holder.principal, ticket.number);
  await t.rejects(services.tickets.setStatus(admin.principal, ticket.number, 'closed'), { code: 'LOCK_HELD' }, 'someone else holds the lock');
  await services.locks.breakLock(admin.principal, ticket.number);

  const b = new Browser(app);
  await b.staffLogin(admin.username, admin.password);
  const html = (await b.get(page)).body;
  t.same(events(html), [
    'Ada Admin changed the status from Open to Resolved',
    'The requester changed the status from Resolved to Open',
    'Ada Admin released the lock Hal Holder held',
  ], 'the refused close left nothing behind');
  t.ok(html.indexOf('Fixed, I think.') < html.indexOf('from Open to Resolved'), 'the status change follows the response it was sent with');

  const portal = new Browser(app);
  const link = services.tickets.accessLink(ticket);
  const client = (await portal.get(link.replace(/^https?:\/\/[^/]+/, ''))).body + (await portal.get(`/tickets/${ticket.number}`)).body;
  t.notMatch(client, 'class="event"', 'the requester’s page shows no history');
});

t.test('stored events the page cannot make sense of still render', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const agent = await createAgent(services, { name: 'Ann Agent' });
  const ticket = await ticketFor(services);
  const row = { ticket_id: ticket.id, actor: 'staff', staff_id: null, actor_name: null, created_at: '2026-11-30 10:00:00.000' };
  await services.db.q('ticket_events').insert([
    { ...row, kind: 'status', data: '{"from":"weird","to":42}' },
    { ...row, kind: 'from_the_future', data: '{}' },
    { ...row, kind: 'priority', data: 'not json' },
    { ...row, kind: 'assignee', data: '[1,2]' },
  ]);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const res = await b.get(`/scp/tickets/${ticket.number}`);
  t.equal(res.statusCode, 200);
  const lines = events(res.body);
  t.equal(lines.length, 4);
  t.match(lines[1], 'An agent changed the ticket', 'an unknown kind');
});

t.test('a long thread opens folded: how it began and the latest 30 items, the rest behind one link', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const agent = await createAgent(services, { name: 'Ann Agent' });
  const ticket = await ticketFor(services, 'Long story');
  for (let i = 1; i <= 40; i++) {
    await services.tickets.note(agent.principal, ticket.number, `Note number ${i}.`);
    if (i % 2 === 0) await services.tickets.setPriority(agent.principal, ticket.number, i % 4 === 0 ? 3 : 4);
  }
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const page = `/scp/tickets/${ticket.number}`;
  const folded = (await b.get(page)).body;
  t.match(folded, 'It jams.', 'the first message stays');
  t.match(folded, 'Note number 40.', 'the latest stay');
  t.notMatch(folded, 'Note number 5.', 'older ones are folded');
  const fold = /(\d+) earlier entries and (\d+) changes are folded away\. <a href="\/scp\/tickets\/\d+\?thread=all#thread-fold">Show the whole thread<\/a>/.exec(folded);
  t.ok(fold, 'one link to the whole thread');
  t.equal(Number(fold![1]) + Number(fold![2]), 41 + 20 - 31, 'it says what is folded: all but the first and the latest 30 of 41 entries and 20 changes');
  const all = (await b.get(`${page}?thread=all`)).body;
  for (const n of [1, 5, 40]) t.match(all, `Note number ${n}.`);
  t.notMatch(all, 'folded away');

  // Entries the agent has not seen (a refused, stale reply) are never folded away.
  const seen = Number(/name="lastEntryId" value="(\d+)"/.exec(folded)![1]) - 35;
  const stale = await b.post(`${page}/reply`, { message: 'My answer', lastEntryId: String(seen) });
  t.equal(stale.statusCode, 409);
  t.match(stale.body, 'Note number 6.', 'unseen entries shown');
  t.match(stale.body, 'My answer', 'the typed text is kept');
});
