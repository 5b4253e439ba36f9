import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { InboundRepository } from '../../src/mail/inbound/inbound-repository.js';
import { parseMessage } from '../../src/mail/inbound/parse.js';
import { messageIdHash } from '../../src/mail/message-id.js';
import { fixture, rawSession, send, startListener } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];

/** What a mail client makes of each message: its subject, sender, body and files. */
const CASES: Array<{
  file: string;
  envelope: string;
  subject: string;
  name: string;
  email: string;
  body: RegExp;
  notInBody?: RegExp;
  files: Array<[name: string, type: string, content: string | RegExp]>;
}> = [
  {
    file: 'x-uuencode.eml', envelope: 'uma@example.org', subject: 'Figures attached (uuencoded)', name: 'Uma Unix', email: 'uma@example.org', body: /The figures are attached\./,
    files: [['report.csv', 'text/csv', 'Quarterly figures\nrevenue,42\ncosts,17\n'.repeat(3)]],
  },
  {
    file: 'uuencode-in-body.eml', envelope: 'olaf@example.org', subject: 'Screenshot and notes', name: 'Olaf Oldmail', email: 'olaf@example.org',
    body: /Here is the screenshot of the error\.\n\nAnd my notes:\n\nThanks, Olaf/, notInBody: /begin 644|^end$|^M/m,
    files: [['screen shot.png', 'image/png', /^\x89PNG\r\n\x1a\n[^]*IEND/], ['notes.txt', 'text/plain', 'note one\nnote two\n']],
  },
  {
    file: 'disposition-unreadable.eml', envelope: 'dina@example.net', subject: 'Printer on floor 3', name: 'Dina Disposition', email: 'dina@example.net',
    body: /^The printer on floor 3 jams on every page\. Café is closed too\.$/, files: [],
  },
  {
    file: 'content-location.eml', envelope: 'lars@example.net', subject: 'Files named by location', name: 'Lars Location', email: 'lars@example.net', body: /Two files/,
    files: [['Quarterly report €.pdf', 'application/pdf', /^%PDF-1\.4/], ['budget 2026.csv', 'text/csv', 'a,b\r\n1,2\r\n'], ['broken%E0%A4.bin', 'application/octet-stream', '\x00\x01\x02']],
  },
  {
    file: '8bit-headers-charset.eml', envelope: 'jose@example.org', subject: 'Facture € 12 à vérifier', name: 'José Muñoz', email: 'jose@example.org', body: /La facture de € 12 est fausse\./, files: [],
  },
  {
    file: '8bit-headers-nocharset.eml', envelope: 'mueller@example.de', subject: 'Grüße – € 50 zurück', name: '“Smart” Müller', email: 'mueller@example.de', body: /Please refund 50 euro\./,
    files: [['Rechnung März.pdf', 'application/pdf', /^%PDF/]],
  },
  {
    file: 'no-from.eml', envelope: 'backup-bot@example.com', subject: 'Sent by a script without a From', name: '', email: 'backup-bot@example.com', body: /nightly backup failed/, files: [],
  },
  {
    file: 'utf8-address.eml', envelope: 'jürgen@bücher.example', subject: 'Grüße aus Köln', name: 'Jürgen Bücher', email: 'jürgen@bücher.example', body: /Mein Drucker druckt nur noch Fragezeichen\./, files: [],
  },
  {
    file: 'bidi-filename.eml', envelope: 'eve@example.com', subject: 'Invoice', name: 'Eve Evil', email: 'eve@example.com', body: /Please see the invoice\./,
    files: [['invoicefdp.exe', 'application/octet-stream', /^MZ/], ['report.txt', 'text/plain', 'hello']],
  },
];

t.test('messages that mail clients decode arrive decoded: uuencode, odd dispositions and names, 8-bit headers, UTF-8 addresses, no From, bidi names', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);

  // One subtest per message, so that one failing case does not hide the others.
  for (const c of CASES) await t.test(c.file, async (t) => {
    const r = await send(port, fixture(c.file), { from: c.envelope, to: TO });
    t.equal(r.code, 250, `${c.file}: 250`);
    const row = await services.db.knex('inbound_messages').orderBy('id', 'desc').first('ticket_id', 'status', 'subject', 'sender', 'error');
    t.equal(row.status, 'ticket', `${c.file}: a ticket, not quarantine (${row.error ?? ''})`);
    t.same([row.subject, row.sender], [c.subject, c.email], `${c.file}: inbound record decoded`);
    const { number } = await services.db.knex('tickets').where({ id: row.ticket_id }).first('number');
    const view = await services.tickets.view(agent.principal, number);
    t.equal(view.ticket.subject, c.subject, `${c.file}: subject`);
    t.equal(view.ticket.requesterEmail, c.email, `${c.file}: sender address`);
    if (c.name) t.equal(view.ticket.requesterName, c.name, `${c.file}: sender name`);
    const entry = view.entries[0]!;
    t.notMatch(`${view.ticket.subject} ${view.ticket.requesterName} ${entry.bodyText}`, /\ufffd/, `${c.file}: no replacement characters`);
    t.match(entry.bodyText, c.body, `${c.file}: body`);
    if (c.notInBody) t.notMatch(entry.bodyText, c.notInBody, `${c.file}: nothing encoded left in the body`);
    t.same(entry.attachments.map((a) => [a.filename, a.contentType]), c.files.map(([n, type]) => [n, type]), `${c.file}: attachments`);
    for (const [i, [name, , content]] of c.files.entries()) {
      const file = await services.tickets.attachment(agent.principal, number, entry.attachments[i]!.id);
      const text = file.data.toString('latin1');
      if (typeof content === 'string') t.equal(text, Buffer.from(content, 'utf8').toString('latin1'), `${c.file}: ${name} decoded`);
      else t.match(text, content, `${c.file}: ${name} decoded`);
    }
  });
});

