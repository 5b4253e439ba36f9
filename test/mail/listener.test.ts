import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { fixture, message, rawSession, send, startListener } from '../helpers/smtp.js';
import type { Services } from '../../src/services.js';
import { InboundRepository } from '../../src/mail/inbound/inbound-repository.js';
import { messageIdHash } from '../../src/mail/message-id.js';

const TO = ['support@helpdesk.test'];

async function inbound(services: Services) {
  return (await services.db.knex('inbound_messages').orderBy('id').select('id', 'status', 'reason', 'ticket_id', 'entry_id', 'mailbox_id', 'error'));
}

async function ticketCount(services: Services): Promise<number> {
  return Number((await services.db.knex('tickets').count({ n: '*' }).first())!.n);
}

t.test('a new mail opens a ticket, answered with a threaded auto-response', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const raw = message({ from: 'Ann Example <Ann@Example.com>', subject: 'Printer on fire', body: 'It is smoking 🔥', messageId: 'first-1@example.com' });
  const r = await send(port, raw, { from: 'ann@example.com', to: TO });
  t.same([r.ok, r.code], [true, 250]);
  const [row] = await inbound(services);
  t.equal(row.status, 'ticket');
  const ticket = (await services.tickets.findByNumber((await services.db.knex('tickets').where({ id: row.ticket_id }).first()).number))!;
  t.equal(ticket.subject, 'Printer on fire');
  t.equal(ticket.requesterEmail, 'ann@example.com');
  t.equal(ticket.requesterName, 'Ann Example');
  t.equal(ticket.source, 'email');
  const agent = await createAgent(services);
  const view = await services.tickets.view(agent.principal, ticket.number);
  t.equal(view.entries[0]!.bodyText, 'It is smoking 🔥');

  const [notice] = await services.outbox.forTicket(ticket.id);
  t.equal(notice!.kind, 'ticket_created');
  t.same(notice!.to, ['ann@example.com']);
  t.match(notice!.subject, `[#${ticket.number}]`);
  t.equal(notice!.headers['Auto-Submitted'], 'auto-replied');
  t.equal(notice!.headers['In-Reply-To'], '<first-1@example.com>', 'answers the requester’s message');
  t.match(services.signer.verify(notice!.messageId!), { ticketId: ticket.id, entryId: row.entry_id }, 'signed Message-ID names ticket and entry');
  t.ok(services.signer.isSignedTo(services.signer.verify(notice!.messageId!)!, 'ann@example.com'), 'and its recipient');
  t.equal(notice!.fromAddress, 'support@helpdesk.test');
  t.ok(notice!.bodyHtml, 'an HTML part next to the text');
});

