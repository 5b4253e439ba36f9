import { createHmac } from 'node:crypto';
import t from 'tap';
import { authenticateSender, verdictFor } from '../../src/mail/inbound/authenticate.js';
import { classify } from '../../src/mail/inbound/classify.js';
import type { ParsedMessage } from '../../src/mail/inbound/parse.js';
import { REPLY_MARKER, splitHtml, trimText } from '../../src/content/reply-trim.js';
import { findThread, type ThreadingLookups } from '../../src/mail/inbound/threading.js';
import { MessageIdSigner, messageIdHash, normaliseMessageId, splitMessageIds } from '../../src/mail/message-id.js';

const signer = new MessageIdSigner(Buffer.alloc(32, 7), 'helpdesk.test');

t.test('signed Message-IDs', async (t) => {
  const id = signer.sign(42, 7, 'Ann@Example.com');
  t.match(id, /^sb2\.42\.7\.[0-9a-f]{16}\.[0-9a-f]{16}\.[0-9a-f]{32}@helpdesk\.test$/);
  t.notMatch(id, /ann|example/i, 'the recipient is named by a keyed hash, not in clear');
  const ref = signer.verify(`<${id}>`)!;
  t.match(ref, { ticketId: 42, entryId: 7 });
  t.ok(signer.isSignedTo(ref, 'ann@example.com'), 'names its recipient, whatever the case');
  t.notOk(signer.isSignedTo(ref, 'eve@example.com'), 'and nobody else');
  t.match(signer.verify(id.replace('@helpdesk.test', '@rewritten.example')), { ticketId: 42, entryId: 7 }, 'the domain is not part of the proof');
  t.same(signer.verify(signer.root(42)), { ticketId: 42, entryId: 0, recipient: null }, 'the root id names nobody');
  // A version-1 id, as mails sent before recipients were signed carry: still threads, proves no recipient.
  const key = Buffer.alloc(32, 7);
  const v1payload = 'sb1.42.7.0123456789abcdef';
  const v1 = `${v1payload}.${createHmac('sha256', key).update(`message-id:${v1payload}`).digest('hex').slice(0, 32)}@helpdesk.test`;
  t.same(signer.verify(v1), { ticketId: 42, entryId: 7, recipient: null }, 'version-1 ids still verify for threading');
  t.notOk(signer.isSignedTo(signer.verify(v1)!, 'ann@example.com'), 'but prove no recipient');
  const cases = [
    id.replace('sb2.42.', 'sb2.43.'),
    id.replace('.7.', '.8.'),
    id.replace(/^(sb2\.42\.7\.)([0-9a-f])/, (_m, p: string, c: string) => `${p}${c === 'f' ? 'e' : 'f'}`),
    id.replace(/\.([0-9a-f])([0-9a-f]{31})@/, (_m, a: string, rest: string) => `.${a === 'f' ? 'e' : 'f'}${rest}@`),
    id.replace('sb2.', 'sb1.'),
    v1.replace('sb1.', 'sb2.'),
    new MessageIdSigner(Buffer.alloc(32, 8), 'helpdesk.test').sign(42, 7, 'ann@example.com'),
    'CAF=random@mail.gmail.com',
    '',
  ];
  for (const c of cases) t.equal(signer.verify(c), null, `rejects ${c || '(empty)'}`);
  t.same(splitMessageIds('<a@x> <b@y>\r\n <c@z>'), ['a@x', 'b@y', 'c@z']);
  t.equal(normaliseMessageId(' <a@x> '), 'a@x');
  t.equal(normaliseMessageId('<a b@x>'), null);
});

