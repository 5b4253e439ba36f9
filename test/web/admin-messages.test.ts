import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
const b = new Browser(app);
await b.staffLogin(admin.username, admin.password);

t.test('the Admin index lists every section of the admin menu, each with a description', async (t) => {
  const index = await b.get('/scp/admin/');
  t.equal(index.statusCode, 200);
  const nav = [...(await b.get('/scp/admin/staff')).body.matchAll(/<nav class="tabs admin-nav"[\s\S]*?<\/nav>/g)][0]![0];
  const sections = [...nav.matchAll(/href="(\/scp\/admin\/[a-z-]+)"/g)].map((m) => m[1]!);
  t.ok(sections.length >= 8, 'the menu has its sections');
  for (const href of sections) t.match(index.body, new RegExp(`<li><a href="${href}">[^<]+</a> — [^<]{10,}</li>`), `${href} listed with a line`);
});

t.test('outbox: human kinds, a message page with headers and rendered body, send now, cancel after confirming', async (t) => {
  const { ticket } = await services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Printer <b>on fire</b>', message: 'Help', source: 'web' });
  const rows = await services.outbox.forTicket(ticket.id);
  const confirmation = rows.find((m) => m.kind === 'ticket_created')!;

  const list = await b.get('/scp/admin/outbox');
  t.match(list.body, '<td data-label="Kind">New-ticket confirmation</td>');
  t.match(list.body, '<td data-label="Kind">New-ticket alert</td>');
  t.notMatch(list.body, '>alert_new_ticket<', 'no internal kind names');
  t.match(list.body, `href="/scp/admin/outbox/${confirmation.id}"`);

  const page = await b.get(`/scp/admin/outbox/${confirmation.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<title>Outgoing message \d+ ·/);
  t.match(page.body, '<dt>To</dt><dd>rita@example.com</dd>');
  t.match(page.body, `&lt;${confirmation.messageId}&gt;`, 'the Message-ID');
  t.match(page.body, '<dt>Auto-Submitted</dt><dd class="wrap">auto-replied</dd>', 'the extra headers');
  t.match(page.body, /<div class="entry-body entry-html">[\s\S]*<p>Dear Rita,<\/p>/, 'the HTML body, rendered');
  t.match(page.body, 'Printer &lt;b&gt;on fire&lt;/b&gt;', 'escaped where the notice escaped it');
  t.notMatch(page.body, '<!doctype html><html><body>', 'document wrappers dropped by the sanitiser');
  t.equal((await b.get('/scp/admin/outbox/999999')).statusCode, 404);

  // Send now: POST with CSRF, audited.
  const csrf = b.csrf;
  b.csrf = 'wrong';
  t.equal((await b.post(`/scp/admin/outbox/${confirmation.id}/retry`, {})).statusCode, 403, 'CSRF checked');
  b.csrf = csrf;
  t.equal((await b.post(`/scp/admin/outbox/${confirmation.id}/retry`, {})).statusCode, 302);
  t.ok(await services.db.q('audit_log').where({ action: 'outbox.retry', object_id: String(confirmation.id) }).first(), 'retry audited');

  // Cancel: a confirmation page first, then the POST.
  t.match(page.body, `href="/scp/admin/outbox/${confirmation.id}/cancel"`);
  const confirm = await b.get(`/scp/admin/outbox/${confirmation.id}/cancel`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, 'Cancel this message?');
  t.equal((await services.outbox.get(confirmation.id))!.status, 'pending', 'the confirmation page changes nothing');
  t.equal((await b.post(`/scp/admin/outbox/${confirmation.id}/cancel`, {})).statusCode, 302);
  t.equal((await services.outbox.get(confirmation.id))!.status, 'cancelled');
  t.ok(await services.db.q('audit_log').where({ action: 'outbox.cancel', object_id: String(confirmation.id) }).first(), 'cancel audited');
  t.equal((await b.post(`/scp/admin/outbox/${confirmation.id}/cancel`, {})).statusCode, 404, 'only once');
  t.match((await b.get('/scp/admin/outbox?status=cancelled')).body, `href="/scp/admin/outbox/${confirmation.id}"`, 'listed under Cancelled');
  const claimed = await services.outbox.claim({ token: 'test', now: new Date(Date.now() + 3600_000), staleBefore: new Date(0), limit: 100 });
  t.notOk(claimed.some((m) => m.id === confirmation.id), 'a cancelled message is never sent');
});

t.test('inbound mail: the message page shows the body, sanitised', async (t) => {
  const { key } = await services.apiKeys.create({ name: 'mta' });
  const raw = Buffer.from([
    'From: Mallory <mallory@example.com>',
    'To: support@helpdesk.test',
    'Subject: Hello there',
    'Message-ID: <in-1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Visible words</p><script>alert(1)</script><img src="https://tracker.example/x.png" onerror="alert(2)">',
    '',
  ].join('\r\n'));
  const res = await app.inject({ method: 'POST', url: '/api/tickets.email', payload: raw, headers: { 'content-type': 'message/rfc822', 'x-api-key': key } });
  t.equal(res.statusCode, 201);
  const row = (await services.db.q('inbound_messages').orderBy('id', 'desc').first()) as { id: number };
  const page = await b.get(`/scp/admin/quarantine/${row.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '<p>Visible words</p>');
  t.notMatch(page.body, 'alert(1)');
  t.notMatch(page.body, 'onerror');
  t.notMatch(page.body, 'tracker.example/x.png"', 'remote images held back');
});
