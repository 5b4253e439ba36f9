import t from 'tap';
import { createAgent } from '../helpers/context.js';
import { Browser, signedInAdmin } from '../helpers/http.js';
import { message, send, startListener, waitFor } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];
const DAY = 86_400_000;

/** The summary's outcome and reason cells for a ticket. */
function row(html: string, number: string): { outcome: string; reason: string } | null {
  const m = new RegExp(`<tr class="bulk-\\w+" data-number="${number}">([\\s\\S]*?)</tr>`).exec(html);
  if (!m) return null;
  const cells = [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.trim());
  return { outcome: cells[2] ?? '', reason: cells[3] ?? '' };
}

const count = async (db: { knex: (table: string) => { count: (c: Record<string, string>) => Promise<Array<Record<string, unknown>>> } }, table: string) =>
  Number((await db.knex(table).count({ n: '*' }))[0]!.n);

t.test('an administrator deletes a ticket from its page, after a confirmation; it is audited and its own data goes', async (t) => {
  const { ctx, app, admin, b } = await signedInAdmin(t);
  const s = ctx.services;
  const shared = { filename: 'logo.png', contentType: 'image/png', data: Buffer.from('the same bytes in two tickets') };
  const own = { filename: 'only.txt', contentType: 'text/plain', data: Buffer.from('bytes of this ticket alone') };
  const { ticket } = await s.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject: 'Printer jam', message: 'It jams.', source: 'web', attachments: [shared, own] });
  const { ticket: other } = await s.tickets.create(null, { name: 'Sam', email: 'sam@example.com', subject: 'Other', message: 'x', source: 'web', attachments: [shared] });
  await s.tickets.note(admin.principal, ticket.number, 'internal');
  await s.drafts.save(admin.principal, ticket.number, 'reply', 'a draft');
  await s.tickets.setPriority(admin.principal, ticket.number, 3);
  t.equal(Number((await s.db.knex('ticket_events').where({ ticket_id: ticket.id }).count({ n: '*' }))[0]!.n), 1);
  t.equal(await count(s.db, 'attachment_blobs'), 2);
  await s.tickets.respond(admin.principal, ticket.number, 'We are on it.');
  const waiting = await s.db.knex('outbox').where({ ticket_id: ticket.id, status: 'pending' }).pluck('id');
  t.ok(waiting.length > 0, 'mail about the ticket waits in the outbox');

  const agent = await createAgent(s, { name: 'Alice Answer' });
  const ab = new Browser(app);
  await ab.staffLogin(agent.username, agent.password);
  const agentPage = await ab.get(`/scp/tickets/${ticket.number}`);
  t.notMatch(agentPage.body, 'value="delete"', 'no delete button for an agent');
  t.match(agentPage.body, '<button type="submit" name="action" value="spam">Mark as spam</button>', 'but "Mark as spam"');

  const page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, /<form method="post" action="\/scp\/tickets\/bulk" class="actions">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="tickets" value="\d+">/);
  t.match(page.body, '<button type="submit" name="action" value="delete" class="danger">Delete ticket…</button>');

  t.match(page.body, `<input type="hidden" name="back" value="/scp/tickets/${ticket.number}">`);
  const confirm = await b.post('/scp/tickets/bulk', { tickets: ticket.number, action: 'delete', back: `/scp/tickets/${ticket.number}` });
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, 'Delete 1 ticket for good, with its thread and attachments');
  t.match(confirm.body, 'Deleting cannot be undone.');
  t.match(confirm.body, `<a href="/scp/tickets/${ticket.number}">Cancel</a>`, 'Cancel goes back to the ticket');
  t.ok(await s.tickets.findByNumber(ticket.number), 'still there before the confirmation');

  const done = await b.post('/scp/tickets/bulk/confirm', { tickets: ticket.number, action: 'delete', back: `/scp/tickets/${ticket.number}` });
  t.match(done.body, '<a href="/scp/tickets">Back to the queue</a>', 'a deleted ticket has no page to go back to');
  t.same(row(done.body, ticket.number), { outcome: 'Done', reason: '' });
  t.notMatch(done.body, `href="/scp/tickets/${ticket.number}"`, 'no link to a deleted ticket');
  t.equal(await s.tickets.findByNumber(ticket.number), null);
  t.equal((await b.get(`/scp/tickets/${ticket.number}`)).statusCode, 404);
  t.equal(Number((await s.db.knex('thread_entries').where({ ticket_id: ticket.id }).count({ n: '*' }))[0]!.n), 0, 'the thread went with it');
  t.equal(Number((await s.db.knex('drafts').where({ ticket_id: ticket.id }).count({ n: '*' }))[0]!.n), 0, 'and the drafts');
  t.equal(Number((await s.db.knex('ticket_events').where({ ticket_id: ticket.id }).count({ n: '*' }))[0]!.n), 0, 'and the history');
  t.equal(await count(s.db, 'attachment_blobs'), 1, 'bytes of its own are gone, bytes another ticket shares stay');
  t.same(await s.db.knex('outbox').whereIn('id', waiting).distinct().pluck('status'), ['cancelled'], 'its waiting mail is withdrawn, not sent');
  t.equal((await s.tickets.attachment(admin.principal, other.number, (await s.db.knex('attachments').where({ ticket_id: other.id }).first('id')).id)).data.toString(), shared.data.toString());

  const [audit] = await s.audit.forObject('ticket', ticket.id);
  t.match(audit, { action: 'ticket.delete', staffId: admin.principal.staffId, details: { number: ticket.number, subject: 'Printer jam', requesterName: 'Rita Requester', requesterEmail: 'rita@example.com' } });

  // An agent posting the action anyway is refused per ticket, and nothing goes.
  await ab.get('/scp/tickets');
  const refused = await ab.post('/scp/tickets/bulk/confirm', { tickets: other.number, action: 'delete' });
  t.same(row(refused.body, other.number), { outcome: 'Refused', reason: 'Only administrators can delete tickets.' });
  t.ok(await s.tickets.findByNumber(other.number));

  // Deleted meanwhile: the administrator is told so.
  await b.get('/scp/tickets');
  const again = await b.post('/scp/tickets/bulk/confirm', { tickets: ticket.number, action: 'delete' });
  t.same(row(again.body, ticket.number), { outcome: 'Refused', reason: 'It no longer exists: it was deleted meanwhile.' });
});