t.test('threading order: signed ids, stored ids, then a participant’s subject tag', async (t) => {
  const stored = new Map([[messageIdHash('stored@mail.example'), 20]]);
  const lookups: ThreadingLookups = {
    ticketExists: async (id) => [10, 20, 30, 40].includes(id),
    ticketForMessageIdHashes: async (hashes) => hashes.map((h) => stored.get(h)).find((x) => x !== undefined) ?? null,
    ticketIdByNumber: async (n) => (n === '12345678' ? 30 : n === '40404040' ? 40 : null),
    isParticipant: async (ticketId, address) => ticketId === 30 && address === 'ann@example.com',
    // Ticket 40 (number 40404040) was merged into 30.
    survivorOf: async (id) => (id === 40 ? 30 : id),
  };
  const base = { inReplyTo: [] as string[], references: [] as string[], subject: 'Hello', from: 'ann@example.com' };
  const cases: Array<[string, Partial<typeof base>, number | null, string?]> = [
    ['signed In-Reply-To', { inReplyTo: [signer.sign(10, 1, 'ann@example.com')] }, 10, 'signed_id'],
    ['signed id beats a stored id', { inReplyTo: ['stored@mail.example'], references: [signer.sign(10, 1, 'ann@example.com')] }, 10, 'signed_id'],
    ['nearest parent first', { references: [signer.sign(20, 1, 'ann@example.com'), signer.sign(10, 2, 'ann@example.com')] }, 10, 'signed_id'],
    ['signed id of a deleted ticket falls through', { inReplyTo: [signer.sign(99, 1, 'ann@example.com')], references: ['stored@mail.example'] }, 20, 'stored_id'],
    ['stored id', { references: ['x@y', 'stored@mail.example'] }, 20, 'stored_id'],
    ['signed id beats the subject tag', { inReplyTo: [signer.sign(10, 1, 'ann@example.com')], subject: 'Re: [#12345678]' }, 10, 'signed_id'],
    ['subject tag from a participant', { subject: 'Re: [#12345678] Hello' }, 30, 'subject_tag'],
    ['signed id of a merged ticket: its survivor', { inReplyTo: [signer.sign(40, 1, 'ann@example.com')] }, 30, 'signed_id'],
    ['subject tag of a merged ticket: its survivor', { subject: 'Re: [#40404040] Hello' }, 30, 'subject_tag'],
    ['subject tag from a stranger', { subject: 'Re: [#12345678] Hello', from: 'eve@example.com' }, null],
    ['unknown number', { subject: '[#87654321]' }, null],
    ['forged signature', { inReplyTo: [signer.sign(10, 1, 'ann@example.com').replace(/\.[0-9a-f]{32}@/, `.${'0'.repeat(32)}@`)] }, null],
    ['nothing', {}, null],
  ];
  for (const [name, input, ticketId, via] of cases) {
    const m = await findThread({ ...base, ...input }, signer, lookups);
    t.same(m, ticketId === null ? null : { ticketId, via }, name);
  }
});

const parsed = (over: Partial<ParsedMessage>): ParsedMessage => ({
  messageId: 'm@x', inReplyTo: [], references: [], subject: 's', from: { address: 'ann@example.com', name: 'Ann' }, replyTo: null, to: [], cc: [],
  headers: new Map(), contentType: 'text/plain', reportType: null, text: 'hi', html: null, attachments: [], embeddedHeaders: [], contentLanguage: [], ...over,
});
const h = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, [v]]));

