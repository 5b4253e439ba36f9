import t, { type Test } from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

async function setup(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const s = ctx.services;
  const alice = await createAgent(s, { name: 'Alice Answer' });
  const bob = await createAgent(s, { name: 'Bob Second' });
  const admin = await createAgent(s, { admin: true, name: 'Ada Admin' });
  const billing = await s.departments.ensure('Billing');
  const make = async (subject: string, departmentId: number | null = null) =>
    (await s.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject, message: 'Help', source: 'web', departmentId })).ticket;
  const b = new Browser(app);
  t.equal((await b.staffLogin(alice.username, alice.password)).statusCode, 302);
  return { ctx, app, s, alice, bob, admin, billing, make, b };
}

const status = async (s: Awaited<ReturnType<typeof setup>>['s'], number: string) => (await s.tickets.findByNumber(number))?.status;
/** The summary's row for a ticket: its outcome and reason cells. */
function row(html: string, number: string): { outcome: string; reason: string } | null {
  const m = new RegExp(`<tr class="bulk-\\w+" data-number="${number}">([\\s\\S]*?)</tr>`).exec(html);
  if (!m) return null;
  const cells = [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.trim());
  return { outcome: cells[2] ?? '', reason: cells[3] ?? '' };
}

t.test('the queue has a box per row, "select all on this page" and one action form with a CSRF token', async (t) => {
  const { make, b } = await setup(t);
  const one = await make('First');
  const page = await b.get('/scp/tickets');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<form method="post" action="\/scp\/tickets\/bulk" id="bulk-form" class="bulk-form">\s*<input type="hidden" name="_csrf" value="[^"]+">/);
  t.match(page.body, `<input type="checkbox" name="tickets" value="${one.number}" aria-label="Select ticket #${one.number}">`);
  t.match(page.body, /<input type="checkbox" name="all" value="1" id="bulk-all" aria-label="Select all tickets on this page"/);
  t.match(page.body, `<input type="hidden" name="page" value="${one.number}">`, 'the page’s numbers, for "all" without JavaScript');
  t.match(page.body, '<option value="status:closed">Set status: Closed</option>');
  t.match(page.body, '<option value="assign:me">Assign to me</option>');
  t.notMatch(page.body, 'value="delete"', 'delete is for administrators');
  t.notMatch(page.body, 'value="spam:ban"', 'and so is banning');
  t.match(page.body, '<option value="spam">Mark as spam</option>');
});

t.test('status change: a confirmation first, then each ticket on its own, refusals named with their reason', async (t) => {
  const { s, bob, billing, make, b, alice } = await setup(t);
  const free = await make('Free one');
  const locked = await make('Locked one');
  const closed = await make('Closed one');
  const elsewhere = await make('Billing one', billing.id);
  const another = await make('Another free one');
  await s.tickets.setStatus(alice.principal, closed.number, 'closed');
  await s.locks.acquire(bob.principal, locked.number);
  const numbers = [free.number, locked.number, closed.number, elsewhere.number, another.number];

  await b.get('/scp/tickets');
  const confirm = await b.post('/scp/tickets/bulk', { tickets: numbers, action: 'status:closed', back: '/scp/tickets?queue=open' });
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, 'Change 5 tickets: set the status to Closed');
  t.match(confirm.body, /<form method="post" action="\/scp\/tickets\/bulk\/confirm">\s*<input type="hidden" name="_csrf"/);
  t.match(confirm.body, `#${free.number} Free one`);
  t.match(confirm.body, `#${elsewhere.number} (not visible to you)`, 'a ticket outside the agent’s departments: its number, not its subject');
  t.notMatch(confirm.body, 'Billing one');
  t.match(confirm.body, '<a href="/scp/tickets?queue=open">Cancel</a>');
  t.equal(await status(s, free.number), 'open', 'nothing changes before the confirmation');

  t.equal((await b.get(`/scp/tickets/bulk/confirm?tickets=${free.number}&action=status:closed`)).statusCode, 404, 'no GET route');
  const noToken = await b.post('/scp/tickets/bulk/confirm', { _csrf: '', tickets: [free.number], action: 'status:closed' });
  t.equal(noToken.statusCode, 403, 'the confirmation needs the CSRF token');
  const noTokenFirst = await b.post('/scp/tickets/bulk', { _csrf: 'forged', tickets: [free.number], action: 'status:closed' });
  t.equal(noTokenFirst.statusCode, 403, 'and so does the first step');
  t.equal(await status(s, free.number), 'open');

  await b.get('/scp/tickets');
  const done = await b.post('/scp/tickets/bulk/confirm', { tickets: numbers, action: 'status:closed', back: '/scp/tickets?queue=open' });
  t.equal(done.statusCode, 200);
  t.match(done.body, '2 tickets changed');
  t.match(done.body, '1 ticket was already so');
  t.match(done.body, '2 tickets refused');
  t.same(row(done.body, free.number), { outcome: 'Done', reason: '' });
  t.same(row(done.body, another.number), { outcome: 'Done', reason: '' }, 'a refusal before it stopped nothing');
  t.same(row(done.body, locked.number), { outcome: 'Refused', reason: 'Bob Second is working on it (the ticket is locked).' });
  t.same(row(done.body, closed.number), { outcome: 'Already so', reason: '' });
  t.same(row(done.body, elsewhere.number), { outcome: 'Refused', reason: 'You cannot see it: it is outside your departments, or no longer exists.' });
  t.equal(await status(s, free.number), 'closed');
  t.equal(await status(s, another.number), 'closed');
  t.equal(await status(s, locked.number), 'open', 'the locked ticket is untouched');
  t.equal(await status(s, elsewhere.number), 'open', 'and so is the one outside the agent’s departments');
  t.match(done.body, '<a href="/scp/tickets?queue=open">Back to the queue</a>');
  const audit = await s.audit.forObject('ticket', free.id);
  t.match(audit[0], { action: 'ticket.status', staffId: alice.principal.staffId, details: { from: 'open', to: 'closed' } }, 'audited like a change on the ticket page');
});