t.test('a From header that is there but unreadable is still quarantined, envelope or not', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  t.equal((await send(port, fixture('unparsable.eml'), { from: 'who@example.com', to: TO })).code, 250);
  t.equal((await services.db.knex('inbound_messages').first('status')).status, 'quarantined');
});

t.test('SMTPUTF8 is advertised and a UTF-8 address is accepted through a whole SMTP conversation', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const s = await rawSession(port);
  t.match(await s.say('EHLO client.example'), /^250[ -]SMTPUTF8$/m);
  t.match(await s.say('MAIL FROM:<jürgen@bücher.example> SMTPUTF8'), /^250/);
  t.match(await s.say('RCPT TO:<support@helpdesk.test>'), /^250/);
  t.match(await s.say('DATA'), /^354/);
  t.match(await s.say(`${fixture('utf8-address.eml').toString('utf8').replace(/\r?\n/g, '\r\n')}\r\n.`), /^250/);
  s.close();
  const ticket = await services.db.knex('tickets as t').join('user_emails as e', 'e.user_id', 't.user_id').first('t.subject', 'e.address');
  t.same([ticket.subject, ticket.address], ['Grüße aus Köln', 'jürgen@bücher.example']);
});

t.test('admin pages show quarantined and inbound mail decoded; downloads carry no bidi controls', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const app = await createTestApp(t, ctx);
  const { port } = await startListener(t, services);
  const admin = await createAgent(services, { admin: true });
  const b = new Browser(app);
  await b.staffLogin(admin.username, admin.password);

  t.equal((await send(port, fixture('quarantine-encoded.eml'), { from: 'joerg@example.com', to: TO })).code, 250);
  const q = await services.db.knex('inbound_messages').first('id', 'status');
  t.equal(q.status, 'quarantined');
  const list = await b.get('/scp/admin/quarantine');
  t.match(list.body, 'Rechnung für März à payer', 'encoded-words decoded in the list');
  t.match(list.body, 'Jörg &lt;&lt;&lt;not an address&gt;&gt;&gt;', 'an 8-bit sender read as windows-1252');
  const detail = await b.get(`/scp/admin/quarantine/${q.id}`);
  t.match(detail.body, 'Rechnung für März à payer');
  t.match(detail.body, /From: Jörg &lt;&lt;&lt;not an address/, 'raw headers without mojibake');
  t.notMatch(list.body, /=\?utf-8\?q\?Rechnung/i, 'no encoded-words left in the list');
  // The detail page shows the raw header section too: encoded-words there are what was received.
  for (const page of [list.body, detail.body]) t.notMatch(page, /\ufffd|Ã/, 'no mojibake');

  // A row quarantined before summaries were decoded: raw encoded-words, UTF-8 read as Latin-1.
  const mailbox = (await services.mailboxes.defaultMailbox())!;
  await new InboundRepository(services.db).insert({
    mailboxId: mailbox.id, messageIdHash: messageIdHash('old-row@example.com'), messageId: 'old-row@example.com', sender: Buffer.from('Grün <<<x>>>', 'utf8').toString('latin1'),
    subject: '=?utf-8?q?Alte_Zeile_f=C3=BCr_Sie?=', raw: fixture('unparsable.eml'), status: 'quarantined', error: 'earlier', source: 'smtp', remoteAddress: null, receivedAt: new Date(),
  });
  const old = await b.get('/scp/admin/quarantine');
  t.match(old.body, 'Alte Zeile für Sie');
  t.match(old.body, 'Grün &lt;&lt;&lt;x');

  t.equal((await send(port, fixture('8bit-headers-nocharset.eml'), { from: 'mueller@example.de', to: TO })).code, 250);
  t.match((await b.get('/scp/admin/quarantine?status=ticket')).body, 'Grüße – € 50 zurück', 'inbound list');

  t.equal((await send(port, fixture('bidi-filename.eml'), { from: 'eve@example.com', to: TO })).code, 250);
  const { number } = await services.db.knex('tickets').orderBy('id', 'desc').first('number');
  const page = await b.get(`/scp/tickets/${number}`);
  t.notMatch(page.body, /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/, 'no bidi control on the ticket page');
  const link = /href="(\/scp\/tickets\/\d+\/attachments\/\d+)" download>invoicefdp\.exe</.exec(page.body)?.[1];
  t.ok(link, 'the file is listed under its true name');
  const download = await b.get(link!);
  t.equal(download.statusCode, 200);
  t.equal(download.headers['content-disposition'], `attachment; filename="invoicefdp.exe"; filename*=UTF-8''invoicefdp.exe`);
});

t.test('the raw header values the robot and delivery rules read are text too', async (t) => {
  const m = await parseMessage(fixture('8bit-headers-nocharset.eml'));
  t.same(m.headers.get('subject'), ['Grüße – € 50 zurück']);
  t.same((await parseMessage(fixture('utf8-address.eml'))).headers.get('from'), ['=?utf-8?q?J=C3=BCrgen_B=C3=BCcher?= <jürgen@bücher.example>']);
});