t.test('sender authentication: signed reply token, trusted Authentication-Results, staff claims', async (t) => {
  const agent = { id: 5, name: 'Alice Agent' };
  const agents = new Map([['alice@staff.test', agent]]);
  const ctx = (trusted: string[]) => ({ signer, trustedAuthServers: trusted, findAgentByEmail: async (a: string) => agents.get(a) ?? null });
  const toAlice = signer.sign(10, 3, 'alice@staff.test');
  const toAnn = signer.sign(10, 1, 'ann@example.com');
  const ar = (id: string, rest: string) => h({ 'authentication-results': `${id}; ${rest}` });
  type Case = [name: string, from: string, over: Partial<ParsedMessage>, trusted: string[], ticketId: number | null, verification: string, asAgent: boolean];
  const cases: Case[] = [
    ['agent answers an alert signed to them', 'alice@staff.test', { inReplyTo: [toAlice] }, [], 10, 'verified', true],
    ['agent token found in References', 'alice@staff.test', { references: [signer.root(10), toAlice] }, [], 10, 'verified', true],
    ['forged agent From on the requester’s confirmation', 'alice@staff.test', { inReplyTo: [toAnn] }, [], 10, 'suspicious', false],
    ['forged agent From quoting only the root id', 'alice@staff.test', { references: [signer.root(10)] }, [], 10, 'suspicious', false],
    ['agent token for another ticket', 'alice@staff.test', { inReplyTo: [toAlice] }, [], 11, 'suspicious', false],
    ['agent, token, and a trusted pass', 'alice@staff.test', { inReplyTo: [toAlice], headers: ar('mx.helpdesk.test', 'dkim=pass header.d=staff.test; spf=fail smtp.mailfrom=x@staff.test') }, ['mx.helpdesk.test'], 10, 'verified', true],
    ['agent, token, trusted server says fail', 'alice@staff.test', { inReplyTo: [toAlice], headers: ar('mx.helpdesk.test', 'dkim=fail header.d=staff.test; spf=softfail smtp.mailfrom=staff.test') }, ['mx.helpdesk.test'], 10, 'suspicious', false],
    ['agent, token, pass only from an untrusted copy', 'alice@staff.test', { inReplyTo: [toAlice], headers: ar('evil.example', 'dkim=pass header.d=staff.test') }, ['mx.helpdesk.test'], 10, 'suspicious', false],
    ['agent, token, pass for an unaligned domain', 'alice@staff.test', { inReplyTo: [toAlice], headers: ar('mx.helpdesk.test', 'spf=pass smtp.mailfrom=bounce@evil.example; dkim=pass header.d=evil.example') }, ['mx.helpdesk.test'], 10, 'suspicious', false],
    ['agent with a trusted pass but no token: verified, not their note', 'alice@staff.test', { headers: ar('mx.helpdesk.test', 'spf=pass smtp.mailfrom=alice@staff.test') }, ['mx.helpdesk.test'], 10, 'verified', false],
    ['requester answers their confirmation', 'ann@example.com', { inReplyTo: [toAnn] }, [], 10, 'verified', false],
    ['requester, plain reply', 'ann@example.com', {}, [], 10, 'unverified', false],
    ['someone else quoting the requester’s token', 'eve@example.com', { inReplyTo: [toAnn] }, [], 10, 'unverified', false],
    ['new mail, DKIM pass from a subdomain signer', 'ann@mail.example.com', { headers: ar('MX.helpdesk.test (comment)', 'dkim=pass (good) header.d=example.com header.s=sel') }, ['mx.helpdesk.test'], null, 'verified', false],
    ['alignment needs a real parent domain', 'ann@example.com', { headers: ar('mx.helpdesk.test', 'dkim=pass header.d=com') }, ['mx.helpdesk.test'], null, 'unverified', false],
    ['a trusted header names no pass', 'ann@example.com', { headers: ar('mx.helpdesk.test', 'none') }, ['mx.helpdesk.test'], null, 'unverified', false],
    // The trusted server's own header stands on top; a forged copy naming it, carried in from outside, below.
    ['a forged pass below the trusted server’s fail', 'alice@staff.test', { inReplyTo: [toAlice], headers: new Map([['authentication-results', ['mx.helpdesk.test; dkim=fail header.d=staff.test', 'mx.helpdesk.test; dkim=pass header.d=staff.test']]]) }, ['mx.helpdesk.test'], 10, 'suspicious', false],
    ['an untrusted header on top does not hide the trusted one', 'ann@example.com', { headers: new Map([['authentication-results', ['relay.example; spf=fail smtp.mailfrom=example.com', 'mx.helpdesk.test; spf=pass smtp.mailfrom=ann@example.com']]]) }, ['mx.helpdesk.test'], null, 'verified', false],
  ];
  for (const [name, from, over, trusted, ticketId, verification, asAgent] of cases) {
    const evidence = await authenticateSender(parsed({ from: { address: from, name: '' }, ...over }), ctx(trusted));
    const v = verdictFor(evidence, ticketId);
    t.same([v.verification, v.agent], [verification, asAgent ? agent : null], name);
  }
});

