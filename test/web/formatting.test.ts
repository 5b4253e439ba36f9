import t, { type Test } from 'tap';
import type { TestContext } from '../helpers/context.js';
import { Browser, signedInAgent } from '../helpers/http.js';
import { startSink } from '../helpers/smtp.js';

/** A 1×1 PNG, as a browser's clipboard would hand over a pasted screenshot. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const MARKDOWN = [
  '**Restart** the *router*, then run `ipconfig /renew`:',
  '',
  '- unplug it',
  '- wait 10 s',
  '',
  '> the lights go green',
  '',
  '[the guide](https://example.com/guide) [bad](javascript:alert(1)) <script>alert(1)</script> <b>raw</b>',
].join('\n');

async function setup(t: Test, overrides: Record<string, unknown> = {}) {
  const { ctx, app, agent, b } = await signedInAgent(t, overrides);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Dana', email: 'dana@example.com', subject: 'VPN down', message: 'It does not connect.', source: 'email' });
  return { ctx, app, agent, b, ticket };
}

/** The stored entries of a ticket, oldest first. */
async function stored(ctx: TestContext, ticketId: number): Promise<Array<{ type: string; body_text: string; body_html: string | null }>> {
  return ctx.services.db.knex('thread_entries').where({ ticket_id: ticketId }).orderBy('id').select('type', 'body_text', 'body_html');
}

const responses = async (ctx: TestContext, ticketId: number) => (await ctx.services.outbox.forTicket(ticketId)).filter((o) => o.kind === 'response');

/** The response's mail as the relay received it, after a delivery run. */
async function responseMail(ctx: TestContext, sink: Awaited<ReturnType<typeof startSink>>, ticketId: number) {
  const [queued] = await responses(ctx, ticketId);
  await ctx.services.delivery.drain();
  return sink.messages.find((m) => m.parsed.messageId === `<${queued!.messageId}>`)!;
}

/** The thread's entries of a type, as the page shows them. */
const entriesOf = (body: string, type: string) => body.split('<article').map((a) => a.split('</article>')[0]!).filter((a) => a.includes(`entry entry-${type}`)).join('\n');

t.test('a response in Markdown: stored with its HTML, shown formatted, mailed as HTML and text', async (t) => {
  const sink = await startSink(t);
  const { ctx, app, b, ticket } = await setup(t, { outboundSmtpUrl: sink.url });
  await b.get(`/scp/tickets/${ticket.number}`);
  const sent = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: MARKDOWN, signature: 'none' });
  t.equal(sent.statusCode, 302);

  const [entry] = (await stored(ctx, ticket.id)).filter((e) => e.type === 'response');
  t.equal(entry!.body_text, MARKDOWN, 'the Markdown is kept as written');
  t.match(entry!.body_html, '<strong>Restart</strong>');

  const shown = entriesOf((await b.get(`/scp/tickets/${ticket.number}`)).body, 'response');
  for (const html of ['<strong>Restart</strong>', '<em>router</em>', '<code>ipconfig /renew</code>', '<li>unplug it</li>', '<blockquote>', 'href="https://example.com/guide"']) t.match(shown, html);
  t.notMatch(shown, /href="javascript/i, 'a script link is no link');
  t.notMatch(shown, '<script>');
  t.notMatch(shown, '<b>raw</b>', 'HTML in the Markdown is text');
  t.match(shown, '&lt;b&gt;raw&lt;/b&gt;');

  const [queued] = await responses(ctx, ticket.id);
  t.match(queued!.bodyText, '**Restart** the *router*', 'the plain-text part is the Markdown');
  t.match(queued!.bodyHtml, '<strong>Restart</strong>');
  t.notMatch(queued!.bodyHtml, /href="javascript/i);

  // The requester reads the same formatting in the help center, through the mail's link.
  const requester = new Browser(app);
  await requester.get(/http:\/\/helpdesk\.test(\/tickets\/\d+\?t=[A-Za-z0-9._-]+)/.exec(queued!.bodyText)![1]!);
  const portal = entriesOf((await requester.get(`/tickets/${ticket.number}`)).body, 'response');
  t.match(portal, '<strong>Restart</strong>');
  t.match(portal, '<li>unplug it</li>');
  const mail = await responseMail(ctx, sink, ticket.id);
  t.ok(mail, 'the response was mailed');
  t.match(mail.parsed.text, '- unplug it');
  t.match(String(mail.parsed.html), '<li>unplug it</li>');
});

