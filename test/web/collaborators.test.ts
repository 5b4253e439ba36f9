import t, { type Test } from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

/** Collaborators on the ticket page (issue 10, item 7): list, add, remove, reply to all or the requester only. */
async function setup(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services, { name: 'Alice Agent' });
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const { ticket } = await ctx.services.tickets.create(null, {
    name: 'Rita Requester', email: 'rita@example.com', subject: 'Printer jam', message: 'It jams.', source: 'email',
    collaborators: [{ name: 'Carl Colleague', email: 'carl@example.com' }],
  });
  return { ctx, app, agent, b, ticket, page: `/scp/tickets/${ticket.number}` };
}

const names = async (ctx: Awaited<ReturnType<typeof setup>>['ctx'], agent: Awaited<ReturnType<typeof setup>>['agent'], number: string) =>
  (await ctx.services.tickets.collaborators(agent.principal, number)).map((c) => c.email);

t.test('the ticket page lists who is copied; agents add a known user or a new address, and remove one', async (t) => {
  const { ctx, agent, b, ticket, page } = await setup(t);
  const first = await b.get(page);
  t.match(first.body, /id="collaborators"[\s\S]*Carl Colleague <span class="muted">&lt;carl@example.com&gt;/, 'the Cc of the first mail is listed');

  const added = await b.post(`${page}/collaborators`, { collaboratorEmail: ' Dora@Example.com ', collaboratorName: 'Dora Doe' });
  t.equal(added.statusCode, 302);
  t.same(await names(ctx, agent, ticket.number), ['carl@example.com', 'dora@example.com'], 'a new address, normalised');
  const shown = await b.get(page);
  t.match(shown.body, 'dora@example.com is now copied on this ticket.');
  t.match(shown.body, 'Dora Doe');

  // A known user keeps the name they have.
  await ctx.services.users.findOrCreate('Eve Known', 'eve@example.com');
  await b.post(`${page}/collaborators`, { collaboratorEmail: 'eve@example.com', collaboratorName: 'Someone Else' });
  t.match((await b.get(page)).body, 'Eve Known');
  const again = await b.post(`${page}/collaborators`, { collaboratorEmail: 'eve@example.com', collaboratorName: '' });
  t.equal(again.statusCode, 302);
  t.match((await b.get(page)).body, 'eve@example.com was already copied on this ticket.');

  const carl = (await ctx.services.tickets.collaborators(agent.principal, ticket.number)).find((c) => c.email === 'carl@example.com')!;
  const removed = await b.post(`${page}/collaborators/${carl.userId}/remove`, {});
  t.equal(removed.statusCode, 302);
  t.same(await names(ctx, agent, ticket.number), ['dora@example.com', 'eve@example.com']);
  const gone = await b.post(`${page}/collaborators/${carl.userId}/remove`, {});
  t.equal(gone.statusCode, 404, 'removing someone not copied: not found, nothing changed');

  const audit = await ctx.services.db.q('audit_log').whereIn('action', ['ticket.collaborator_add', 'ticket.collaborator_remove']).count({ n: '*' }).first();
  t.equal(Number(audit?.n), 3, 'each change audited');
});

t.test('bad input: the form again with the values and a precise error, nothing changed', async (t) => {
  const { ctx, agent, b, ticket, page } = await setup(t);
  await b.get(page);
  const bad = await b.post(`${page}/collaborators`, { collaboratorEmail: 'not an address', collaboratorName: 'Nobody' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, 'Enter a valid e-mail address.');
  t.match(bad.body, 'value="not an address"', 'the address kept');
  t.match(bad.body, 'value="Nobody"', 'the name kept');
  const requester = await b.post(`${page}/collaborators`, { collaboratorEmail: 'rita@example.com' });
  t.equal(requester.statusCode, 400);
  t.match(requester.body, 'This is the requester’s address');
  const noCsrf = await b.post(`${page}/collaborators`, { _csrf: 'forged', collaboratorEmail: 'x@example.com' });
  t.equal(noCsrf.statusCode, 403, 'CSRF checked');
  t.same(await names(ctx, agent, ticket.number), ['carl@example.com']);

  // An agent of another department cannot see the ticket, nor change who is on it.
  const outsider = await createAgent(ctx.services, { departments: ['Sales'] });
  const o = new Browser(b.app);
  await o.staffLogin(outsider.username, outsider.password);
  await o.get('/scp/tickets');
  t.equal((await o.post(`${page}/collaborators`, { collaboratorEmail: 'x@example.com' })).statusCode, 404);
  t.same(await names(ctx, agent, ticket.number), ['carl@example.com']);
});

t.test('reply to all or to the requester only; each response says who it went to', async (t) => {
  const { ctx, b, ticket, page } = await setup(t);
  const form = await b.get(page);
  t.match(form.body, /<input type="radio" name="recipients" value="all" checked> Reply to all \(copy to Carl Colleague\)/, 'reply to all by default');
  t.match(form.body, /value="requester"> Requester only \(Rita Requester\)/);

  t.equal((await b.post(`${page}/reply`, { message: 'First answer.' })).statusCode, 302);
  t.equal((await b.post(`${page}/reply`, { message: 'Second answer, to Rita only.', recipients: 'requester' })).statusCode, 302);
  const mail = (await ctx.services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'response');
  t.same(mail.map((m) => [m.to, m.cc]), [[['rita@example.com'], ['carl@example.com']], [['rita@example.com'], []]], 'what the outbox sends');
  const thread = (await b.get(page)).body;
  t.match(thread, /<p class="entry-recipients muted">To: rita@example.com; Cc: carl@example.com<\/p>\s*<div class="entry-body[^"]*">(<p>)?First answer\./, 'the first entry names both');
  t.match(thread, /<p class="entry-recipients muted">To: rita@example.com<\/p>\s*<div class="entry-body[^"]*">(<p>)?Second answer/, 'the second the requester only');

  // Without collaborators there is nothing to choose.
  // Several addresses read as a mail header writes them.
  await b.post(`${page}/collaborators`, { collaboratorEmail: 'dora@example.com' });
  await b.post(`${page}/reply`, { message: 'Third answer.' });
  t.match((await b.get(page)).body, 'To: rita@example.com; Cc: carl@example.com, dora@example.com</p>');

  const { ticket: lone } = await ctx.services.tickets.create(null, { name: 'Solo', email: 'solo@example.com', subject: 'Alone', message: 'Hi', source: 'web' });
  t.notMatch((await b.get(`/scp/tickets/${lone.number}`)).body, 'name="recipients"');
});