t.test('classification of robots, loops and bounces', async (t) => {
  const ctx = { mailDomain: 'helpdesk.test', envelopeFrom: 'ann@example.com' };
  const cases: Array<[string, Partial<ParsedMessage>, string, (typeof ctx)?]> = [
    ['plain mail', {}, 'message'],
    ['Auto-Submitted: no', { headers: h({ 'auto-submitted': 'no' }) }, 'message'],
    ['Auto-Submitted: auto-replied', { headers: h({ 'auto-submitted': 'auto-replied' }) }, 'drop:auto_submitted'],
    ['Auto-Submitted: auto-generated', { headers: h({ 'auto-submitted': 'auto-generated' }) }, 'drop:auto_submitted'],
    ['Precedence: bulk', { headers: h({ precedence: 'bulk' }) }, 'drop:precedence'],
    ['Precedence: list', { headers: h({ precedence: 'List' }) }, 'drop:precedence'],
    ['Precedence: first-class', { headers: h({ precedence: 'first-class' }) }, 'message'],
    ['X-Auto-Response-Suppress: All', { headers: h({ 'x-auto-response-suppress': 'All' }) }, 'drop:auto_response_suppress'],
    ['X-Auto-Response-Suppress: DR, RN', { headers: h({ 'x-auto-response-suppress': 'DR, RN, NRN' }) }, 'message'],
    ['X-Autoreply', { headers: h({ 'x-autoreply': 'yes' }) }, 'drop:autoreply_header'],
    ['from our domain', { from: { address: 'support@helpdesk.test', name: '' } }, 'drop:own_address'],
    ['mailer-daemon without report', { from: { address: 'mailer-daemon@mx.example', name: '' } }, 'drop:mailer_daemon'],
    ['read receipt', { contentType: 'multipart/report', reportType: 'disposition-notification' }, 'drop:report'],
    ['delivery report', { contentType: 'multipart/report', reportType: 'delivery-status', embeddedHeaders: ['From: x\r\nMessage-ID:\r\n <orig@helpdesk.test>\r\n'] }, 'bounce:orig@helpdesk.test'],
    ['daemon with null sender', { from: { address: 'MAILER-DAEMON@mx.example', name: '' }, inReplyTo: ['orig2@x'] }, 'bounce:orig2@x', { ...ctx, envelopeFrom: '' }],
  ];
  for (const [name, over, expected, c] of cases) {
    const r = classify(parsed(over), c ?? ctx);
    const got = r.kind === 'drop' ? `drop:${r.reason}` : r.kind === 'bounce' ? `bounce:${r.originalMessageIds.join(',')}` : r.kind;
    t.equal(got, expected, name);
  }
});

t.test('quote and signature trimming (display only)', async (t) => {
  const cases: Array<[string, string, string, RegExp | '']> = [
    ['no quote', 'Just a line.\nAnd another.', 'Just a line.\nAnd another.', ''],
    ['our marker', `Thanks!\n\n${REPLY_MARKER}\n\nDear Ann, ...`, 'Thanks!', /^##- Please type/],
    ['Gmail attribution and quote', 'Yes please.\n\nOn Mon, 23 Nov 2026 at 10:00, Support <support@helpdesk.test> wrote:\n> old text\n> more', 'Yes please.', /^On Mon/],
    ['attribution wrapped over two lines', 'Fine.\n\nOn Mon, 23 Nov 2026 at 10:00, Support Desk <support@helpdesk.test>\nwrote:\n> old', 'Fine.', /^On Mon/],
    ['German client', 'Danke.\n\nAm 23.11.2026 um 10:00 schrieb Support <s@x.de>:\n> alt', 'Danke.', /^Am 23/],
    ['Outlook original message', 'See below.\n\n-----Original Message-----\nFrom: Support\nSent: Monday', 'See below.', /Original Message/],
    ['Outlook header block', 'Ok.\n\nFrom: Support <s@x>\nSent: Monday, November 23, 2026 10:00\nTo: Ann\nSubject: Re: x', 'Ok.', /^From: Support/],
    ['signature dashes', 'Body here.\n-- \nAnn Example\nACME Corp', 'Body here.', /^-- \nAnn Example/],
    ['mobile signature', 'On my way.\n\nSent from my iPhone', 'On my way.', /^Sent from my iPhone/],
    ['trailing quote block', 'Answer.\n\n> q1\n>\n> q2', 'Answer.', /^> q1/],
    ['interleaved quotes are kept', '> question one\nanswer one\n> question two\nanswer two', '> question one\nanswer one\n> question two\nanswer two', ''],
    ['only a quote: shown whole', '> all quoted', '> all quoted', ''],
  ];
  for (const [name, input, visible, quoted] of cases) {
    const r = trimText(input);
    t.equal(r.visible, visible, `${name}: visible part`);
    if (quoted === '') t.equal(r.quoted, '', `${name}: nothing folded`);
    else t.match(r.quoted, quoted, `${name}: folded part`);
  }
  t.same(splitHtml('<p>New</p><div class="sb-quote"><p>old</p></div>'), { visible: '<p>New</p>', quoted: '<div class="sb-quote"><p>old</p></div>' });
  t.same(splitHtml(`<p>New</p><div>${REPLY_MARKER}</div><p>old</p>`), { visible: '<p>New</p>', quoted: `<div>${REPLY_MARKER}</div><p>old</p>` });
  t.equal(splitHtml('<div class="sb-quote"><p>forwarded</p></div>'), null, 'all quote: nothing split off');
});
