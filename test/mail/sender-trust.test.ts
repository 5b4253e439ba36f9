import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { entry, lastInbound, nextSeq, openByMail, outboxIdTo, TO } from '../helpers/mail-trust.js';
import { fixture, message, send, startListener } from '../helpers/smtp.js';
import type { Services } from '../../src/services.js';

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
    const n = nextSeq();
    const headers: Record<string, string> = { 'In-Reply-To': `<${answered}>`, References: `<${answered}>` };
    if (c.authResults) headers['Authentication-Results'] = c.authResults;
    const r = await send(port, message({ from: `Alice Agent <${email}>`, subject: `Re: [#${number}]`, body: 'Refund approved, send it.', messageId: `staff-${n}@staff.test`, headers }), { from: email, to: TO });
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