t.test('every other action, through the same two steps', async (t) => {
  const { s, bob, billing, make, b, alice } = await setup(t);
  const [x, y] = [await make('X'), await make('Y')];
  const apply = async (action: string) => {
    await b.get('/scp/tickets');
    const c = await b.post('/scp/tickets/bulk', { tickets: [x.number, y.number], action });
    t.equal(c.statusCode, 200, `${action}: confirmation`);
    const r = await b.post('/scp/tickets/bulk/confirm', { tickets: [x.number, y.number], action });
    t.equal(r.statusCode, 200);
    return { confirm: c.body, summary: r.body };
  };
  const get = async (n: string) => (await s.tickets.findByNumber(n))!;

  t.match((await apply('assign:me')).confirm, 'Assign 2 tickets to yourself');
  t.equal((await get(x.number)).assigneeId, alice.principal.staffId);
  t.match((await apply(`assign:${bob.principal.staffId}`)).confirm, 'Assign 2 tickets to Bob Second');
  t.equal((await get(y.number)).assigneeId, bob.principal.staffId);
  t.match((await apply('assign:none')).confirm, 'Unassign 2 tickets');
  t.equal((await get(y.number)).assigneeId, null);
  t.match((await apply('priority:4')).confirm, 'Change 2 tickets: set the priority to Urgent');
  t.equal((await get(x.number)).priority, 4);

  // An assignee outside a ticket's department is refused for that ticket, with the service's reason.
  const outsider = await createAgent(s, { name: 'Olga Outside', departments: ['Billing'] });
  const refused = await apply(`assign:${outsider.principal.staffId}`);
  t.match(row(refused.summary, x.number)?.outcome, 'Refused');
  t.ok(row(refused.summary, x.number)?.reason, 'with a reason');
  t.equal((await get(x.number)).assigneeId, null);

  const moved = await apply(`transfer:${billing.id}`);
  t.match(moved.confirm, 'Transfer 2 tickets to Billing');
  t.match(moved.summary, '2 tickets changed');
  t.equal((await get(x.number)).departmentId, billing.id, 'transferred out of the agent’s sight, as the ticket page allows');

  // Now out of Alice's departments: both refused, named.
  const after = await apply('status:resolved');
  t.match(after.summary, '2 tickets refused');
  t.match(after.confirm, `#${x.number} (not visible to you)`);
  t.equal((await get(x.number)).status, 'open');
});