t.test('replies thread by In-Reply-To, References and a participant’s subject tag; strangers and forgeries do not', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  await send(port, message({ from: 'bob@example.com', subject: 'VPN down', body: 'help', messageId: 'vpn-1@example.com' }), { from: 'bob@example.com', to: TO });
  const ticketId = (await inbound(services))[0]!.ticket_id as number;
  const ticket = (await services.db.knex('tickets').where({ id: ticketId }).first()) as { number: string };
  const ours = (await services.outbox.forTicket(ticketId))[0]!.messageId!;

  const cases: Array<{ name: string; headers: Record<string, string>; subject: string; from?: string; threads: boolean; via?: string }> = [
    { name: 'In-Reply-To with our signed id', headers: { 'In-Reply-To': `<${ours}>` }, subject: 'Re: VPN down', threads: true, via: 'signed_id' },
    { name: 'References with our id among foreign ones', headers: { References: `<x1@elsewhere.example> <${ours}> <x2@elsewhere.example>` }, subject: 'anything', threads: true, via: 'signed_id' },
    { name: 'In-Reply-To a stored inbound Message-ID', headers: { 'In-Reply-To': '<vpn-1@example.com>' }, subject: 'follow-up', threads: true, via: 'stored_id' },
    { name: 'subject tag from the requester', headers: {}, subject: `Re: [#${ticket.number}] VPN down`, threads: true, via: 'subject_tag' },
    { name: 'subject tag from a stranger', headers: {}, subject: `[#${ticket.number}] let me in`, from: 'eve@evil.example', threads: false },
    { name: 'forged signature', headers: { 'In-Reply-To': `<${ours.replace(/\.([0-9a-f]{32})@/, (_m, mac: string) => `.${mac.startsWith('0') ? '1' : '0'}${mac.slice(1)}@`)}>` }, subject: 'Re: VPN', from: 'eve@evil.example', threads: false },
    { name: 'forged ticket id with a valid-looking mac', headers: { 'In-Reply-To': `<${ours.replace(/^sb2\.\d+\./, `sb2.${ticketId + 1}.`)}>` }, subject: 'Re: VPN', from: 'eve@evil.example', threads: false },
  ];
  let n = 0;
  for (const c of cases) {
    n++;
    const before = await ticketCount(services);
    const r = await send(port, message({ from: c.from ?? 'bob@example.com', subject: c.subject, body: `reply ${n}`, messageId: `case-${n}@example.com`, headers: c.headers }), { from: c.from ?? 'bob@example.com', to: TO });
    t.equal(r.code, 250, `${c.name}: 250`);
    const row = (await inbound(services)).pop()!;
    if (c.threads) {
      t.same([row.status, row.ticket_id, row.reason], ['reply', ticketId, c.via], `${c.name}: threads`);
      t.equal(await ticketCount(services), before, `${c.name}: no new ticket`);
    } else {
      t.equal(row.status, 'ticket', `${c.name}: new ticket`);
      t.not(row.ticket_id, ticketId);
    }
  }
});

t.test('a reply re-opens a resolved ticket; Cc becomes collaborators who get responses', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);
  const raw = message({ from: 'Carl <carl@example.com>', subject: 'Team access', body: 'for all of us', messageId: 'cc-1@example.com', headers: { Cc: 'Dora <dora@example.com>, support@helpdesk.test' } });
  t.equal((await send(port, raw, { from: 'carl@example.com', to: TO })).code, 250);
  const row = (await inbound(services))[0]!;
  const number = ((await services.db.knex('tickets').where({ id: row.ticket_id }).first()) as { number: string }).number;
  t.same((await services.tickets.collaborators(agent.principal, number)).map((c) => c.email), ['dora@example.com'], 'our own address is not a collaborator');

  await services.tickets.respond(agent.principal, number, 'Done.');
  const response = (await services.outbox.forTicket(row.ticket_id)).find((o) => o.kind === 'response')!;
  t.same(response.to, ['carl@example.com']);
  t.same(response.cc, ['dora@example.com']);

  await services.tickets.setStatus(agent.principal, number, 'resolved');
  // A collaborator is a participant: the subject tag is trusted from them.
  t.equal((await send(port, message({ from: 'dora@example.com', subject: `Re: [#${number}] Team access`, body: 'not for me', messageId: 'cc-2@example.com' }), { from: 'dora@example.com', to: TO })).code, 250);
  t.equal((await inbound(services)).pop()!.status, 'reply');
  t.equal((await services.tickets.get(agent.principal, number)).status, 'open', 're-opened');
});

t.test('duplicate delivery answers 250 and adds nothing', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const raw = message({ from: 'dup@example.com', subject: 'Twice', body: 'same', messageId: 'dup-1@example.com' });
  const first = await send(port, raw, { from: 'dup@example.com', to: TO });
  const second = await send(port, raw, { from: 'dup@example.com', to: TO });
  t.same([first.code, second.code], [250, 250]);
  t.equal((await inbound(services)).length, 1);
  t.equal(await ticketCount(services), 1);
  // The same message also addressed to a second mailbox makes no second entry.
  const admin = await createAgent(services, { admin: true });
  const dept = (await services.departments.list())[0]!;
  await services.mailboxes.create(admin.principal, { localPart: 'billing', departmentId: dept.id, topicId: null, defaultPriority: 2, autoResponse: true });
  t.equal((await send(port, raw, { from: 'dup@example.com', to: ['billing@helpdesk.test'] })).code, 250);
  t.equal(await ticketCount(services), 1);
  t.equal(Number((await services.db.knex('thread_entries').count({ n: '*' }).first())!.n), 1);
  // Without a Message-ID, the content identifies the message.
  const noId = message({ from: 'dup@example.com', subject: 'No id', body: 'x' });
  await send(port, noId, { from: 'dup@example.com', to: TO });
  await send(port, noId, { from: 'dup@example.com', to: TO });
  t.equal(await ticketCount(services), 2);
});

