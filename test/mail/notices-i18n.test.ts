import t from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { DirectoryVersion } from '../../src/directory/directory-version.js';
import type { OutboxRow } from '../../src/mail/outbound/outbox-repository.js';
import type { Services } from '../../src/services.js';
import { StaffRepository } from '../../src/staff/staff-repository.js';
import { FrozenClock, createAgent, createTestContext, type TestContext } from '../helpers/context.js';
import { countQueries } from '../helpers/query-count.js';
import { createTestApp, Browser } from '../helpers/http.js';
import { fixture, message, send, startListener, startSink } from '../helpers/smtp.js';

const TO = ['support@helpdesk.test'];

/** Sets an agent's language and zone the way the preferences page does: the directory cache learns it. */
async function setAgentLanguage({ services, clock }: TestContext, staffId: number, language: string | null, timezone: string): Promise<void> {
  await new StaffRepository(services.db, clock, new DirectoryVersion(services.db, clock)).update(staffId, { language, timezone });
  clock.advance(DIRECTORY_REFRESH_MS * 2);
}

async function mailFor(services: Services, subject: string): Promise<{ ticketId: number; number: string; mail: OutboxRow[] }> {
  const row = await services.db.knex('tickets').where({ subject }).first('id', 'number');
  return { ticketId: Number(row.id), number: String(row.number), mail: await services.outbox.forTicket(Number(row.id)) };
}

const userLanguage = async (services: Services, email: string) => (await services.users.findByEmail(email))?.language ?? null;

