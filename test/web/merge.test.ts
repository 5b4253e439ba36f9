import t, { type Test } from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { lastInbound, nextSeq, openByMail, outboxIdTo, TO } from '../helpers/mail-trust.js';
import { message, send, startListener } from '../helpers/smtp.js';

/** Merging tickets (issue 10, item 8), through the panel's forms and the SMTP listener. */
async function setup(t: Test) {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const { port } = await startListener(t, ctx.services);
  const alice = await createAgent(ctx.services, { name: 'Alice Agent' });
  const bob = await createAgent(ctx.services, { name: 'Bob Holder' });
  const a = new Browser(app);
  await a.staffLogin(alice.username, alice.password);
  return { ctx, app, port, alice, bob, a };
}

const ticketRow = async (ctx: Awaited<ReturnType<typeof setup>>['ctx'], number: string) =>
  (await ctx.services.db.knex('tickets').where({ number }).first('id', 'status', 'merged_into_id')) as { id: number; status: string; merged_into_id: number | null };

t.test('merge through form and confirmation: threads interleaved, collaborators united, the old number an alias', async (t) => {
  const { ctx, port, alice, a } = await setup(t);
  const { services } = ctx;
  const one = await openByMail(services, port, 'ann@example.com');
  ctx.clock.advance(60_000);
  const two = await openByMail(services, port, 'bob@example.com');
  ctx.clock.advance(60_000);
  await services.tickets.respond(alice.principal, one.number, 'Answer on the first ticket.');
  ctx.clock.advance(60_000);
  await services.tickets.note(alice.principal, two.number, 'Note on the second ticket.');

  const page = await a.get(`/scp/tickets/${one.number}`);
  t.match(page.body, `href="/scp/tickets/${one.number}/merge"`, 'the ticket page offers "Merge…"');
  const form = await a.get(`/scp/tickets/${one.number}/merge`);
  t.equal(form.statusCode, 200);
  t.match(form.body, 'name="others"');
  const confirm = await a.post(`/scp/tickets/${one.number}/merge/preview`, { others: `#${two.number}` });
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, new RegExp(`name="survivor" value="${one.number}" checked`), 'the starting ticket survives unless the agent picks another');
  t.match(confirm.body, new RegExp(`name="survivor" value="${two.number}"`));
  t.match(confirm.body, 'Merge 2 tickets');

  // Bob reads Danish: the notice about his ticket comes in his language.
  await services.users.setLanguage((await services.users.findByEmail('bob@example.com'))!.id, 'da');
  const done = await a.post(`/scp/tickets/${one.number}/merge`, { others: two.number, survivor: one.number, notify: '1' });
  t.equal(done.statusCode, 302);
  t.equal(done.headers.location, `/scp/tickets/${one.number}`);
  const merged = await a.get(`/scp/tickets/${one.number}`);
  t.match(merged.body, `Merged #${two.number} into ticket #${one.number}.`);
  const order = ['please refund', 'please refund', 'Answer on the first ticket.', 'Note on the second ticket.'];
  const view = await services.tickets.view(alice.principal, one.number);
  t.same(view.entries.map((e) => e.bodyText.split('\n')[0]), order, 'both threads, interleaved by time');
  t.same(view.entries.map((e) => e.createdAt.getTime()), [...view.entries.map((e) => e.createdAt.getTime())].sort(), 'times kept');
  t.same((await services.tickets.collaborators(alice.principal, one.number)).map((c) => c.email), ['bob@example.com'], 'the merged requester is copied');
  t.match(merged.body, /Alice Agent merged #\d+ into this ticket/, 'the survivor’s history');
  t.match(merged.body, `Merged into this ticket: #${two.number}`);
  const closedQueue = await a.get('/scp/tickets?queue=closed');
  t.match(closedQueue.body, `<a class="status status-merged" href="/scp/tickets/${one.number}">Merged into #${one.number}</a>`, 'the Closed queue says where a merged ticket went');

  const old = await a.get(`/scp/tickets/${two.number}`);
  t.equal(old.statusCode, 302, 'the old number redirects');
  t.equal(old.headers.location, `/scp/tickets/${one.number}`);
  const row = await ticketRow(ctx, two.number);
  t.equal(row.status, 'closed');
  // The alias takes no entries of its own (they would re-open it out of sight).
  const late = await a.post(`/scp/tickets/${two.number}/reply`, { message: 'Written on the old page.' });
  t.equal(late.statusCode, 302, 'a reply posted on the old page is refused and leads to the survivor');
  t.equal(late.headers.location, `/scp/tickets/${one.number}`);
  const bobUser = (await services.users.findByEmail('bob@example.com'))!;
  await t.rejects(services.tickets.clientReply({ kind: 'client', userId: bobUser.id, ticketId: null }, two.number, 'From the portal.'), { code: 'TICKET_MERGED' });
  t.equal((await ticketRow(ctx, two.number)).status, 'closed', 'still closed');
  // Bob's old access link: his ticket says where it went (the survivor is Ann's, which he may not read).
  const portal = new Browser(a.app);
  const link = new URL(services.tickets.accessLink((await services.tickets.findByNumber(two.number))!));
  await portal.get(`${link.pathname}${link.search}`);
  const oldPage = await portal.get(`/tickets/${two.number}`);
  t.equal(oldPage.statusCode, 200);
  t.match(oldPage.body, `behandles nu sammen med sag #${one.number}`, 'in his language');
  t.notMatch(oldPage.body, 'action="/tickets/' + two.number + '/reply"', 'no reply form on the alias');
  t.notOk((await services.tickets.view(alice.principal, one.number)).entries.some((e) => /old page|portal/.test(e.bodyText)), 'no entry written');
  t.equal(row.merged_into_id, (await ticketRow(ctx, one.number)).id);
  const notice = (await services.outbox.forTicket((await ticketRow(ctx, one.number)).id)).find((m) => m.kind === 'merged');
  t.same(notice?.to, ['bob@example.com'], 'the merged ticket’s requester is told');
  t.match(notice?.subject, `Sammenlagt: [#${one.number}]`, 'in Danish, under the survivor’s tag, so a reply lands there');
  t.match(notice?.bodyText, `Din henvendelse #${two.number}`);

  // Mail about the old ticket lands on the survivor: a reply to our signed mail, to the requester's own stored
  // Message-ID, and a [#OLD] subject from a participant.
  const confirmation = await outboxIdTo(services, two.ticketId, /^ticket_created$/, 'bob@example.com');
  const replies: Array<[string, Record<string, string>, string]> = [
    ['reply to the old confirmation', { 'In-Reply-To': `<${confirmation}>`, References: `<${confirmation}>` }, 'Re: whatever'],
    ['reply to the old first message', { 'In-Reply-To': `<${two.firstId}>` }, 'Re: Refund'],
    ['[#OLD] subject', {}, `Re: [#${two.number}] Refund`],
  ];
  for (const [name, headers, subject] of replies) {
    const n = nextSeq();
    const r = await send(port, message({ from: 'bob@example.com', subject, body: `Follow-up ${n}`, messageId: `bob-${n}@example.com`, headers }), { from: 'bob@example.com', to: TO });
    t.equal(r.code, 250, name);
    const inbound = await lastInbound(services);
    t.equal(inbound.status, 'reply', `${name}: threaded`);
    t.equal(inbound.ticket_id, (await ticketRow(ctx, one.number)).id, `${name}: on the survivor`);
  }
});