t.test('robots, loops and bounces make no ticket and get no answer', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const cases: Array<[string, Buffer, string]> = [
    ['Auto-Submitted', fixture('auto-reply.eml'), 'auto_submitted'],
    ['Precedence: bulk', fixture('bulk.eml'), 'precedence'],
    ['X-Auto-Response-Suppress', fixture('exchange-oof.eml'), 'auto_response_suppress'],
    ['mailer-daemon', message({ from: 'MAILER-DAEMON@mx.example.org', subject: 'hello', body: 'x', messageId: 'md@x' }), 'mailer_daemon'],
    ['our own address', message({ from: 'support@helpdesk.test', subject: 'loop', body: 'x', messageId: 'own@x' }), 'own_address'],
  ];
  for (const [name, raw, reason] of cases) {
    t.equal((await send(port, raw, { from: 'robot@example.com', to: TO })).code, 250, `${name}: 250`);
    const row = (await inbound(services)).pop()!;
    t.same([row.status, row.reason], ['dropped', reason], `${name}: dropped`);
  }
  t.equal(await ticketCount(services), 0);
  t.equal((await services.outbox.counts()).pending, 0, 'nothing answered');

  // A bounce of one of our mails attaches to its ticket, as a note the requester never sees.
  const { ticket } = await services.tickets.create(null, { name: 'Gone', email: 'gone@example.org', subject: 'Hi', message: 'x', source: 'web' });
  const ours = (await services.outbox.forTicket(ticket.id))[0]!.messageId!;
  t.equal((await send(port, fixture('bounce.eml', { ORIGINAL_MESSAGE_ID: ours, NONCE: '1' }), { from: '', to: TO })).code, 250);
  const bounce = (await inbound(services)).pop()!;
  t.same([bounce.status, bounce.ticket_id], ['bounce', ticket.id]);
  const agent = await createAgent(services);
  const entries = (await services.tickets.view(agent.principal, ticket.number)).entries;
  t.same(entries.map((e) => e.type), ['message', 'note']);
  t.match(entries[1]!.bodyText, /550 5\.1\.1 User unknown/);
  const client = await services.tickets.view({ kind: 'client', userId: ticket.userId, ticketId: ticket.id }, ticket.number);
  t.equal(client.entries.length, 1, 'the requester does not see the bounce');
  // A bounce we cannot place is recorded, and still makes no ticket.
  await send(port, fixture('bounce.eml', { ORIGINAL_MESSAGE_ID: 'unknown@elsewhere.example', NONCE: '2' }), { from: '', to: TO });
  t.same(((await inbound(services)).pop()!).status, 'bounce');
  t.equal(await ticketCount(services), 1);
});

t.test('recipients: only our mailboxes, plus-addressing, never a relay', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const raw = message({ from: 'x@example.com', subject: 's', body: 'b', messageId: 'rcpt-1@example.com' });
  const unknown = await send(port, raw, { from: 'x@example.com', to: ['nobody@helpdesk.test'] });
  t.same([unknown.ok, unknown.code], [false, 550]);
  t.match(unknown.response, /5\.1\.1/);
  t.equal((await send(port, raw, { from: 'x@example.com', to: ['someone@gmail.example'] })).code, 550, 'no relaying');
  t.equal((await send(port, raw, { from: 'x@example.com', to: ['Support+urgent@HELPDESK.test'] })).code, 250, 'plus-addressed, any case');
  t.equal(await ticketCount(services), 1);
});

