import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { OutboxDelivery } from '../../src/mail/outbound/delivery.js';
import { OutboxRepository } from '../../src/mail/outbound/outbox-repository.js';
import { createLogger } from '../../src/logger.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { message, send, startListener, startSink } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];

t.test('an agent response leaves with headers that thread the requester’s answer back to the ticket', async (t) => {
  const sink = await startSink(t);
  const { services } = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const { port } = await startListener(t, services);
  const agent = await createAgent(services, { name: 'Agent Smith' });

  t.equal((await send(port, message({ from: 'Rita <rita@example.com>', subject: 'Refund', body: 'Please refund', messageId: 'rita-1@example.com' }), { from: 'rita@example.com', to: TO })).code, 250);
  const { number, id: ticketId } = await services.db.knex('tickets').first('number', 'id');
  await services.tickets.respond(agent.principal, number, 'Refund issued.\n\nAnything else?');
  const report = await services.delivery.drain();
  t.same(report, { sent: 3, retried: 0, failed: 0 }, 'auto-response, alert to the agent, response');

  const auto = sink.messages.find((m) => m.parsed.headers.get('auto-submitted') === 'auto-replied')!;
  t.ok(auto, 'the auto-response is marked Auto-Submitted: auto-replied');
  t.equal(auto.parsed.inReplyTo, '<rita-1@example.com>');
  const alert = sink.messages.find((m) => m.parsed.headers.get('auto-submitted') === 'auto-generated')!;
  t.same(alert.envelope.to, [`${agent.username}@staff.test`], 'the department’s agent is alerted');

  const response = sink.messages.find((m) => m.envelope.to.includes('rita@example.com') && !m.parsed.headers.get('auto-submitted'))!;
  t.ok(response, 'the response reached the relay');
  t.equal(response.envelope.from, 'support@helpdesk.test', 'bounces come back to our mailbox');
  t.equal(response.parsed.subject, `Re: [#${number}] Refund`);
  t.equal(response.parsed.from!.value[0]!.address, 'support@helpdesk.test');
  t.match(response.parsed.text!, /Refund issued\.\n\nAnything else\?/);
  t.match(response.parsed.text!, /Please type your reply above this line/);
  t.match(String(response.parsed.html), /<p>Refund issued\.<\/p>/, 'an HTML part too');
  t.ok(services.signer.verify(response.parsed.messageId!), 'our signed Message-ID');
  t.equal(response.parsed.inReplyTo, '<rita-1@example.com>');
  const refs = ([] as string[]).concat(response.parsed.references ?? []);
  t.ok(refs.includes('<rita-1@example.com>') && refs.includes(`<${services.signer.root(ticketId)}>`), 'References: the first message and the ticket root');

  // Rita's mail client answers with its usual headers; the subject has lost its tag.
  const reply = message({
    from: 'rita@example.com', subject: 'Re: Refund', body: 'Thanks!\n\nOn Mon, Agent wrote:\n> Refund issued.', messageId: 'rita-2@example.com',
    headers: { 'In-Reply-To': response.parsed.messageId!, References: `${refs.join(' ')} ${response.parsed.messageId!}` },
  });
  t.equal((await send(port, reply, { from: 'rita@example.com', to: TO })).code, 250);
  const view = await services.tickets.view(agent.principal, number);
  t.same(view.entries.map((e) => e.type), ['message', 'response', 'message'], 'the answer is on the same ticket');
  t.equal(view.entries[2]!.display.textVisible, 'Thanks!', 'quoted history folded for display');
  t.match(view.entries[2]!.display.textQuoted, /Refund issued/);
  t.equal(view.entries[2]!.bodyText, 'Thanks!\n\nOn Mon, Agent wrote:\n> Refund issued.', 'and kept in full');
});

t.test('temporary failures back off exponentially; permanent ones and the last attempt fail; admins retry', async (t) => {
  const sink = await startSink(t);
  const { services, clock } = await createTestContext(t, { outboundSmtpUrl: sink.url, outbox: { maxAttempts: 3, retryBaseSeconds: 60, batchSize: 20 } });
  const { ticket } = await services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'm', source: 'web' });
  const [row] = await services.outbox.forTicket(ticket.id);

  sink.rejectWith = { code: 451, text: '4.3.0 try later' };
  t.same(await services.delivery.runOnce(), { sent: 0, retried: 1, failed: 0 });
  let now = await services.outbox.get(row!.id);
  t.equal(now!.status, 'pending');
  t.equal(now!.attempts, 1);
  t.match(now!.lastError, /try later/);
  t.equal(Math.round((now!.nextAttemptAt.getTime() - clock.now().getTime()) / 1000), 60, 'first retry after the base delay');
  t.same(await services.delivery.runOnce(), { sent: 0, retried: 0, failed: 0 }, 'not due yet');

  clock.advance(61_000);
  await services.delivery.runOnce();
  now = await services.outbox.get(row!.id);
  t.equal(Math.round((now!.nextAttemptAt.getTime() - clock.now().getTime()) / 1000), 120, 'then twice as long');
  clock.advance(121_000);
  t.same(await services.delivery.runOnce(), { sent: 0, retried: 0, failed: 1 }, 'the last attempt fails for good');
  t.equal((await services.outbox.get(row!.id))!.status, 'failed');

  t.ok(await services.outbox.retry(row!.id, clock.now()), 'an admin retry');
  sink.rejectWith = null;
  t.same(await services.delivery.runOnce(), { sent: 1, retried: 0, failed: 0 });
  t.equal((await services.outbox.get(row!.id))!.status, 'sent');

  const { ticket: t2 } = await services.tickets.create(null, { name: 'P', email: 'p@example.com', subject: 'S', message: 'm', source: 'web' });
  sink.rejectWith = { code: 550, text: '5.1.1 no such user' };
  t.same(await services.delivery.runOnce(), { sent: 0, retried: 0, failed: 1 }, 'a permanent refusal fails at once');
  t.match((await services.outbox.forTicket(t2.id))[0]!.lastError, /no such user/);
});

