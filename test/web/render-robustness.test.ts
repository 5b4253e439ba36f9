import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

/**
 * Rendering never throws on stored content: one hostile message must not take a ticket's pages down for
 * everybody. Entries are built two ways: through mail intake (normalised on the way in) and through the
 * ticket service with the HTML as it is (what rows stored before that normalisation look like), and each
 * ticket is read through the staff page, the client page and the JSON API.
 */
const PIPE = { mailbox: null, envelopeFrom: null, source: 'pipe' as const, remoteAddress: null };

function mail(n: number, contentType: string, body: string | Buffer, extraHeaders: string[] = []): Buffer {
  const head = [
    'From: Rita Render <rita@example.com>',
    'To: support@helpdesk.test',
    `Subject: Render case ${n}`,
    `Message-ID: <render-${n}@example.com>`,
    ...extraHeaders,
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}

const related = (html: string, cid: string) =>
  [
    '--r1',
    'Content-Type: text/html; charset=utf-8',
    '',
    html,
    '--r1',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    `Content-ID: <${cid}>`,
    '',
    'iVBORw0KGgo=',
    '--r1--',
    '',
  ].join('\r\n');

const deepHtml = `<p>MARK-deep</p>${'<div><blockquote><span>'.repeat(3000)}deep inside${'</span></blockquote></div>'.repeat(3000)}`;
let nested = 'Content-Type: text/plain; charset=utf-8\r\n\r\nMARK-nested parts\r\n';
for (let i = 40; i > 0; i--) nested = `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${nested}--n${i}--\r\n`;

const MAIL_CASES: Array<{ mark: string; raw: (n: number) => Buffer }> = [
  { mark: 'MARK-cid', raw: (n) => mail(n, 'multipart/related; boundary="r1"', related('<p>MARK-cid</p><img src="cid:%" alt="a"><img src="cid:%E0%A4%A" alt="b"><img src="CID:%zz%" alt="c">', '%')) },
  { mark: 'MARK-percent', raw: (n) => mail(n, 'text/html; charset=utf-8', '<p>MARK-percent <a href="https://example.com/%">x</a> <img src="https://example.com/%E0%A4%A.png"> <a href="mailto:%ff%">m</a></p>') },
  { mark: 'MARK-charset', raw: (n) => mail(n, 'text/html; charset=x-no-such-charset', Buffer.concat([Buffer.from('<p>MARK-charset '), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from('</p>')])) },
  { mark: 'MARK-utf7', raw: (n) => mail(n, 'text/html; charset=utf-7', '<p>MARK-utf7 +ADw-script+AD4-alert(1)+ADw-/script+AD4-</p>') },
  { mark: 'MARK-bad-utf8', raw: (n) => mail(n, 'text/plain; charset=utf-8', Buffer.concat([Buffer.from('MARK-bad-utf8 '), Buffer.from([0xed, 0xa0, 0x80, 0xc0, 0xaf, 0xf8, 0x88])])) },
  { mark: 'MARK-deep', raw: (n) => mail(n, 'text/html; charset=utf-8', deepHtml) },
  { mark: 'MARK-nested', raw: (n) => mail(n, 'multipart/mixed; boundary="outer"', `--outer\r\n${nested}--outer--\r\n`) },
];

// What a row stored before intake normalised cids holds: handed to the service unchanged.
const STORED_CASES: Array<{ mark: string; html: string }> = [
  { mark: 'MARK-stored-cid', html: '<p>MARK-stored-cid</p><img src="cid:%" alt="x"><img src="cid:%E0%A4%A"><img src="cid:%uD800">' },
  { mark: 'MARK-stored-entity', html: '<p>MARK-stored-entity</p><img src="cid:&#xD800;%"><a href="https://e.example/&#xDC00;%">y</a>' },
  { mark: 'MARK-stored-deep', html: deepHtml.replace('MARK-deep', 'MARK-stored-deep') },
];

t.test('entries built from broken cids, percent-encodings, charsets and nesting render everywhere', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(services);
  const staff = new Browser(app);
  await staff.staffLogin(agent.username, agent.password);
  const { key } = await services.apiKeys.create({ name: 'Reader' });

  const tickets: Array<{ mark: string; number: string }> = [];
  let n = 0;
  for (const c of MAIL_CASES) {
    const outcome = await services.intake.deliver(c.raw(++n), PIPE);
    t.equal(outcome.status, 'ticket', `${c.mark}: became a ticket`);
    tickets.push({ mark: c.mark, number: (outcome as { ticketNumber: string }).ticketNumber });
  }
  const stored = await services.db.knex('thread_entries').where('body_html', 'like', '%cid:%').pluck('body_html');
  for (const html of stored as string[]) {
    for (const src of html.match(/cid:[^"]*/g) ?? []) t.doesNotThrow(() => decodeURIComponent(src.slice(4)), `stored cid well-formed: ${src}`);
  }

  // A requester's ticket that then receives the stored-as-is entries (a reply threaded onto it).
  const host = await services.intake.deliver(mail(++n, 'text/plain; charset=utf-8', 'MARK-host\r\n'), PIPE);
  const hostNumber = (host as { ticketNumber: string }).ticketNumber;
  const hostId = (host as { ticketId: number }).ticketId;
  for (const c of STORED_CASES) {
    await services.tickets.addInboundMessage(hostId, {
      name: 'Rita Render', email: 'rita@example.com', bodyText: `${c.mark} (text version)`, bodyHtml: c.html, attachments: [], messageId: null, source: 'email',
      agent: null, verification: 'unverified', fromNonParticipant: false,
    });
  }
  tickets.push({ mark: STORED_CASES.map((c) => c.mark).join('|'), number: hostNumber });

  for (const { mark, number } of tickets) {
    const marks = mark.split('|');
    const staffPage = await staff.get(`/scp/tickets/${number}`);
    t.equal(staffPage.statusCode, 200, `${marks[0]}: staff page`);
    for (const m of marks) t.match(staffPage.body, m, `${m}: shown to staff`);

    const ticket = (await services.tickets.findByNumber(number))!;
    const link = new URL(services.tickets.accessLink(ticket));
    const client = new Browser(app);
    t.equal((await client.get(link.pathname + link.search)).statusCode, 302, `${marks[0]}: access link`);
    const clientPage = await client.get(`/tickets/${number}`);
    t.equal(clientPage.statusCode, 200, `${marks[0]}: client page`);
    for (const m of marks) t.match(clientPage.body, m, `${m}: shown to the client`);

    const api = await app.inject({ method: 'GET', url: `/api/v1/tickets/${number}`, headers: { 'x-api-key': key } });
    t.equal(api.statusCode, 200, `${marks[0]}: API`);
    for (const m of marks) t.match(api.body, m, `${m}: in the API thread`);
  }
});

t.test('stored times and zones a page cannot read are shown as best it can, never thrown', async (t) => {
  const { formatters } = await import('../../src/web/format.js');
  const { loadI18n } = await import('../../src/i18n/load.js');
  const tr = loadI18n(false).translator('en');
  const now = new Date('2026-11-29T12:00:00Z');
  // A zone saved on a node whose time-zone data knows it, read on one that does not.
  t.match(tr.exact(now, 'Mars/Olympus_Mons'), /29 Nov 2026, 12:00 UTC/);
  const fmt = formatters(tr, 'Europe/Copenhagen', now);
  const zero = new Date('0000-00-00T00:00:00Z');
  for (const f of [fmt.rel, fmt.exact, fmt.iso] as Array<(d: Date) => string>) t.equal(f(zero), '', 'an unreadable time shows as nothing');
  t.match(fmt.exact(now), /13:00/);
});