t.test('a requester who wrote in Danish gets Danish notices; the agent who answers works in English', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const { services } = ctx;
  const agent = await createAgent(services, { name: 'Eve Agent' });
  await setAgentLanguage(ctx, agent.principal.staffId, 'en', 'Europe/London');
  const { port } = await startListener(t, services);

  const sent = await send(port, message({ from: 'Mette <mette@example.dk>', subject: 'Printeren virker ikke', body: 'Den siger papirstop.', messageId: 'mette-1@example.dk', headers: { 'Content-Language': 'da-DK' } }), { from: 'mette@example.dk', to: TO });
  t.equal(sent.code, 250);
  t.equal(await userLanguage(services, 'mette@example.dk'), 'da', 'the new requester keeps the language of their mail');

  const { number, mail } = await mailFor(services, 'Printeren virker ikke');
  const created = mail.find((m) => m.kind === 'ticket_created')!;
  t.equal(created.subject, `[#${number}] Printeren virker ikke`);
  t.match(created.bodyText, /^##- Skriv dit svar over denne linje -##/, 'the reply marker in Danish');
  t.match(created.bodyText, 'Kære Mette');
  t.match(created.bodyText, `oprettet sag #${number}`);
  t.match(created.bodyHtml, /<a href="http:\/\/helpdesk\.test\/tickets\/\d+\?t=[^"]+">følge sagen online<\/a>/, 'the access link text in Danish');
  t.notMatch(created.bodyText, /Dear|\bticket\b/, 'no English in the Danish notice');
  t.equal(created.headers['Content-Language'], 'da');

  const alert = mail.find((m) => m.kind === 'alert_new_ticket')!;
  t.equal(alert.subject, `New ticket [#${number}] Printeren virker ikke`, 'the agent’s alert in English');
  t.match(alert.bodyText, `New ticket #${number} in Support from Mette <mette@example.dk>.`);
  t.match(alert.bodyText, /Received \d{1,2} \w{3} \d{4}, \d\d:\d\d (GMT|BST|UTC)/, 'the time it arrived, in the agent’s zone');
  t.equal(alert.headers['Content-Language'], 'en');

  // The agent reads the ticket in English and answers; the response goes out in Danish.
  const app = await createTestApp(t, ctx);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const page = await b.get(`/scp/tickets/${number}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '<html lang="en"', 'the agent works in English');
  await services.tickets.respond(agent.principal, number, 'Prøv den anden bakke.');
  const response = (await services.outbox.forTicket((await mailFor(services, 'Printeren virker ikke')).ticketId)).find((m) => m.kind === 'response')!;
  t.equal(response.subject, `Re: [#${number}] Printeren virker ikke`);
  t.match(response.bodyText, /^##- Skriv dit svar over denne linje -##/);
  t.match(response.bodyText, 'Se sagen: http://helpdesk.test/tickets/');
  t.match(response.bodyHtml, '>Se sagen online</a>');

  // What leaves through the relay says its language.
  await services.delivery.drain();
  const out = sink.messages.find((m) => m.envelope.to.includes('mette@example.dk') && !m.parsed.headers.get('auto-submitted'))!;
  t.equal(out.parsed.headers.get('content-language'), 'da');

  // Mette answers above the Danish marker: the quoted mail is folded away as with the English one.
  const reply = message({
    from: 'Mette <mette@example.dk>', subject: `Re: [#${number}] Printeren virker ikke`, body: `Tak, det virker!\n\n${response.bodyText.split('\n').map((l) => `> ${l}`).join('\n')}`,
    messageId: 'mette-2@example.dk', headers: { 'In-Reply-To': `<${out.parsed.messageId!.replace(/[<>]/g, '')}>` },
  });
  t.equal((await send(port, reply, { from: 'mette@example.dk', to: TO })).code, 250);
  const view = await services.tickets.view(agent.principal, number);
  t.equal(view.entries.at(-1)!.display.textVisible, 'Tak, det virker!', 'history below the Danish marker folded');
});

t.test('Content-Language: unknown falls back to the site default; a known user keeps their language', async (t) => {
  const ctx = await createTestContext(t, { i18n: { defaultLanguage: 'et', pseudoLocale: false } });
  const { services } = ctx;
  const agent = await createAgent(services);
  await setAgentLanguage(ctx, agent.principal.staffId, 'da', 'Europe/Copenhagen');
  const { port } = await startListener(t, services);

  t.equal((await send(port, message({ from: 'Kai <kai@example.com>', subject: 'Klingon', body: 'nuqneH', messageId: 'kai-1@example.com', headers: { 'Content-Language': 'tlh, x-bogus;;' } }), { from: 'kai@example.com', to: TO })).code, 250);
  t.equal(await userLanguage(services, 'kai@example.com'), null, 'nothing stored: notices follow the site default when they are sent');
  const first = await mailFor(services, 'Klingon');
  const notice = first.mail.find((m) => m.kind === 'ticket_created')!;
  t.match(notice.bodyText, /^##- Palun kirjutage oma vastus selle rea kohale -##/, 'the site default (Estonian)');
  t.match(notice.bodyText, 'Lugupeetud Kai');
  t.equal(notice.headers['Content-Language'], 'et');
  const alert = first.mail.find((m) => m.kind === 'alert_new_ticket')!;
  t.equal(alert.subject, `Ny sag [#${first.number}] Klingon`, 'the agent’s alert in their own language (Danish)');
  t.match(alert.bodyText, /Modtaget \d{1,2}\. \w+\.? \d{4}/, 'the date in Danish');
  t.equal(alert.headers['Content-Language'], 'da');

  // Mail from someone already known never changes what they chose.
  await services.users.setLanguage((await services.users.findByEmail('kai@example.com'))!.id, 'en');
  t.equal((await send(port, message({ from: 'Kai <kai@example.com>', subject: 'Second', body: 'b', messageId: 'kai-2@example.com', headers: { 'Content-Language': 'da' } }), { from: 'kai@example.com', to: TO })).code, 250);
  t.equal(await userLanguage(services, 'kai@example.com'), 'en', 'a mail’s Content-Language does not overwrite a stored language');
  const second = (await mailFor(services, 'Second')).mail.find((m) => m.kind === 'ticket_created')!;
  t.match(second.bodyText, 'Dear Kai', 'and the notice follows the stored language');
});

t.test('assignment and transfer alerts in the agent’s language', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const ann = await createAgent(services, { name: 'Ann', departments: ['Support', 'Billing'], admin: true });
  const ben = await createAgent(services, { name: 'Ben', departments: ['Support'] });
  const cai = await createAgent(services, { name: 'Cai', departments: ['Billing'] });
  await setAgentLanguage(ctx, ben.principal.staffId, 'et', 'Europe/Tallinn');
  await setAgentLanguage(ctx, cai.principal.staffId, 'da', 'Europe/Copenhagen');
  const { ticket } = await services.tickets.create(ann.principal, { name: 'Eve', email: 'eve@example.com', subject: 'Broken', message: 'It broke', source: 'phone' });

  await services.tickets.assign(ann.principal, ticket.number, ben.principal.staffId);
  const assigned = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'alert_assigned')!;
  t.equal(assigned.subject, `Teile määratud [#${ticket.number}] Broken`);
  t.match(assigned.bodyText, `Ann määras pöördumise #${ticket.number} „Broken“ Teile.`);

  const billing = (await services.departments.ensure('Billing')).id;
  await services.tickets.transfer(ann.principal, ticket.number, billing);
  const moved = (await services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'alert_transfer' && m.to.includes(`${cai.username}@staff.test`))!;
  t.equal(moved.subject, `Flyttet [#${ticket.number}] Broken`);
  t.match(moved.bodyText, `Ann har flyttet sag #${ticket.number} „Broken“ fra Support til Billing.`);
  t.match(moved.bodyHtml, '<a href="http://helpdesk.test/scp/tickets/');
});

t.test('the requester’s language costs no statement: it rides on the user row intake writes anyway', async (t) => {
  const ctx = await createTestContext(t, {}, new FrozenClock());
  await createAgent(ctx.services);
  const { port } = await startListener(t, ctx.services);
  const deliver = (who: string, headers: Record<string, string>) =>
    countQueries(ctx.services.db, async () => {
      t.equal((await send(port, message({ from: `${who}@example.com`, subject: `From ${who}`, body: 'Hej', messageId: `${who}@example.com`, headers }), { from: `${who}@example.com`, to: TO })).code, 250);
    });
  await deliver('warm', {});
  ctx.clock.advance(DIRECTORY_REFRESH_MS * 2);
  await deliver('warmer', {});
  const plain = await deliver('plain', {});
  const danish = await deliver('danish', { 'Content-Language': 'da' });
  t.equal(danish.count, plain.count, 'a new sender with Content-Language: as many statements as one without');
  t.equal(await userLanguage(ctx.services, 'danish@example.com'), 'da');
  t.match((await mailFor(ctx.services, 'From danish')).mail.find((m) => m.kind === 'ticket_created')!.bodyText, 'Kære danish');
});

t.test('a response reads the requester’s language with the ticket, not with a lookup of its own', async (t) => {
  const ctx = await createTestContext(t);
  const agent = await createAgent(ctx.services);
  const { ticket } = await ctx.services.tickets.create(agent.principal, { name: 'Mette', email: 'mette@example.dk', subject: 'Printer', message: 'Papirstop', source: 'phone' });
  await ctx.services.users.setLanguage(ticket.userId, 'da');
  const { sql } = await countQueries(ctx.services.db, () => ctx.services.tickets.respond(agent.principal, ticket.number, 'Prøv den anden bakke.'));
  t.notOk(sql.some((s) => /^select\b[^]*\bfrom [`"]users[`"] where/i.test(s.trim())), 'no read of the users row alone');
  const response = (await ctx.services.outbox.forTicket(ticket.id)).find((m) => m.kind === 'response')!;
  t.equal(response.headers['Content-Language'], 'da');
  t.match(response.bodyText, 'Prøv den anden bakke.');
});

/** A mail whose only part is a file: no text at all. */
function attachmentOnly(opts: { from: string; subject: string; messageId: string; headers?: Record<string, string> }): Buffer {
  return Buffer.from([
    `From: ${opts.from}`, 'To: support@helpdesk.test', `Subject: ${opts.subject}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${opts.messageId}>`,
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: application/pdf; name="arve.pdf"', 'Content-Disposition: attachment; filename="arve.pdf"', 'Content-Transfer-Encoding: base64', '',
    Buffer.from('%PDF-1.4 not much').toString('base64'), '--b1--', '',
  ].join('\r\n'), 'utf8');
}

// Intake stores an empty subject or text, a shortening mark and a bounce's kind; each reader sees them in
// their own language: a Danish agent in the panel and their alerts, an Estonian requester in the portal and
// notices. Nothing English is stored for them.
t.test('a mail without subject or text, with only a file, too long, and a bounce: each reader’s language', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const { services } = ctx;
  const agent = await createAgent(services, { name: 'Dorte' });
  await setAgentLanguage(ctx, agent.principal.staffId, 'da', 'Europe/Copenhagen');
  const { port } = await startListener(t, services);
  const from = { from: 'mari@example.ee', to: TO };

  t.equal((await send(port, message({ from: 'Mari <mari@example.ee>', subject: '', body: '', messageId: 'mari-1@example.ee', headers: { 'Content-Language': 'et' } }), from)).code, 250);
  const row = await services.db.knex('tickets').orderBy('id', 'desc').first('id', 'number', 'subject');
  const [ticketId, number] = [Number(row.id), String(row.number)];
  t.equal(row.subject, '', 'the missing subject is stored empty');
  t.same((await services.db.knex('thread_entries').where({ ticket_id: ticketId }).select('body_text')).map((e: { body_text: string }) => e.body_text), [''], 'and the missing text');

  const mail = await services.outbox.forTicket(ticketId);
  const created = mail.find((m) => m.kind === 'ticket_created')!;
  t.equal(created.subject, `[#${number}] (teemata)`, 'the requester’s notice names the missing subject in Estonian');
  t.match(created.bodyText, `Saime Teie pöördumise ja registreerisime selle numbriga #${number}.`, 'the sentence leaves the missing subject out');
  const alert = mail.find((m) => m.kind === 'alert_new_ticket')!;
  t.equal(alert.subject, `Ny sag [#${number}] (intet emne)`, 'the agent’s alert in Danish');
  t.match(alert.bodyText, '(ingen tekst)');

  // An assignment alert's sentence leaves the missing subject out too, in the agent's language.
  const lead = await createAgent(services, { name: 'Lars' });
  await services.tickets.assign(lead.principal, number, agent.principal.staffId);
  const assigned = (await services.outbox.forTicket(ticketId)).find((m) => m.kind === 'alert_assigned')!;
  t.equal(assigned.subject, `Tildelt dig [#${number}] (intet emne)`);
  t.match(assigned.bodyText, `Lars har tildelt dig sag #${number}.`);

  // A reply with only a file, one too long for an entry, then a bounce of our notice.
  const ours = created.messageId!;
  const inReplyTo = { 'In-Reply-To': `<${ours.replace(/[<>]/g, '')}>` };
  t.equal((await send(port, attachmentOnly({ from: 'Mari <mari@example.ee>', subject: 'Re: arve', messageId: 'mari-2@example.ee', headers: inReplyTo }), from)).code, 250);
  const long = `${'Lause, mis kordub. '.repeat(11_000)}LÕPP`;
  t.equal((await send(port, message({ from: 'Mari <mari@example.ee>', subject: 'Re: pikk', body: long, messageId: 'mari-3@example.ee', headers: inReplyTo }), from)).code, 250);
  t.equal((await send(port, fixture('bounce.eml', { ORIGINAL_MESSAGE_ID: ours, NONCE: '1' }), { from: '', to: TO })).code, 250);
  const entries = await services.db.knex('thread_entries').where({ ticket_id: ticketId }).orderBy('id').select('type', 'author_name', 'body_text', 'system_kind', 'body_truncated');
  t.equal(entries.length, 4);
  t.equal(entries[1].body_text, '', 'a file without text: an empty body');
  t.ok(Boolean(entries[2].body_truncated), 'the long text is marked as shortened');
  t.equal(entries[2].body_text.length, 200_000, 'and keeps as much as an entry holds, with no marker in it');
  t.same([entries[3].type, entries[3].author_name, entries[3].system_kind], ['note', '', 'bounce'], 'the bounce: a note of its kind, without an author in some language');
  t.match(entries[3].body_text, '550 5.1.1 User unknown', 'the report itself');
  t.notMatch(entries[3].body_text, 'could not be delivered', 'without an English first line');

  // The Danish agent's panel.
  const app = await createTestApp(t, ctx);
  const staff = new Browser(app);
  await staff.staffLogin(agent.username, agent.password);
  const page = (await staff.get(`/scp/tickets/${number}`)).body;
  t.match(page, `<title>#${number} (intet emne) ·`, 'the tab title');
  t.match(page, `<span class="muted">#${number}</span> (intet emne)</h1>`);
  t.match(page, '(tom besked)');
  t.match(page, '(ingen tekst; se de vedhæftede filer)');
  t.match(page, 'Beskeden er afkortet her; originalen er gemt i sin helhed.');
  t.match(page, '<strong>Mailleveringssystem</strong>');
  t.match(page, 'En mail om denne sag kunne ikke leveres.');
  t.notMatch(page, /no subject|empty message|see the attachments|shortened|Mail delivery|could not be delivered/, 'nothing of it in English');
  t.match((await staff.get('/scp/tickets')).body, `>(intet emne)</a>`, 'the queue row');

  // The Estonian requester in the portal, signed in by the link in their notice; the bounce stays staff-only.
  const link = /http:\/\/helpdesk\.test(\/tickets\/\d+\?t=[^\s"]+)/.exec(created.bodyText)![1]!;
  const portal = new Browser(app);
  const signedIn = await portal.get(link);
  t.ok([200, 302, 303].includes(signedIn.statusCode), 'the access link signs the requester in');
  const view = (await portal.get(`/tickets/${number}`)).body;
  t.match(view, `<title>Pöördumine #${number}: (teemata) ·`);
  t.match(view, '(tühi sõnum)');
  t.match(view, '(teksti pole; vaadake manuseid)');
  t.match(view, 'Sõnum on siin lühendatud; algne sõnum on tervikuna säilitatud.');
  t.notMatch(view, /E-posti edastussüsteem|no subject|empty message/, 'no bounce note, and no English');
  t.match((await portal.get('/tickets')).body, '>(teemata)</a>', 'their list of tickets');
});
