import t from 'tap';
import type { Test } from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;

async function signedIn(t: Test) {
  const agent = await createAgent(services, { name: 'Ann Agent' });
  const b = new Browser(app);
  t.equal((await b.staffLogin(agent.username, agent.password)).statusCode, 302);
  return { agent, b, staffId: agent.principal.staffId };
}

t.test('an agent edits their own name, address and signature; a new address needs the current password', async (t) => {
  const { agent, b, staffId } = await signedIn(t);
  const page = await b.get('/scp/preferences');
  t.match(page.body, '<h2>Profile</h2>');
  t.match(page.body, `value="${agent.username}@staff.test"`);

  const bad = await b.post('/scp/preferences/profile', { name: ' ', email: 'not-an-address', signature: 'x'.repeat(2001) });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'name'));
  t.ok(fieldError(bad.body, 'email'));
  t.equal(fieldError(bad.body, 'signature'), 'At most 2,000 characters.');
  t.match(bad.body, 'value="not-an-address"', 'what was typed is kept');

  const noPassword = await b.post('/scp/preferences/profile', { name: 'Ann A.', email: 'ann@example.com', signature: '' });
  t.equal(noPassword.statusCode, 400);
  t.equal(fieldError(noPassword.body, 'emailPassword'), 'Enter your current password to change your e-mail address.');
  const wrong = await b.post('/scp/preferences/profile', { name: 'Ann A.', email: 'ann@example.com', signature: '', emailPassword: 'not it at all' });
  t.equal(fieldError(wrong.body, 'emailPassword'), 'This is not your current password.');
  t.equal((await services.staff.get(staffId)).email, `${agent.username}@staff.test`, 'nothing saved');

  const other = await createAgent(services);
  const taken = await b.post('/scp/preferences/profile', { name: 'Ann', email: `${other.username}@staff.test`, signature: '', emailPassword: agent.password });
  t.equal(fieldError(taken.body, 'email'), 'This e-mail address is already in use.');

  const nameOnly = await b.post('/scp/preferences/profile', { name: 'Ann Andersen', email: `${agent.username}@staff.test`, signature: 'Ann\nIT support, 2nd floor' });
  t.equal(nameOnly.statusCode, 302, 'the same address needs no password');
  t.match((await b.get('/scp/preferences')).body, 'Profile saved.');
  const saved = await services.staff.get(staffId);
  t.equal(saved.name, 'Ann Andersen');
  t.equal(saved.signature, 'Ann\nIT support, 2nd floor');

  t.equal((await b.post('/scp/preferences/profile', { name: 'Ann Andersen', email: 'ANN@Example.com', signature: 'Ann', emailPassword: agent.password })).statusCode, 302);
  t.equal((await services.staff.get(staffId)).email, 'ann@example.com');
  t.equal((await new Browser(app).staffLogin('ann@example.com', agent.password)).statusCode, 302, 'signs in with the new address');
});

t.test('the reply form chooses the signature, and "Send and close" answers and closes in one step', async (t) => {
  const { agent, b } = await signedIn(t);
  const support = await services.departments.ensure('Support');
  const admin = await createAgent(services, { admin: true });
  await services.departments.update(admin.principal, support.id, { name: 'Support', signature: 'The IT support team' });
  const { ticket } = await services.tickets.create(agent.principal, { name: 'Rita', email: 'rita@example.com', subject: 'VPN', message: 'It drops', source: 'phone' });

  let page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, /name="signature" value="department" checked/, 'the department’s by default while I have none');
  t.notMatch(page.body, 'value="mine"', 'no choice of a signature I do not have');
  t.match(page.body, '<button type="submit" name="then" value="resolved">Send and mark resolved</button>');
  t.match(page.body, '<button type="submit" name="then" value="closed">Send and close</button>');

  await services.staff.updateProfile(agent.principal, { name: 'Ann Agent', email: `${agent.username}@staff.test`, signature: 'Ann, IT', password: '' });
  // The page reads my signature from the directory cache, refreshed within a second on every node.
  ctx.clock.advance(DIRECTORY_REFRESH_MS * 2);
  page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, /name="signature" value="mine" checked/, 'mine once I have one');

  const empty = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: '', signature: 'none', then: 'closed' });
  t.equal(empty.statusCode, 400);
  t.match(empty.body, /name="signature" value="none" checked/, 'the choice survives a refused form');
  t.equal((await services.tickets.findByNumber(ticket.number))!.status, 'open', 'nothing closed');

  const sent = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Try the new profile.', signature: 'department', then: 'closed' });
  t.equal(sent.statusCode, 302);
  t.match((await b.get(`/scp/tickets/${ticket.number}`)).body, 'Response sent and ticket closed.');
  const after = (await services.tickets.findByNumber(ticket.number))!;
  t.equal(after.status, 'closed');
  t.ok(after.closedAt);
  const entries = await services.db.knex('thread_entries').where({ ticket_id: ticket.id, type: 'response' });
  t.equal(entries[0].body_text, 'Try the new profile.\n\nThe IT support team', 'the thread shows the signature the requester read');
  const mail = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'response')!;
  t.match(mail.bodyText, 'Try the new profile.\n\nThe IT support team\n\nAnn Agent');
  t.equal(mail.bodyText.match(/The IT support team/g)!.length, 1, 'once, not twice');
  const audit = await services.db.knex('audit_log').where({ action: 'ticket.status', object_id: String(ticket.id) }).first();
  t.match(JSON.parse(audit.details), { from: 'open', to: 'closed' });

  const mine = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'One more thing.', signature: 'mine' });
  t.equal(mine.statusCode, 302);
  t.equal((await services.tickets.findByNumber(ticket.number))!.status, 'closed', 'plain Send leaves the status');
  const none = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'No signature here.', signature: 'none', then: 'bogus' });
  t.equal(none.statusCode, 302, 'an unknown "then" is a plain Send');
  const bodies = (await services.db.knex('thread_entries').where({ ticket_id: ticket.id, type: 'response' }).orderBy('id')).map((e) => e.body_text);
  t.same(bodies.slice(1), ['One more thing.\n\nAnn, IT', 'No signature here.']);
});