t.test('the signature stays as written below the formatted text', async (t) => {
  const { ctx, b, ticket, agent } = await setup(t);
  await ctx.services.staff.updateProfile(agent.principal, { name: 'Alan Turing', email: `${agent.username}@staff.test`, signature: 'Alan_T\n*Support*', password: '' });
  await b.get(`/scp/tickets/${ticket.number}`);
  t.equal((await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Fixed *now*.', signature: 'mine' })).statusCode, 302);
  const [entry] = (await stored(ctx, ticket.id)).filter((e) => e.type === 'response');
  t.match(entry!.body_html, '<em>now</em>');
  t.match(entry!.body_html, '<p>Alan_T<br>*Support*</p>', 'the signature is not Markdown');
});

t.test('responses stored before formatting read as they were', async (t) => {
  const { ctx, b, ticket, agent } = await setup(t);
  await ctx.services.tickets.respond(agent.principal, ticket.number, 'Plain **as typed** <i>x</i>');
  const shown = entriesOf((await b.get(`/scp/tickets/${ticket.number}`)).body, 'response');
  t.match(shown, '<div class="entry-body">Plain **as typed** &lt;i&gt;x&lt;/i&gt;</div>');
  t.notMatch(shown, 'entry-html');
});

t.test('preview without script: the page again, text kept and shown formatted, nothing written', async (t) => {
  const { ctx, b, ticket, agent } = await setup(t);
  await b.get(`/scp/tickets/${ticket.number}`);
  const res = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: MARKDOWN, preview: 'reply', signature: 'none' });
  t.equal(res.statusCode, 200);
  t.match(res.body, /<textarea id="f-message" name="message"[^>]*>\*\*Restart\*\* the \*router\*/, 'the text is kept');
  const preview = /<div class="format-preview" id="preview-reply"[^>]*>([\s\S]*?)<\/div>\s*<\/div>/.exec(res.body);
  t.ok(preview, 'the reply preview is shown');
  t.notMatch(preview![0], ' hidden', 'and not hidden');
  t.match(preview![1], '<strong>Restart</strong>');
  t.notMatch(preview![1], '<script>');
  t.match(res.body, /id="preview-note"[^>]* hidden/, 'the note form has no preview');
  t.same((await stored(ctx, ticket.id)).map((e) => e.type), ['message'], 'nothing was written');
  t.same(await responses(ctx, ticket.id), [], 'nothing was mailed');

  const note = await b.post(`/scp/tickets/${ticket.number}/note`, { note: '*checked* the logs', preview: 'note' });
  t.equal(note.statusCode, 200);
  t.match(note.body, /id="preview-note"(?![^>]* hidden)[^>]*>[\s\S]*<em>checked<\/em>/);
  t.match(note.body, />\*checked\* the logs<\/textarea>/);

  // An entry that came while the agent wrote is marked new on the preview page, as a refused send would mark it.
  const seen = /name="lastEntryId" value="(\d+)"/.exec(res.body)![1]!;
  t.notMatch(res.body, 'id="new-entries"');
  await ctx.services.tickets.note(agent.principal, ticket.number, 'Meanwhile: the router was replaced.');
  const later = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'x', preview: 'reply', lastEntryId: seen });
  t.match(later.body, /id="new-entries"[\s\S]*Meanwhile: the router was replaced/);

  const empty = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: '', preview: 'reply' });
  t.equal(empty.statusCode, 200);
  t.match(empty.body, 'Nothing to preview yet.');
});

t.test('the script preview: rendered HTML for an agent who may see the ticket, with the CSRF token', async (t) => {
  const { ctx, app, b, ticket } = await setup(t);
  await b.get(`/scp/tickets/${ticket.number}`);
  const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const ask = (number: string, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: `/scp/tickets/${number}/preview`, payload: new URLSearchParams({ text: '**hi** ![shot](cid:image-1.png) ![x](https://tracker.example/p.gif)' }).toString(), headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers } });
  const ok = await ask(ticket.number, { 'x-csrf-token': b.csrf });
  t.equal(ok.statusCode, 200);
  const html = ok.json().html as string;
  t.match(html, '<strong>hi</strong>');
  t.match(html, '<img src="cid:image-1.png" alt="shot"');
  t.notMatch(html, 'tracker.example', 'no image by URL');
  t.equal((await ask(ticket.number, {})).statusCode, 403, 'no token, no preview');

  const other = await ctx.services.departments.ensure('Billing');
  const { ticket: hidden } = await ctx.services.tickets.create(null, { name: 'Eve', email: 'eve@example.com', subject: 'Invoice', message: 'x', source: 'web', departmentId: other.id });
  t.equal((await ask(hidden.number, { 'x-csrf-token': b.csrf })).statusCode, 404, 'a ticket of another department is not found');
});

t.test('a pasted image: an attachment shown inline in the thread and mailed as a related part', async (t) => {
  const sink = await startSink(t);
  const { ctx, b, ticket } = await setup(t, { outboundSmtpUrl: sink.url });
  await b.get(`/scp/tickets/${ticket.number}`);
  const name = 'image-abc-123.png';
  const sent = await b.post(
    `/scp/tickets/${ticket.number}/reply`,
    { message: `Here:\n\n![${name}](cid:${name})`, signature: 'none' },
    [{ field: 'attachments', filename: name, contentType: 'image/png', data: PNG }, { field: 'attachments', filename: 'log.txt', contentType: 'text/plain', data: Buffer.from('log') }],
  );
  t.equal(sent.statusCode, 302);
  const page = (await b.get(`/scp/tickets/${ticket.number}`)).body;
  const img = new RegExp(`<img src="(/scp/tickets/${ticket.number}/attachments/\\d+/image)" alt="${name}"`).exec(page);
  t.ok(img, 'the image is shown in place');
  const served = await b.get(img![1]!);
  t.equal(served.statusCode, 200);
  t.equal(served.headers['content-type'], 'image/png');

  const mail = await responseMail(ctx, sink, ticket.id);
  const inline = mail.parsed.attachments.find((a) => a.filename === name)!;
  t.ok(inline, 'the image travels with the mail');
  t.equal(inline.cid, name, 'with the Content-ID the HTML points at');
  t.match(mail.raw.toString('latin1'), 'multipart/related');
  t.ok(mail.parsed.attachments.some((a) => a.filename === 'log.txt' && !a.cid), 'other files as plain attachments');
});

t.test('a note in Markdown is shown formatted, never mailed', async (t) => {
  const { ctx, b, ticket } = await setup(t);
  await b.get(`/scp/tickets/${ticket.number}`);
  t.equal((await b.post(`/scp/tickets/${ticket.number}/note`, { note: '1. check *DNS*\n2. check `route`' })).statusCode, 302);
  const shown = entriesOf((await b.get(`/scp/tickets/${ticket.number}`)).body, 'note');
  t.match(shown, /<ol>\s*<li>check <em>DNS<\/em><\/li>/);
  t.same(await responses(ctx, ticket.id), []);
});