t.test('mail answering a deleted ticket opens a new one instead of failing', async (t) => {
  const { ctx, b } = await signedInAdmin(t);
  const s = ctx.services;
  const { port } = await startListener(t, s);
  t.equal((await send(port, message({ from: 'Rita <rita@example.com>', subject: 'Printer jam', body: 'It jams.', messageId: 'first@example.com' }), { from: 'rita@example.com', to: TO })).code, 250);
  const first = await waitFor(async () => (await s.db.knex('tickets').first('id', 'number')) as { id: number; number: string } | undefined);
  const ours = (await s.outbox.forTicket(first.id))[0]!.messageId!;
  await b.get('/scp/tickets');
  await b.post('/scp/tickets/bulk/confirm', { tickets: first.number, action: 'delete' });
  t.equal(await s.tickets.findByNumber(first.number), null);

  const reply = message({ from: 'Rita <rita@example.com>', subject: `Re: [#${first.number}] Printer jam`, body: 'Still jammed.', messageId: 'second@example.com', headers: { 'In-Reply-To': `<${ours}>`, References: `<first@example.com> <${ours}>` } });
  const r = await send(port, reply, { from: 'rita@example.com', to: TO });
  t.equal(r.code, 250, 'accepted');
  const rows = await s.db.knex('tickets').select('number', 'subject');
  t.equal(rows.length, 1, 'a new ticket');
  t.not(rows[0]!.number, first.number);
  t.match(rows[0]!.subject, 'Printer jam');
});