t.test('without a relay, mail waits', async (t) => {
  const { services } = await createTestContext(t, { outboundSmtpUrl: '' });
  await services.tickets.create(null, { name: 'W', email: 'w@example.com', subject: 'S', message: 'm', source: 'web' });
  t.notOk(services.delivery.configured);
  t.same(await services.delivery.drain(), { sent: 0, retried: 0, failed: 0 });
  t.equal((await services.outbox.counts()).pending, 1);
});

t.test('two nodes delivering the same outbox send every row exactly once', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url, outbox: { maxAttempts: 3, retryBaseSeconds: 60, batchSize: 5 } });
  const { services } = ctx;
  for (let i = 0; i < 30; i++) await services.tickets.create(null, { name: 'N', email: `n${i}@example.com`, subject: `S${i}`, message: 'm', source: 'web' });
  const otherDb = createDatabase(ctx.dbUrl);
  t.teardown(() => otherDb.close());
  const config = { outboundSmtpUrl: sink.url, helpdeskName: 'H', mailDomain: 'helpdesk.test', maxAttempts: 3, retryBaseSeconds: 60, batchSize: 5, claimTimeoutSeconds: 30 };
  const nodeB = new OutboxDelivery(new OutboxRepository(otherDb, ctx.clock), ctx.clock, services.log, config);
  t.teardown(() => nodeB.close());
  const [a, b] = await Promise.all([services.delivery.drain(), nodeB.drain()]);
  t.equal(a.sent + b.sent, 30, 'all sent');
  t.equal(sink.messages.length, 30, 'each once');
  t.equal(new Set(sink.messages.map((m) => m.parsed.messageId)).size, 30);
  t.equal((await services.outbox.counts()).sent, 30);
});

t.test('a dead node’s claim is taken over one claim timeout after its last heartbeat, not before', async (t) => {
  const sink = await startSink(t);
  const { services, clock } = await createTestContext(t, { outboundSmtpUrl: sink.url, outbox: { maxAttempts: 3, retryBaseSeconds: 60, batchSize: 20, claimTimeoutSeconds: 30 } });
  await services.tickets.create(null, { name: 'D', email: 'd@example.com', subject: 'S', message: 'm', source: 'web' });
  // A node claims the row and dies before sending.
  const claimed = await services.outbox.claim({ token: 'dead-node', now: clock.now(), staleBefore: new Date(0), limit: 20 });
  t.equal(claimed.length, 1);
  clock.advance(20_000);
  await services.outbox.touchClaims('dead-node', clock.now());
  clock.advance(20_000);
  t.same(await services.delivery.drain(), { sent: 0, retried: 0, failed: 0 }, 'a claim touched 20 s ago is alive');
  clock.advance(11_000);
  t.same(await services.delivery.drain(), { sent: 1, retried: 0, failed: 0 }, 'a claim silent for over 30 s is taken over');
  t.equal(sink.messages.length, 1);
});

t.test('a batch stops sending once its signal aborts and hands the rest back', async (t) => {
  const ctx = await createTestContext(t, { outboundSmtpUrl: 'smtp://127.0.0.1:1', outbox: { maxAttempts: 3, retryBaseSeconds: 60, batchSize: 20, claimTimeoutSeconds: 30 } });
  const { services, clock } = ctx;
  for (let i = 0; i < 5; i++) await services.tickets.create(null, { name: 'N', email: `n${i}@example.com`, subject: `S${i}`, message: 'm', source: 'web' });
  const lease = new AbortController();
  const sent: unknown[] = [];
  const transport = { sendMail: async (m: unknown) => { sent.push(m); lease.abort(); }, close: () => undefined };
  const delivery = new OutboxDelivery(services.outbox, clock, services.log, { ...services.config.outbox, outboundSmtpUrl: 'smtp://relay', helpdeskName: 'H', mailDomain: 'helpdesk.test' }, () => transport);
  t.same(await delivery.drain(lease.signal), { sent: 1, retried: 0, failed: 0 }, 'the mail in progress completes, no other starts');
  t.same(await services.outbox.counts(), { pending: 4, sending: 0, sent: 1, failed: 0, cancelled: 0 }, 'the rest is due again at once');
});

t.test('a sender whose heartbeat cannot reach the database stops before its claim could look abandoned', async (t) => {
  const ctx = await createTestContext(t, { outbox: { maxAttempts: 3, retryBaseSeconds: 60, batchSize: 20, claimTimeoutSeconds: 2 } });
  const { services, clock } = ctx;
  for (let i = 0; i < 10; i++) await services.tickets.create(null, { name: 'N', email: `h${i}@example.com`, subject: `S${i}`, message: 'm', source: 'web' });
  const outbox = Object.create(services.outbox) as OutboxRepository;
  outbox.touchClaims = async () => {
    throw new Error('database unreachable');
  };
  const transport = { sendMail: () => new Promise((r) => setTimeout(r, 300)), close: () => undefined };
  const delivery = new OutboxDelivery(outbox, clock, createLogger('silent'), { ...services.config.outbox, outboundSmtpUrl: 'smtp://relay', helpdeskName: 'H', mailDomain: 'helpdesk.test' }, () => transport);
  const r = await delivery.runOnce();
  t.ok(r.sent > 0 && r.sent < 10, `stopped after ${r.sent} of 10`);
  t.equal((await services.outbox.counts()).pending, 10 - r.sent, 'the rest handed back');
});