t.test('"Send and mark resolved" is refused with the response when another agent holds the lock: nothing changes, the text is kept', async (t) => {
  const { agent, b } = await signedIn(t);
  const colleague = await createAgent(services, { name: 'Cai Colleague' });
  const { ticket } = await services.tickets.create(agent.principal, { name: 'Rita', email: 'rita2@example.com', subject: 'Printer', message: 'Jammed', source: 'phone' });
  await services.locks.acquire(colleague.principal, ticket.number);
  const refused = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Kept text', then: 'resolved' });
  t.equal(refused.statusCode, 409);
  t.match(refused.body, 'Kept text');
  t.equal((await services.tickets.findByNumber(ticket.number))!.status, 'open');
  t.equal((await services.db.knex('thread_entries').where({ ticket_id: ticket.id, type: 'response' })).length, 0);
});

t.test('each agent chooses their e-mail alerts; the assignee always hears of new messages on their ticket', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const admin = await createAgent(services, { admin: true, name: 'Ada Admin', departments: ['Support'] });
  const quiet = await createAgent(services, { name: 'Quinn Quiet', departments: ['Support', 'Billing'] });
  const loud = await createAgent(services, { name: 'Lou Loud', departments: ['Support', 'Billing'] });
  const b = new Browser(app);
  t.equal((await b.staffLogin(quiet.username, quiet.password)).statusCode, 302);
  const page = await b.get('/scp/preferences');
  t.match(page.body, /id="f-alert-newTicket" name="newTicket" value="1" checked/, 'every alert on by default');
  // Only "assigned to me" stays ticked.
  t.equal((await b.post('/scp/preferences/alerts', { assigned: '1' })).statusCode, 302);
  const after = await b.get('/scp/preferences');
  t.match(after.body, 'Alert settings saved.');
  t.match(after.body, /name="newTicket" value="1">/);
  t.match(after.body, /name="assigned" value="1" checked>/);
  ctx.clock.advance(DIRECTORY_REFRESH_MS * 2);

  const to = async (ticketId: number, kind: string) =>
    (await services.outbox.forTicket(ticketId)).filter((m) => m.kind === kind).flatMap((m) => m.to).sort();
  const quietTo = `${quiet.username}@staff.test`;
  const loudTo = `${loud.username}@staff.test`;

  const { ticket } = await services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Screen', message: 'Dark', source: 'web' });
  t.notOk((await to(ticket.id, 'alert_new_ticket')).includes(quietTo), 'no new-ticket alert for who turned it off');
  t.ok((await to(ticket.id, 'alert_new_ticket')).includes(loudTo), 'a colleague still gets theirs');

  const client = { kind: 'client' as const, userId: ticket.userId, ticketId: ticket.id };
  await services.tickets.clientReply(client, ticket.number, 'Still dark');
  t.notOk((await to(ticket.id, 'alert_new_message')).includes(quietTo), 'no message alert on a colleague’s or nobody’s ticket');

  await services.tickets.assign(admin.principal, ticket.number, quiet.principal.staffId);
  t.same(await to(ticket.id, 'alert_assigned'), [quietTo], 'the assignment alert, which stayed on');
  await services.tickets.clientReply(client, ticket.number, 'Now it flickers');
  t.equal((await to(ticket.id, 'alert_new_message')).filter((a) => a === quietTo).length, 1, 'the assignee hears of new messages on their ticket regardless');

  const billing = (await services.departments.ensure('Billing')).id;
  await services.tickets.transfer(admin.principal, ticket.number, billing);
  const moved = await to(ticket.id, 'alert_transfer');
  t.ok(moved.includes(loudTo));
  t.notOk(moved.includes(quietTo), 'no transfer alert for who turned it off');
});