t.test('spam leaves every queue, is audited, stays spam when its sender writes again, and goes after the retention', async (t) => {
  const { ctx, app, b } = await signedInAdmin(t);
  const s = ctx.services;
  const agent = await createAgent(s, { name: 'Alice Answer' });
  const ab = new Browser(app);
  await ab.staffLogin(agent.username, agent.password);
  const { ticket } = await s.tickets.create(null, { name: 'Spammer', email: 'spam@spam.example', subject: 'Cheap pills', message: 'buy', source: 'web' });
  const { ticket: keep } = await s.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Real question', message: 'help', source: 'web' });
  t.match((await ab.get('/scp/tickets')).body, 'Cheap pills');

  await ab.get('/scp/tickets');
  const confirm = await ab.post('/scp/tickets/bulk', { tickets: ticket.number, action: 'spam' });
  t.match(confirm.body, 'Mark 1 ticket as spam');
  const done = await ab.post('/scp/tickets/bulk/confirm', { tickets: ticket.number, action: 'spam', back: `/scp/tickets/${ticket.number}` });
  t.match(done.body, `<a href="/scp/tickets/${ticket.number}">Back to the ticket</a>`);
  t.same(row(done.body, ticket.number), { outcome: 'Done', reason: '' });
  t.equal((await s.tickets.findByNumber(ticket.number))?.status, 'spam');
  const mail = await s.outbox.forTicket(ticket.id);
  t.ok(mail.length && mail.every((m) => m.status === 'cancelled'), 'its auto-reply and alerts are not sent');
  const other = await s.outbox.forTicket(keep.id);
  t.ok(other.length && other.every((m) => m.status === 'pending'), 'other tickets’ mail still is');
  for (const queue of ['open', 'mine', 'unassigned', 'answered', 'closed']) {
    const page = await ab.get(`/scp/tickets?queue=${queue}`);
    t.notMatch(page.body, 'Cheap pills', `not in the ${queue} queue`);
  }
  t.same(await s.tickets.queueCounts(agent.principal), { open: 1, answered: 0, mine: 0, unassigned: 1, closed: 0 }, 'nor in the counts');
  const spamPage = (await ab.get(`/scp/tickets/${ticket.number}`)).body;
  t.match(spamPage, '<span class="status status-spam">Spam</span>', 'the ticket page says so');
  t.match(spamPage, 'Alice Answer marked the ticket as spam', 'and its history');
  t.match((await s.audit.forObject('ticket', ticket.id))[0], { action: 'ticket.spam', details: { from: 'open' } });

  // The spammer writes again: the message is kept, the ticket stays spam.
  const { port } = await startListener(t, s);
  await send(port, message({ from: 'spam@spam.example', subject: `Re: [#${ticket.number}] Cheap pills`, body: 'more', messageId: 'spam-2@spam.example' }), { from: 'spam@spam.example', to: TO });
  t.equal((await s.tickets.findByNumber(ticket.number))?.status, 'spam', 'not re-opened by its sender');
  const kept = await s.db.knex('thread_entries').where({ ticket_id: ticket.id }).orderBy('id', 'desc').first('body_text', 'alert_pending');
  t.match(kept, { body_text: /more/ }, 'the message is kept');
  t.notOk(Number(kept.alert_pending), 'and alerts nobody');

  // An agent may not ban; an administrator may, and an existing ban is no error.
  await ab.get('/scp/tickets');
  const agentBan = await ab.post('/scp/tickets/bulk/confirm', { tickets: keep.number, action: 'spam:ban' });
  t.same(row(agentBan.body, keep.number), { outcome: 'Refused', reason: 'Only administrators can ban senders.' });
  t.equal((await s.tickets.findByNumber(keep.number))?.status, 'open', 'not marked either');
  t.same(await s.bans.list(), []);

  const { ticket: more } = await s.tickets.create(null, { name: 'Spammer', email: 'spam@spam.example', subject: 'Cheaper pills', message: 'buy', source: 'web' });
  await b.get('/scp/tickets');
  const banned = await b.post('/scp/tickets/bulk/confirm', { tickets: [ticket.number, more.number], action: 'spam:ban' });
  t.same(row(banned.body, ticket.number), { outcome: 'Done', reason: '' }, 'already spam: the ban is what is done');
  t.same(row(banned.body, more.number), { outcome: 'Done', reason: '' }, 'the same sender again: the existing ban is enough');
  t.same((await s.bans.list()).map((x) => x.pattern), ['spam@spam.example']);
  t.match((await b.get(`/scp/tickets/${ticket.number}`)).body, 'Ada Admin marked the ticket as spam and banned its sender spam@spam.example');
  const refusedMail = await send(port, message({ from: 'spam@spam.example', subject: 'Again', body: 'x', messageId: 'spam-3@spam.example' }), { from: 'spam@spam.example', to: TO });
  t.not(refusedMail.code, 250, 'the banned sender’s next mail is refused');

  // Undo: re-opening takes a ticket out of spam.
  await b.get(`/scp/tickets/${more.number}`);
  await b.post(`/scp/tickets/${more.number}/status`, { status: 'open' });
  t.equal((await s.tickets.findByNumber(more.number))?.status, 'open');

  t.ok(s.scheduler.jobNames.includes('spam.purge'), 'a scheduled job deletes old spam');
  t.equal(await s.ticketRemoval.purgeSpam(new Date(ctx.clock.now().getTime() - 30 * DAY), 100), 0, 'nothing younger than the retention');
  ctx.clock.advance(31 * DAY);
  t.equal(await s.ticketRemoval.purgeSpam(new Date(ctx.clock.now().getTime() - 30 * DAY), 100), 1, 'spam older than the retention goes');
  t.equal(await s.tickets.findByNumber(ticket.number), null);
  t.ok(await s.tickets.findByNumber(more.number), 'the re-opened one stays');
  t.ok(await s.tickets.findByNumber(keep.number));
});
