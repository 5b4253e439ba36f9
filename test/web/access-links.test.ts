import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { startSink } from '../helpers/smtp.js';

// Many argon2 sign-ins and a fresh database per test: more than the default on a loaded machine or MariaDB.
t.setTimeout(600_000);

const LINK = /http:\/\/helpdesk\.test(\/tickets\/\d+\?t=[A-Za-z0-9._-]+)/;

t.test('an agent revokes a ticket’s access links: old links and the sessions they opened stop working, audited', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const support = await ctx.services.departments.ensure('Support');
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web', departmentId: support.id });
  const link = ctx.services.tickets.accessLink(ticket).replace('http://helpdesk.test', '');
  const { ticket: other } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'Other', message: 'M', source: 'web', departmentId: support.id });
  const otherLink = ctx.services.tickets.accessLink(other).replace('http://helpdesk.test', '');

  const client = new Browser(app);
  await client.get(link);
  t.equal((await client.get(`/tickets/${ticket.number}`)).statusCode, 200, 'the link opens the ticket');

  const staff = new Browser(app);
  await staff.staffLogin(agent.username, agent.password);
  const page = await staff.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, /access-links\/revoke/, 'the ticket page offers the action');
  t.equal((await staff.post(`/scp/tickets/${ticket.number}/access-links/revoke`, { _csrf: 'forged' })).statusCode, 403, 'CSRF checked');
  await staff.get(`/scp/tickets/${ticket.number}`);
  const res = await staff.post(`/scp/tickets/${ticket.number}/access-links/revoke`, {});
  t.equal(res.statusCode, 302);

  t.not((await client.get(`/tickets/${ticket.number}`)).statusCode, 200, 'the session the link opened has ended');
  const again = new Browser(app);
  const reused = await again.get(link);
  t.equal(reused.statusCode, 404, 'the old link no longer opens the ticket');
  t.notOk(again.cookies.has('sb_client'));
  t.equal((await new Browser(app).get(otherLink)).statusCode, 302, 'other tickets’ links still work');

  const fresh = ctx.services.tickets.accessLink((await ctx.services.tickets.findByNumber(ticket.number))!).replace('http://helpdesk.test', '');
  t.equal((await new Browser(app).get(fresh)).statusCode, 302, 'a link made after the revocation works');
  const audit = await ctx.services.audit.forObject('ticket', ticket.id);
  t.ok(audit.some((a) => a.action === 'ticket.access_links_revoked' && a.staffId === agent.principal.staffId), 'recorded');
});

t.test('a sent mail’s stored body keeps no usable access link', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const app = await createTestApp(t, ctx);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web' });
  const before = await ctx.services.outbox.forTicket(ticket.id);
  t.match(before.map((r) => r.bodyText).join('\n'), LINK, 'the queued confirmation carries the link');
  await ctx.services.delivery.drain();

  const sent = sink.messages.find((m) => m.envelope.to.includes('r@example.com'))!;
  const mailed = LINK.exec(String(sent.parsed.text))![1]!;
  const rows = await ctx.services.outbox.forTicket(ticket.id);
  t.ok(rows.every((r) => r.status === 'sent'));
  const stored = rows.map((r) => `${r.bodyText}\n${r.bodyHtml ?? ''}`).join('\n');
  t.notMatch(stored, /\?t=/, 'no token in the stored text or HTML');
  t.match(stored, `/tickets/${ticket.number}`, 'the link to the ticket page stays');
  t.equal((await new Browser(app).get(mailed)).statusCode, 302, 'the mailed link itself works');
});