t.test('refused merges change nothing: itself, merged before, not visible, locked by someone else', async (t) => {
  const { ctx, port, alice, bob, a } = await setup(t);
  const { services } = ctx;
  const one = await openByMail(services, port, 'ann@example.com');
  const two = await openByMail(services, port, 'bob@example.com');
  const three = await openByMail(services, port, 'carol@example.com');
  const sales = await services.departments.ensure('Sales');
  const hidden = (await services.tickets.create(null, { name: 'Dan', email: 'dan@example.com', subject: 'Quote', message: 'A quote, please.', source: 'web', departmentId: sales.id })).ticket;
  await a.get(`/scp/tickets/${one.number}`);

  const self = await a.post(`/scp/tickets/${one.number}/merge/preview`, { others: one.number });
  t.equal(self.statusCode, 400);
  t.match(self.body, 'This is the ticket you are merging');
  t.match(self.body, `value="${one.number}"`, 'what was typed is kept');
  const empty = await a.post(`/scp/tickets/${one.number}/merge/preview`, { others: ' , ' });
  t.equal(empty.statusCode, 400);
  t.match(empty.body, 'Enter at least one other ticket number.');
  for (const others of [hidden.number, '99999999']) {
    const unseen = await a.post(`/scp/tickets/${one.number}/merge`, { others, survivor: one.number });
    t.equal(unseen.statusCode, 400, 'a ticket the agent cannot see is refused like one that does not exist');
    t.match(unseen.body, `There is no ticket #${others} that you can see.`);
  }
  t.equal((await ticketRow(ctx, hidden.number)).merged_into_id, null);
  const noSurvivor = await a.post(`/scp/tickets/${one.number}/merge`, { others: two.number, survivor: hidden.number });
  t.equal(noSurvivor.statusCode, 400);
  t.match(noSurvivor.body, 'Choose the ticket that continues.');

  // Someone else answering either ticket stops the merge; the confirmation comes back with the reason.
  await services.locks.acquire(bob.principal, two.number);
  const locked = await a.post(`/scp/tickets/${one.number}/merge`, { others: two.number, survivor: one.number, notify: '1' });
  t.equal(locked.statusCode, 409);
  t.match(locked.body, 'Bob Holder');
  t.match(locked.body, new RegExp(`name="survivor" value="${one.number}" checked`), 'the choice kept');
  t.equal((await ticketRow(ctx, two.number)).merged_into_id, null, 'nothing merged');
  t.equal((await services.tickets.view(bob.principal, two.number)).entries.length, 1, 'no entry moved');
  t.same((await services.tickets.collaborators(alice.principal, one.number)), [], 'no collaborator added');
  t.notOk((await services.outbox.forTicket((await ticketRow(ctx, one.number)).id)).some((m) => m.kind === 'merged'), 'no notice');
  ctx.clock.advance(10 * 60_000); // Bob’s lock expires.

  t.equal((await a.post(`/scp/tickets/${one.number}/merge`, { others: two.number, survivor: two.number })).statusCode, 302, 'the agent may pick the other ticket to survive');
  t.equal((await ticketRow(ctx, one.number)).merged_into_id, (await ticketRow(ctx, two.number)).id);
  // Into, or with, a merged ticket: refused.
  await a.get(`/scp/tickets/${three.number}`);
  const intoMerged = await a.post(`/scp/tickets/${three.number}/merge/preview`, { others: one.number });
  t.equal(intoMerged.statusCode, 400);
  t.match(intoMerged.body, `Ticket #${one.number} was merged into another ticket.`);
  const direct = await a.post(`/scp/tickets/${three.number}/merge`, { others: one.number, survivor: one.number });
  t.equal(direct.statusCode, 400);
  t.equal((await ticketRow(ctx, three.number)).merged_into_id, null);
  const forged = await a.post(`/scp/tickets/${three.number}/merge`, { _csrf: 'forged', others: two.number, survivor: two.number });
  t.equal(forged.statusCode, 403, 'CSRF checked');
  t.equal((await ticketRow(ctx, three.number)).merged_into_id, null);
});