t.test('bad input: nothing chosen, too many, an unknown action, delete by an agent', async (t) => {
  const { s, make, b } = await setup(t);
  const one = await make('One');
  await b.get('/scp/tickets');

  const none = await b.post('/scp/tickets/bulk', { action: 'status:closed', back: '/scp/tickets?queue=mine' });
  t.equal(none.statusCode, 302);
  t.equal(none.headers.location, '/scp/tickets?queue=mine', 'back to the queue it came from');
  t.match((await b.get('/scp/tickets?queue=mine')).body, 'Select at least one ticket first.');

  await b.get('/scp/tickets');
  const offsite = await b.post('/scp/tickets/bulk', { action: 'status:closed', back: 'https://evil.example/' });
  t.equal(offsite.headers.location, '/scp/tickets', 'never back to anywhere else');

  await b.get('/scp/tickets');
  const many = Array.from({ length: 501 }, (_, i) => String(10_000_000 + i));
  const tooMany = await b.post('/scp/tickets/bulk/confirm', { tickets: many, action: 'status:closed' });
  t.equal(tooMany.statusCode, 302, 'the cap');
  t.match((await b.get('/scp/tickets')).body, 'You selected 501 tickets; at most 500 can be changed at once.');

  const unknown = await b.post('/scp/tickets/bulk', { tickets: [one.number], action: 'explode' });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.body, /<p class="error" id="e-action">Choose what to do with the selected tickets.<\/p>/);
  t.match(unknown.body, `<input type="hidden" name="tickets" value="${one.number}">`, 'the chosen tickets kept');
  t.match(unknown.body, '<option value="status:closed">', 'the action offered again');

  // "Select all" without JavaScript: the page's numbers.
  const all = await b.post('/scp/tickets/bulk', { all: '1', page: [one.number], action: 'priority:1' });
  t.match(all.body, 'Change 1 ticket: set the priority to Low');

  // Delete and ban are not offered to agents; posted anyway, each ticket is refused.
  await b.get('/scp/tickets');
  const del = await b.post('/scp/tickets/bulk/confirm', { tickets: [one.number], action: 'delete' });
  t.same(row(del.body, one.number), { outcome: 'Refused', reason: 'Only administrators can delete tickets.' });
  const ban = await b.post('/scp/tickets/bulk/confirm', { tickets: [one.number], action: 'spam:ban' });
  t.same(row(ban.body, one.number), { outcome: 'Refused', reason: 'Only administrators can ban senders.' });
  t.equal(await status(s, one.number), 'open', 'nothing changed');
});

t.test('the summary is in the agent’s language', async (t) => {
  const { s, make, b, alice, bob } = await setup(t);
  const one = await make('One');
  await s.locks.acquire(bob.principal, one.number);
  await s.staff.updatePreferences(alice.principal, { timezone: 'UTC', language: 'da' }, (code) => s.i18n.supported(code));
  await b.get('/scp/tickets');
  const r = await b.post('/scp/tickets/bulk/confirm', { tickets: [one.number], action: 'status:closed' });
  t.same(row(r.body, one.number), { outcome: 'Afvist', reason: 'Bob Second arbejder på den (sagen er låst).' });
});

t.test('bulk "Merge" hands the chosen tickets to the merge form, filled in; fewer than two is refused', async (t) => {
  const { make, b, s } = await setup(t);
  const one = await make('Printer jams');
  const two = await make('Printer still jams');
  const three = await make('Printer, again');
  await b.get('/scp/tickets');
  const go = await b.post('/scp/tickets/bulk', { tickets: [one.number, two.number, three.number], action: 'merge', back: '/scp/tickets' });
  t.equal(go.statusCode, 302);
  t.equal(go.headers.location, `/scp/tickets/${one.number}/merge?others=${two.number}+${three.number}`);
  const form = await b.get(String(go.headers.location));
  t.equal(form.statusCode, 200);
  t.match(form.body, new RegExp(`name="others"[^>]*value="${two.number} ${three.number}"|value="${two.number} ${three.number}"[^>]*name="others"`), 'the other numbers filled in');
  t.equal(await status(s, two.number), 'open', 'nothing merged before the agent confirms');

  const lone = await b.post('/scp/tickets/bulk', { tickets: [one.number], action: 'merge', back: '/scp/tickets' });
  t.equal(lone.headers.location, '/scp/tickets');
  t.match((await b.get('/scp/tickets')).body, 'Choose at least two tickets to merge.');
});
