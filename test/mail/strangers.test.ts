import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { entry, lastInbound, nextSeq, openByMail, outboxIdTo, TO } from '../helpers/mail-trust.js';
import { message, send, startListener } from '../helpers/smtp.js';

t.test('a stranger answering a signed or stored id is kept and flagged; agents add them or move the entry', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const { port } = await startListener(t, services);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(services, { name: 'Alan Agent' });
  const { ticketId, number, firstId } = await openByMail(services, port);
  await services.tickets.respond(agent.principal, number, 'We are on it.');
  const response = await outboxIdTo(services, ticketId, /^response$/, 'ann@example.com');
  await services.tickets.setStatus(agent.principal, number, 'resolved');

  const strangers: Array<{ from: string; via: string; headers: Record<string, string> }> = [
    { from: 'eve@evil.example', via: 'signed_id', headers: { 'In-Reply-To': `<${response}>` } },
    { from: 'mallory@other.example', via: 'stored_id', headers: { References: `<${firstId}>` } },
    { from: 'trent@third.example', via: 'signed id in References', headers: { References: `<${response}>` } },
  ];
  const entryIds: number[] = [];
  for (const s of strangers) {
    const before = (await services.outbox.forTicket(ticketId)).length;
    const n = nextSeq();
    const r = await send(port, message({ from: s.from, subject: `Re: [#${number}] Refund`, body: `I am ${s.from}, refund me instead`, messageId: `stranger-${n}@x.example`, headers: s.headers }), { from: s.from, to: TO });
    t.equal(r.code, 250);
    const row = await lastInbound(services);
    t.same([row.status, row.ticket_id], ['reply', ticketId], `${s.from} (${s.via}): kept on the ticket`);
    const e = await entry(services, row.entry_id!);
    t.same([e.type, Boolean(e.from_non_participant), e.verification, e.sender_email], ['message', true, 'unverified', s.from], `${s.from}: flagged as from someone not on the ticket`);
    t.equal((await services.tickets.get(agent.principal, number)).status, 'resolved', `${s.from}: not re-opened`);
    t.equal((await services.outbox.forTicket(ticketId)).length, before, `${s.from}: no alert`);
    entryIds.push(row.entry_id!);
  }
  const requesterView = await services.tickets.view({ kind: 'client', userId: (await services.tickets.get(agent.principal, number)).userId, ticketId }, number);
  t.notOk(requesterView.entries.some((e) => entryIds.includes(e.id)), 'the requester does not read strangers’ mail on their ticket');

  // The API shows each entry's verification.
  const { key } = await services.apiKeys.create({ name: 'CRM' });
  const json = (await app.inject({ method: 'GET', url: `/api/v1/tickets/${number}`, headers: { 'x-api-key': key } })).json() as { thread: Array<{ id: number; verification: string | null; fromNonParticipant: boolean }> };
  t.match(json.thread.find((e) => e.id === entryIds[0]), { id: entryIds[0], verification: 'unverified', fromNonParticipant: true }, 'API: verification and flag');
  t.match(json.thread[0], { verification: 'unverified', fromNonParticipant: false }, 'API: the requester’s own first mail');

  // The staff page marks the entries and offers the two actions, as forms with CSRF.
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const page = await b.get(`/scp/tickets/${number}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, 'From someone not on this ticket');
  t.match(page.body, /class="verify verify-unverified"[^>]*><span aria-hidden="true">\?<\/span> Unverified sender/);
  t.match(page.body, `action="/scp/tickets/${number}/entries/${entryIds[0]}/add-collaborator"`);

  t.equal((await b.post(`/scp/tickets/${number}/entries/${entryIds[0]}/add-collaborator`, { _csrf: 'forged' })).statusCode, 403, 'CSRF checked');
  const outsider = await createAgent(services, { departments: ['Elsewhere'] });
  const ob = new Browser(app);
  await ob.staffLogin(outsider.username, outsider.password);
  await ob.get('/scp/tickets');
  t.equal((await ob.post(`/scp/tickets/${number}/entries/${entryIds[0]}/add-collaborator`, {})).statusCode, 404, 'access checked');
  t.equal((await ob.post(`/scp/tickets/${number}/entries/${entryIds[1]}/move`, {})).statusCode, 404, 'access checked (move)');

  await b.get(`/scp/tickets/${number}`);
  const added = await b.post(`/scp/tickets/${number}/entries/${entryIds[0]}/add-collaborator`, {});
  t.same([added.statusCode, added.headers.location], [302, `/scp/tickets/${number}`]);
  t.ok((await services.tickets.collaborators(agent.principal, number)).some((c) => c.email === 'eve@evil.example'), 'the sender is a collaborator');
  t.equal(Boolean((await entry(services, entryIds[0]!)).from_non_participant), false, 'and the entry is no longer flagged');

  await b.get(`/scp/tickets/${number}`);
  const moved = await b.post(`/scp/tickets/${number}/entries/${entryIds[1]}/move`, {});
  t.equal(moved.statusCode, 302);
  const newNumber = /^\/scp\/tickets\/(\d+)$/.exec(String(moved.headers.location))?.[1];
  t.ok(newNumber && newNumber !== number, 'redirected to the new ticket');
  const newView = await services.tickets.view(agent.principal, newNumber!);
  t.equal(newView.ticket.requesterEmail, 'mallory@other.example', 'the sender is its requester');
  t.same(newView.entries.map((e) => e.id), [entryIds[1]], 'the entry moved there');
  t.notOk((await services.tickets.view(agent.principal, number)).entries.some((e) => e.id === entryIds[1]), 'and left the old ticket');
  const audit = await services.db.knex('audit_log').where({ action: 'ticket.entry_move' }).first();
  t.ok(audit, 'recorded in the audit log');
  t.equal((await b.post(`/scp/tickets/${number}/entries/${entryIds[1]}/move`, {})).statusCode, 404, 'an entry no longer on the ticket cannot be moved again');
});

