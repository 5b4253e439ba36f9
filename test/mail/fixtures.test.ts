import t from 'tap';
import { createHash } from 'node:crypto';
import { createAgent, createTestContext } from '../helpers/context.js';
import { fixture, send, startListener } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('real-world messages in several charsets arrive with the right subject, sender, body and attachments', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);

  const cases: Array<{ file: string; subject: string; name: string; email: string; body: RegExp; html?: RegExp; files?: Array<[string, string]> }> = [
    { file: 'latin1.eml', subject: 'Café crème froid', name: 'José García', email: 'jose@example.org', body: /Le café crème est froid et l'imprimante affiche « erreur »\./ },
    { file: 'windows-1252.eml', subject: '“Smart” quotes – €5 refund', name: 'Maria Lopez', email: 'maria@example.com', body: /charged €5 twice — please refund “both”/, html: /<b>€5<\/b> twice — please refund “both”/ },
    { file: 'iso-2022-jp.eml', subject: 'プリンターが動きません', name: '山田太郎', email: 'yamada@example.jp', body: /お世話になっております。\nプリンターが動きません。/ },
    {
      file: 'attachments.eml', subject: 'Invoice question with attachments', name: 'Zoe Smith', email: 'zoe@example.net', body: /attached résumé and the spreadsheet\. 📎/,
      files: [['résumé.pdf', 'application/pdf'], ['Übersicht 2026.csv', 'text/csv'], ['passwd', 'text/plain']],
    },
  ];
  for (const c of cases) {
    const r = await send(port, fixture(c.file), { from: c.email, to: TO });
    t.equal(r.code, 250, `${c.file}: 250`);
    const row = await services.db.knex('inbound_messages').orderBy('id', 'desc').first('id', 'ticket_id', 'status');
    t.equal(row.status, 'ticket', `${c.file}: a ticket`);
    // UTF-8 and 8-bit (windows-1252) raw mail go to MySQL by different routes (inbound-repository.ts rawValue).
    t.equal(sha((await services.db.knex('inbound_messages').where({ id: row.id }).first('raw')).raw), sha(fixture(c.file)), `${c.file}: raw kept byte for byte`);
    const { number } = await services.db.knex('tickets').where({ id: row.ticket_id }).first('number');
    const view = await services.tickets.view(agent.principal, number);
    t.equal(view.ticket.subject, c.subject, `${c.file}: subject`);
    t.equal(view.ticket.requesterName, c.name, `${c.file}: sender name`);
    t.equal(view.ticket.requesterEmail, c.email, `${c.file}: sender address`);
    const entry = view.entries[0]!;
    t.match(entry.bodyText, c.body, `${c.file}: body`);
    if (c.html) t.match(entry.display.bodyHtmlSanitized, c.html, `${c.file}: html body`);
    if (c.files) t.same(entry.attachments.map((a) => [a.filename, a.contentType]), c.files, `${c.file}: attachments with safe names`);
  }

  // Attachment bytes survive the round trip.
  const zoe = (await services.db.knex('tickets as t').join('user_emails as e', 'e.user_id', 't.user_id').where('e.address', 'zoe@example.net').first('t.number')).number;
  const view = await services.tickets.view(agent.principal, zoe);
  const pdf = await services.tickets.attachment(agent.principal, zoe, view.entries[0]!.attachments[0]!.id);
  t.equal(sha(pdf.data), sha(Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n')));
  t.same((await services.tickets.collaborators(agent.principal, zoe)).map((c) => c.email), ['bob@example.net', 'carol@example.net'], 'Cc became collaborators');
});

t.test('inline images are served from stored attachments; remote images wait for the viewer', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);
  t.equal((await send(port, fixture('inline-image.eml'), { from: 'ivan@example.com', to: TO })).code, 250);
  const { number } = await services.db.knex('tickets').first('number');
  const view = await services.tickets.view(agent.principal, number);
  const entry = view.entries[0]!;
  const image = entry.attachments.find((a) => a.contentId === 'shot1@example.com')!;
  t.ok(image?.isInline, 'the cid image is stored, marked inline');
  t.match(entry.display.bodyHtmlSanitized, `<img src="/scp/tickets/${number}/attachments/${image.id}" alt="screenshot" />`);
  t.notMatch(entry.display.bodyHtmlSanitized, /tracker\.example\.com/, 'the remote image is not loaded');
  t.equal(entry.display.blockedRemoteImages, 1);
  const shown = (await services.tickets.view(agent.principal, number, { remoteImagesFor: entry.id })).entries[0]!;
  t.match(shown.display.bodyHtmlSanitized, /<img src="https:\/\/tracker\.example\.com\/pixel\.gif"/, 'shown on request, for this entry');
  t.equal(shown.display.remoteImagesShown, true);
});

t.test('hostile HTML is stored and rendered inert', async (t) => {
  const { services } = await createTestContext(t);
  const { port } = await startListener(t, services);
  const agent = await createAgent(services);
  t.equal((await send(port, fixture('adversarial.eml'), { from: 'mallory@example.com', to: TO })).code, 250);
  const { number } = await services.db.knex('tickets').first('number');
  const entry = (await services.tickets.view(agent.principal, number)).entries[0]!;
  const stored = (await services.db.knex('thread_entries').first('body_html')).body_html as string;
  for (const html of [stored, entry.display.bodyHtmlSanitized]) {
    t.notMatch(html, /<script|<svg|<iframe|<form|<input|<object|<embed|<style|<meta|<math|<title/i, 'no dangerous elements');
    t.notMatch(html, /\son\w+\s*=/i, 'no event handlers');
    t.notMatch(html, /javascript:|data:text/i, 'no script URLs');
    t.notMatch(html, /style=|class="button|id="logout/i, 'no styles, foreign classes or ids');
    t.notMatch(html, /TITLE-LEAK|alert\(/, 'no script or head text leaks into the body');
  }
  t.match(entry.display.bodyHtmlSanitized, /<a href="https:\/\/example\.com\/ok" target="_blank" rel="noopener noreferrer nofollow">a fine link<\/a>/);
  t.match(entry.display.bodyHtmlSanitized, /end of message/);
});