t.test('limits: size (552 with the cap), recipients, connections per client', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services, { maxMessageBytes: 2048, maxRecipients: 2, maxConnectionsPerClient: 2 });

  const big = message({ from: 'big@example.com', subject: 'big', body: 'x'.repeat(4000), messageId: 'big-1@example.com' });
  const viaClient = await send(port, big, { from: 'big@example.com', to: TO });
  t.equal(viaClient.code, 552, 'a client that declares SIZE is refused at once');

  // A client that does not declare the size is refused after DATA, with the cap in the reply.
  const s = await rawSession(port);
  await s.say('EHLO client.example');
  await s.say('MAIL FROM:<big@example.com>');
  await s.say('RCPT TO:<support@helpdesk.test>');
  t.match(await s.say('DATA'), /^354/);
  const reply = await s.say(`${big.toString('latin1').replace(/\r\n\./g, '\r\n..')}\r\n.`);
  t.match(reply, /^552 5\.3\.4 .*2048/);
  t.match(await s.say('QUIT'), /^221/);
  s.close();
  t.equal((await inbound(services)).length, 0, 'nothing stored');

  const r = await rawSession(port);
  await r.say('EHLO client.example');
  await r.say('MAIL FROM:<m@example.com>');
  t.match(await r.say('RCPT TO:<support@helpdesk.test>'), /^250/);
  t.match(await r.say('RCPT TO:<support+a@helpdesk.test>'), /^250/);
  t.match(await r.say('RCPT TO:<support+b@helpdesk.test>'), /^452 /, 'too many recipients');
  r.close();

  const a = await rawSession(port);
  const b = await rawSession(port);
  const c = await rawSession(port);
  t.match(a.greeting, /^220/);
  t.match(b.greeting, /^220/);
  t.match(c.greeting, /^421 /, 'third connection from one address refused');
  a.close();
  b.close();
  c.close();
});

t.test('banned senders are refused with 550 and counted', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const admin = await createAgent(services, { admin: true });
  await services.bans.add(admin.principal, { pattern: 'spam.example', note: 'spam' });
  await services.bans.add(admin.principal, { pattern: 'troll@example.com', note: '' });
  const envelopeBan = await send(port, message({ from: 'x@sub.spam.example', subject: 's', body: 'b' }), { from: 'x@sub.spam.example', to: TO });
  t.same([envelopeBan.code], [550]);
  // Banned in the From header, with an innocent envelope sender.
  const headerBan = await send(port, message({ from: 'Troll <troll@example.com>', subject: 's', body: 'b' }), { from: 'bounces@list.example', to: TO });
  t.same([headerBan.code], [550]);
  t.equal(await ticketCount(services), 0);
  t.same((await services.bans.list()).map((b) => [b.pattern, b.hits]), [['spam.example', 1], ['troll@example.com', 1]]);
  // The intake checks From and the envelope sender together, for callers that had no MAIL FROM of their own.
  const mailbox = await services.mailboxes.resolveRecipient(TO[0]!);
  const env = (envelopeFrom: string) => ({ mailbox, envelopeFrom, source: 'api' as const, remoteAddress: null });
  await t.rejects(services.intake.deliver(message({ from: 'fine@example.com', subject: 's', body: 'b' }), env('x@spam.example')), { code: 'SENDER_BANNED' });
  await t.rejects(services.intake.deliver(message({ from: 'troll@example.com', subject: 's', body: 'b' }), env('fine@example.com')), { code: 'SENDER_BANNED' });
  t.equal((await services.intake.deliver(message({ from: 'fine@example.com', subject: 's', body: 'b' }), env('fine@example.com'))).status, 'ticket');
});