t.test('two agents merging the same tickets opposite ways at once: one wins, no cycle', async (t) => {
  const { ctx, port, alice, bob } = await setup(t);
  const { services } = ctx;
  const one = await openByMail(services, port, 'ann@example.com');
  const two = await openByMail(services, port, 'bob@example.com');
  const results = await Promise.allSettled([
    services.merges.merge(alice.principal, { number: one.number, others: two.number, survivor: one.number, notify: false }),
    services.merges.merge(bob.principal, { number: two.number, others: one.number, survivor: two.number, notify: false }),
  ]);
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one merge done');
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.comment(`refused: ${(refused.reason as { code?: string }).code}`);
  t.ok(['MERGE_CONFLICT', 'VALIDATION_FAILED'].includes((refused.reason as { code?: string }).code ?? ''), 'the other refused as a conflict');
  const rows = [await ticketRow(ctx, one.number), await ticketRow(ctx, two.number)];
  t.equal(rows.filter((r) => r.merged_into_id === null).length, 1, 'exactly one survivor');
  const survivor = rows.find((r) => r.merged_into_id === null)!;
  t.equal(Number((await services.db.knex('thread_entries').where({ ticket_id: survivor.id }).count({ n: '*' }).first())?.n), 2, 'both messages on it');
});

t.test('deleting a surviving ticket takes its aliases with it; the numbers are free of it afterwards', async (t) => {
  const { ctx, port, alice } = await setup(t);
  const { services } = ctx;
  const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
  const one = await openByMail(services, port, 'ann@example.com');
  const two = await openByMail(services, port, 'bob@example.com');
  await services.merges.merge(alice.principal, { number: one.number, others: two.number, survivor: one.number, notify: false });
  const survivorId = (await ticketRow(ctx, one.number)).id;
  t.equal((await ticketRow(ctx, two.number)).merged_into_id, survivorId);
  await services.ticketRemoval.delete(admin.principal, one.number);
  t.notOk(await services.db.knex('tickets').whereIn('number', [one.number, two.number]).first('id'), 'survivor and alias are gone');
  t.notOk(await services.db.knex('thread_entries').where('ticket_id', survivorId).first('id'), 'with the thread');
});
