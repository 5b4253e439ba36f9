import t from 'tap';
import { classify } from '../../src/mail/inbound/classify.js';
import type { ParsedMessage } from '../../src/mail/inbound/parse.js';
import { REPLY_MARKER, splitHtml, trimText } from '../../src/content/reply-trim.js';
import { findThread, type ThreadingLookups } from '../../src/mail/inbound/threading.js';
import { MessageIdSigner, messageIdHash, normaliseMessageId, splitMessageIds } from '../../src/mail/message-id.js';

const signer = new MessageIdSigner(Buffer.alloc(32, 7), 'helpdesk.test');

t.test('signed Message-IDs', async (t) => {
  const id = signer.sign(42, 7);
  t.match(id, /^sb1\.42\.7\.[0-9a-f]{16}\.[0-9a-f]{32}@helpdesk\.test$/);
  t.same(signer.verify(`<${id}>`), { ticketId: 42, entryId: 7 });
  t.same(signer.verify(id.replace('@helpdesk.test', '@rewritten.example')), { ticketId: 42, entryId: 7 }, 'the domain is not part of the proof');
  t.same(signer.verify(signer.root(42)), { ticketId: 42, entryId: 0 });
  const cases = [
    id.replace('sb1.42.', 'sb1.43.'),
    id.replace('.7.', '.8.'),
    id.replace(/\.([0-9a-f])([0-9a-f]{31})@/, (_m, a: string, rest: string) => `.${a === 'f' ? 'e' : 'f'}${rest}@`),
    id.replace('sb1.', 'sb2.'),
    new MessageIdSigner(Buffer.alloc(32, 8), 'helpdesk.test').sign(42, 7),
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
    ticketExists: async (id) => [10, 20, 30].includes(id),
    ticketForMessageIdHashes: async (hashes) => hashes.map((h) => stored.get(h)).find((x) => x !== undefined) ?? null,
    ticketIdByNumber: async (n) => (n === '12345678' ? 30 : null),
    isParticipant: async (ticketId, address) => ticketId === 30 && address === 'ann@example.com',
  };
  const base = { inReplyTo: [] as string[], references: [] as string[], subject: 'Hello', from: 'ann@example.com' };
  const cases: Array<[string, Partial<typeof base>, number | null, string?]> = [
    ['signed In-Reply-To', { inReplyTo: [signer.sign(10, 1)] }, 10, 'signed_id'],
    ['signed id beats a stored id', { inReplyTo: ['stored@mail.example'], references: [signer.sign(10, 1)] }, 10, 'signed_id'],
    ['nearest parent first', { references: [signer.sign(20, 1), signer.sign(10, 2)] }, 10, 'signed_id'],
    ['signed id of a deleted ticket falls through', { inReplyTo: [signer.sign(99, 1)], references: ['stored@mail.example'] }, 20, 'stored_id'],
    ['stored id', { references: ['x@y', 'stored@mail.example'] }, 20, 'stored_id'],
    ['signed id beats the subject tag', { inReplyTo: [signer.sign(10, 1)], subject: 'Re: [#12345678]' }, 10, 'signed_id'],
    ['subject tag from a participant', { subject: 'Re: [#12345678] Hello' }, 30, 'subject_tag'],
    ['subject tag from a stranger', { subject: 'Re: [#12345678] Hello', from: 'eve@example.com' }, null],
    ['unknown number', { subject: '[#87654321]' }, null],
    ['forged signature', { inReplyTo: [signer.sign(10, 1).replace(/\.[0-9a-f]{32}@/, `.${'0'.repeat(32)}@`)] }, null],
    ['nothing', {}, null],
  ];
  for (const [name, input, ticketId, via] of cases) {
    const m = await findThread({ ...base, ...input }, signer, lookups);
    t.same(m, ticketId === null ? null : { ticketId, via }, name);
  }
});

const parsed = (over: Partial<ParsedMessage>): ParsedMessage => ({
  messageId: 'm@x', inReplyTo: [], references: [], subject: 's', from: { address: 'ann@example.com', name: 'Ann' }, replyTo: null, to: [], cc: [],
  headers: new Map(), contentType: 'text/plain', reportType: null, text: 'hi', html: null, attachments: [], embeddedHeaders: [], ...over,
});
const h = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, [v]]));

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
