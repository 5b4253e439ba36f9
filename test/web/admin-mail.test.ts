import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { fixture, message } from '../helpers/smtp.js';
import { OutboxDelivery } from '../../src/mail/outbound/delivery.js';

const PIPE = { mailbox: null, envelopeFrom: null, source: 'pipe' as const, remoteAddress: null };

t.test('mail administration: mailboxes, banned senders, inbound mail and quarantine, outbox retry', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const app = await createTestApp(t, ctx);

  const agent = await createAgent(services);
  const nonAdmin = new Browser(app);
  await nonAdmin.staffLogin(agent.username, agent.password);
  for (const url of ['/scp/admin/mailboxes', '/scp/admin/mailboxes/new', '/scp/admin/quarantine', '/scp/admin/bans']) {
    t.equal((await nonAdmin.get(url)).statusCode, 403, `agent: GET ${url}`);
  }
  await nonAdmin.get('/scp/tickets');
  t.equal((await nonAdmin.post('/scp/admin/bans', { pattern: 'x.example' })).statusCode, 403);

  const admin = await createAgent(services, { admin: true });
  const b = new Browser(app);
  await b.staffLogin(admin.username, admin.password);

  const list = await b.get('/scp/admin/mailboxes');
  t.equal(list.statusCode, 200);
  t.match(list.body, 'support@helpdesk.test', 'the default mailbox exists');
  const dept = (await services.departments.list())[0]!;
  await b.get('/scp/admin/mailboxes/new');
  const bad = await b.post('/scp/admin/mailboxes/new', { localPart: 'bill+ing', departmentId: String(dept.id), topicId: '', defaultPriority: '3', autoResponse: '1' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, /id="e-localPart"/, 'the error is at the field');
  t.match(bad.body, 'value="bill+ing"', 'the value is kept');
  const created = await b.post('/scp/admin/mailboxes/new', { localPart: 'Billing', departmentId: String(dept.id), topicId: '', defaultPriority: '3' });
  t.equal(created.statusCode, 302);
  const billing = (await services.mailboxes.list()).find((m) => m.localPart === 'billing')!;
  t.same([billing.defaultPriority, billing.autoResponse], [3, false]);
  await b.get('/scp/admin/mailboxes/new');
  t.equal((await b.post('/scp/admin/mailboxes/new', { localPart: 'billing', departmentId: String(dept.id), defaultPriority: '2' })).statusCode, 400, 'no duplicate');

  await b.get('/scp/admin/bans');
  t.equal((await b.post('/scp/admin/bans', { pattern: 'not a pattern!', note: '' })).statusCode, 400);
  t.equal((await b.post('/scp/admin/bans', { pattern: '@Spam.example', note: 'spam' })).statusCode, 302);
  t.match((await b.get('/scp/admin/bans')).body, 'spam.example');
  await t.rejects(services.intake.deliver(message({ from: 'x@spam.example', subject: 's', body: 'b' }), PIPE), { code: 'SENDER_BANNED' });
  const ban = (await services.bans.list())[0]!;
  t.equal((await b.post(`/scp/admin/bans/${ban.id}/delete`, {})).statusCode, 302);
  t.equal((await services.bans.list()).length, 0);

  const q = await services.intake.deliver(fixture('unparsable.eml'), PIPE);
  t.equal(q.status, 'quarantined');
  const id = (q as { inboundId: number }).inboundId;
  const qlist = await b.get('/scp/admin/quarantine');
  t.match(qlist.body, `/scp/admin/quarantine/${id}`);
  t.match(qlist.body, /no valid From address/);
  const detail = await b.get(`/scp/admin/quarantine/${id}`);
  t.match(detail.body, /Subject: Who am I/, 'raw headers shown');
  t.equal((await b.post(`/scp/admin/quarantine/${id}/retry`, {})).statusCode, 302);
  await b.get(`/scp/admin/quarantine/${id}`);
  t.equal((await b.post(`/scp/admin/quarantine/${id}/delete`, {})).statusCode, 302);
  t.equal((await services.quarantine.get(admin.principal, id)).status, 'quarantined', 'not deleted without confirmation');
  await b.get(`/scp/admin/quarantine/${id}`);
  t.equal((await b.post(`/scp/admin/quarantine/${id}/delete`, { confirm: '1' })).statusCode, 302);
  await t.rejects(services.quarantine.get(admin.principal, id), { code: 'MESSAGE_NOT_FOUND' });

  const ok = await services.intake.deliver(message({ from: 'fine@example.com', subject: 'Fine', body: 'b', messageId: 'fine@example.com' }), PIPE);
  const tickets = await b.get('/scp/admin/quarantine?status=ticket');
  t.match(tickets.body, `/scp/tickets/${(ok as { ticketNumber: string }).ticketNumber}`, 'inbound mail listed by outcome, linked to its ticket');

  const outbox = await b.get('/scp/admin/outbox');
  t.match(outbox.body, /No outbound relay is configured/);
  const row = (await services.outbox.list({ status: 'pending', limit: 1 }))[0]!;
  // The relay refuses it for good.
  const refusing = new OutboxDelivery(services.outbox, ctx.clock, services.log, { ...services.config.outbox, outboundSmtpUrl: 'smtp://relay.invalid', helpdeskName: 'H', mailDomain: 'helpdesk.test' }, () => ({
    sendMail: async () => Promise.reject(Object.assign(new Error('550 5.1.1 no such user'), { responseCode: 550 })),
    close: () => undefined,
  }));
  t.ok((await refusing.drain()).failed >= 1);
  const failed = await b.get('/scp/admin/outbox?status=failed');
  t.match(failed.body, `/scp/admin/outbox/${row.id}/retry`);
  t.equal((await b.post(`/scp/admin/outbox/${row.id}/retry`, {})).statusCode, 302);
  t.equal((await services.outbox.get(row.id))!.status, 'pending');
});