t.test('auto-responses to one sender are rate-limited', async (t) => {
  const { services } = await createTestContext(t, { mail: { autoRepliesPerHour: 3 } });
  const { port } = await startListener(t, services);
  for (let i = 0; i < 5; i++) {
    await send(port, message({ from: 'chatty@example.com', subject: `Q${i}`, body: 'b', messageId: `chatty-${i}@example.com` }), { from: 'chatty@example.com', to: TO });
  }
  t.equal(await ticketCount(services), 5);
  const notices = await services.db.knex('outbox').where({ kind: 'ticket_created' }).count({ n: '*' }).first();
  t.equal(Number(notices!.n), 3);
});

t.test('database down: 451, then the retry succeeds', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const raw = message({ from: 'retry@example.com', subject: 'Are you there', body: 'hello', messageId: 'retry-1@example.com' });

  // The database goes away between RCPT and the end of DATA.
  const s = await rawSession(port);
  await s.say('EHLO client.example');
  await s.say('MAIL FROM:<retry@example.com>');
  t.match(await s.say('RCPT TO:<support@helpdesk.test>'), /^250/);
  await services.db.knex.destroy();
  t.match(await s.say('DATA'), /^354/);
  const reply = await s.say(`${raw.toString('latin1')}\r\n.`);
  t.match(reply, /^451 4\.3\.0 /);
  t.notMatch(reply, /acquire|knex|sql/i, 'no internal detail in the reply');
  s.close();
  const down = await send(port, raw, { from: 'retry@example.com', to: TO });
  t.same([down.ok, down.code], [false, 451], 'a whole delivery while down: 451');

  services.db.knex.initialize();
  const up = await send(port, raw, { from: 'retry@example.com', to: TO });
  t.same([up.ok, up.code], [true, 250]);
  t.equal(await ticketCount(services), 1);
  t.equal((await inbound(services)).length, 1);
});

t.test('an unparsable message is quarantined, answered 250, and can be retried or deleted', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const admin = await createAgent(services, { admin: true });
  const r = await send(port, fixture('unparsable.eml'), { from: 'who@example.com', to: TO });
  t.equal(r.code, 250);
  const [row] = await inbound(services);
  t.equal(row.status, 'quarantined');
  t.match(row.error, /From/);
  t.equal(await ticketCount(services), 0);
  t.equal((await send(port, fixture('unparsable.eml'), { from: 'who@example.com', to: TO })).code, 250, 'a retrying sender');
  t.equal((await inbound(services)).length, 1, 'is deduplicated in quarantine too');

  const listed = await services.quarantine.list(admin.principal);
  t.same(listed.rows.map((m) => m.id), [row.id]);
  const detail = await services.quarantine.get(admin.principal, row.id);
  t.match(detail.rawHeaders, /^From: .*not an address/m);
  t.same((await services.quarantine.retry(admin.principal, row.id)).status, 'quarantined', 'still unparsable');

  // A message an earlier failure left in quarantine: a retry processes it like a new arrival.
  const mailbox = (await services.mailboxes.defaultMailbox())!;
  const stuckId = await new InboundRepository(services.db).insert({
    mailboxId: mailbox.id, messageIdHash: messageIdHash('stuck@example.com'), messageId: 'stuck@example.com', sender: 'ok@example.com', subject: 'was stuck',
    raw: message({ from: 'ok@example.com', subject: 'was stuck', body: 'b', messageId: 'stuck@example.com' }), status: 'quarantined', error: 'earlier failure',
    source: 'smtp', remoteAddress: null, receivedAt: new Date(),
  });
  const retried = await services.quarantine.retry(admin.principal, stuckId);
  t.equal(retried.status, 'ticket');
  t.equal(await ticketCount(services), 1);
  await t.rejects(services.quarantine.retry(admin.principal, stuckId), { code: 'NOT_QUARANTINED' }, 'only once');
  await services.quarantine.delete(admin.principal, row.id);
  t.equal((await inbound(services)).some((m) => m.id === row.id), false, 'deleted');
  await t.rejects(services.quarantine.delete(admin.principal, row.id), { code: 'MESSAGE_NOT_FOUND' });
  const agent = await createAgent(services);
  await t.rejects(services.quarantine.list(agent.principal), { code: 'ADMIN_REQUIRED' });
});
