import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { fixture, message, send, startListener } from '../helpers/smtp.js';
import type { Services } from '../../src/services.js';

const TO = ['support@helpdesk.test'];
let seq = 0;

async function lastInbound(services: Services) {
  return (await services.db.knex('inbound_messages').orderBy('id', 'desc').first('status', 'reason', 'ticket_id', 'entry_id')) as { status: string; reason: string | null; ticket_id: number | null; entry_id: number | null };
}

/** A requester's mail opens a ticket; the desk answers it with a confirmation and alerts the department. */
async function openByMail(services: Services, port: number, requester = 'ann@example.com') {
  seq++;
  const firstId = `first-${seq}@example.com`;
  const sent = await send(port, message({ from: requester, subject: `Refund ${seq}`, body: 'please refund', messageId: firstId }), { from: requester, to: TO });
  if (sent.code !== 250) throw new Error(`the requester's mail was refused: ${sent.response}`);
  const ticketId = (await lastInbound(services)).ticket_id!;
  const number = ((await services.db.knex('tickets').where({ id: ticketId }).first('number')) as { number: string }).number;
  return { ticketId, number, firstId };
}

async function outboxIdTo(services: Services, ticketId: number, kind: RegExp, to: string): Promise<string> {
  const row = (await services.outbox.forTicket(ticketId)).reverse().find((o) => kind.test(o.kind) && o.to.includes(to));
  if (!row?.messageId) throw new Error(`no ${kind} mail to ${to}`);
  return row.messageId;
}

async function entry(services: Services, entryId: number) {
  return (await services.db.knex('thread_entries').where({ id: entryId }).first()) as Record<string, unknown>;
}

t.test('staff authorship needs our mail signed to that agent and, where a trusted server is named, its pass', async (t) => {
  type Case = {
    name: string;
    trusted: string[];
    /** The mail the sender answers: the requester's confirmation, or the agent's own alert. */
    answers: 'confirmation' | 'alert';
    authResults?: string;
    note: boolean;
    verification: string;
  };
  const cases: Case[] = [
    { name: 'forged staff From on a reply to the requester’s confirmation', trusted: [], answers: 'confirmation', note: false, verification: 'suspicious' },
    { name: 'the agent answers a real alert mail signed to them', trusted: [], answers: 'alert', note: true, verification: 'verified' },
    { name: 'alert answer with DKIM pass from the trusted server', trusted: ['mx.helpdesk.test'], answers: 'alert', authResults: 'mx.helpdesk.test; dkim=pass header.d=staff.test header.s=s1; spf=pass smtp.mailfrom=staff.test', note: true, verification: 'verified' },
    { name: 'alert answer whose pass comes from an untrusted copy of the header', trusted: ['mx.helpdesk.test'], answers: 'alert', authResults: 'evil.example; dkim=pass header.d=staff.test; spf=pass smtp.mailfrom=staff.test', note: false, verification: 'suspicious' },
    { name: 'alert answer the trusted server failed', trusted: ['mx.helpdesk.test'], answers: 'alert', authResults: 'mx.helpdesk.test; dkim=fail header.d=staff.test; spf=fail smtp.mailfrom=staff.test', note: false, verification: 'suspicious' },
  ];
  const contexts = new Map<string, { services: Services; port: number; agent: Awaited<ReturnType<typeof createAgent>>; email: string }>();
  for (const c of cases) {
    const key = c.trusted.join(',');
    if (!contexts.has(key)) {
      const { services } = await createTestContext(t, c.trusted.length ? { mail: { trustedAuthServers: c.trusted } } : {});
      const { port } = await startListener(t, services);
      const agent = await createAgent(services, { name: 'Alice Agent' });
      contexts.set(key, { services, port, agent, email: (await services.staff.get(agent.principal.staffId))!.email });
    }
    const { services, port, agent, email } = contexts.get(key)!;
    const { ticketId, number } = await openByMail(services, port);
    const answered = c.answers === 'alert' ? await outboxIdTo(services, ticketId, /^alert/, email) : await outboxIdTo(services, ticketId, /^ticket_created$/, 'ann@example.com');
    await services.tickets.setStatus(agent.principal, number, 'resolved');
    const outboxBefore = (await services.outbox.forTicket(ticketId)).length;
    seq++;
    const headers: Record<string, string> = { 'In-Reply-To': `<${answered}>`, References: `<${answered}>` };
    if (c.authResults) headers['Authentication-Results'] = c.authResults;
    const r = await send(port, message({ from: `Alice Agent <${email}>`, subject: `Re: [#${number}]`, body: 'Refund approved, send it.', messageId: `staff-${seq}@staff.test`, headers }), { from: email, to: TO });
    t.equal(r.code, 250, `${c.name}: 250`);
    const row = await lastInbound(services);
    t.same([row.status, row.ticket_id], ['reply', ticketId], `${c.name}: on its ticket`);
    const e = await entry(services, row.entry_id!);
    t.equal(e.type, c.note ? 'note' : 'message', `${c.name}: ${c.note ? 'an internal note' : 'a message, not a note'}`);
    t.equal(e.staff_id === null ? null : Number(e.staff_id), c.note ? agent.principal.staffId : null, `${c.name}: ${c.note ? '' : 'not '}in the agent’s name`);
    t.equal(e.verification, c.verification, `${c.name}: ${c.verification}`);
    if (!c.note) {
      t.equal((await services.tickets.get(agent.principal, number)).status, 'resolved', `${c.name}: not re-opened`);
      t.equal((await services.outbox.forTicket(ticketId)).length, outboxBefore, `${c.name}: nobody alerted`);
    }
  }
});

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
    seq++;
    const r = await send(port, message({ from: s.from, subject: `Re: [#${number}] Refund`, body: `I am ${s.from}, refund me instead`, messageId: `stranger-${seq}@x.example`, headers: s.headers }), { from: s.from, to: TO });
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
  t.ok((await services.tickets.view(agent.principal, number)).collaborators.some((c) => c.email === 'eve@evil.example'), 'the sender is a collaborator');
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

t.test('a bounce attaches only when it names a Message-ID we signed', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);
  const { ticketId, number, firstId } = await openByMail(services, port);
  const cases: Array<[string, string, number | null]> = [
    ['names only the requester’s stored (unsigned) id', firstId, null],
    ['names our signed confirmation', await outboxIdTo(services, ticketId, /^ticket_created$/, 'ann@example.com'), ticketId],
  ];
  let n = 0;
  for (const [name, original, expected] of cases) {
    t.equal((await send(port, fixture('bounce.eml', { ORIGINAL_MESSAGE_ID: original, NONCE: `trust-${++n}` }), { from: '', to: TO })).code, 250);
    const row = await lastInbound(services);
    t.same([row.status, row.ticket_id], ['bounce', expected], name);
  }
  t.equal((await services.tickets.view(agent.principal, number)).entries.filter((e) => e.type === 'note').length, 1, 'one bounce note');
});
