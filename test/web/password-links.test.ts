import t from 'tap';
import type { OutboxRow } from '../../src/mail/outbound/outbox-repository.js';
import type { Services } from '../../src/services.js';
import { FrozenClock, createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError, signedInAdmin } from '../helpers/http.js';
import { startSink } from '../helpers/smtp.js';

/** The password mails sent to an address, oldest first. */
async function passwordMail(services: Services, to: string): Promise<OutboxRow[]> {
  const rows = await services.outbox.list({ limit: 100 });
  return rows.filter((m) => m.kind.startsWith('staff_') && m.to.includes(to)).sort((a, b) => a.id - b.id);
}

/** The link's path and query, as the agent would open it from the mail. */
function linkIn(m: OutboxRow): string {
  const link = /http:\/\/helpdesk\.test(\/scp\/password\/reset\?t=[^\s<"]+)/.exec(m.bodyText)?.[1];
  if (!link) throw new Error(`no password link in: ${m.bodyText}`);
  return link;
}

const tokenOf = (path: string) => new URL(path, 'http://x').searchParams.get('t')!;

t.test('forgot password, end to end through the outbox: one link, used once, every session ended', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services, { name: 'Ann Agent' });
  const email = `${agent.username}@staff.test`;

  // A session elsewhere that the reset must end.
  const elsewhere = new Browser(app);
  t.equal((await elsewhere.staffLogin(agent.username, agent.password)).statusCode, 302);

  const b = new Browser(app);
  const login = await b.get('/scp/login');
  t.match(login.body, '<a href="/scp/password/forgot">Forgot your password?</a>', 'the login page offers the way back in');
  const form = await b.get('/scp/password/forgot');
  t.match(form.body, '<title>Forgot password');

  const empty = await b.post('/scp/password/forgot', { login: '  ' });
  t.equal(empty.statusCode, 400);
  t.equal(fieldError(empty.body, 'login'), 'Enter your username or e-mail address.');

  const known = await b.post('/scp/password/forgot', { login: email.toUpperCase() });
  t.equal(known.statusCode, 200);
  const unknown = await new Browser(app).get('/scp/password/forgot').then(async () => b.post('/scp/password/forgot', { login: 'nobody@example.com' }));
  t.equal(unknown.statusCode, 200);
  const said = (body: string) => /<p class="flash flash-info" role="status">([^<]+)<\/p>/.exec(body)?.[1];
  t.ok(said(known.body));
  t.equal(said(unknown.body), said(known.body), 'the same answer whether or not an account matched');

  const [mail, ...more] = await passwordMail(ctx.services, email);
  t.equal(more.length, 0, 'one mail');
  t.equal(mail!.kind, 'staff_reset');
  t.equal(mail!.subject, 'Reset your password for Switchboard Help Desk');
  t.match(mail!.bodyText, 'Hello Ann Agent,');
  t.match(mail!.bodyText, /The link works once, until /);
  t.equal(mail!.headers['Auto-Submitted'], 'auto-generated');
  t.equal((await ctx.services.outbox.list({ limit: 100 })).filter((m) => m.kind.startsWith('staff_')).length, 1, 'nothing sent for the unknown name');

  const link = linkIn(mail!);
  const page = await b.get(link);
  t.equal(page.statusCode, 200);
  t.match(page.body, '<title>Choose a new password');
  t.match(page.body, `Choose a new password for your account ${agent.username}.`);
  t.equal((await b.get(link)).statusCode, 200, 'opening the link changes nothing: it still works');

  const short = await b.post('/scp/password/reset', { t: tokenOf(link), password: 'short', password2: 'short' });
  t.equal(short.statusCode, 400);
  t.match(fieldError(short.body, 'password') ?? '', /at least 10/i);
  t.match(short.body, `name="t" value="${tokenOf(link)}"`, 'the link is kept in the form');
  const differ = await b.post('/scp/password/reset', { t: tokenOf(link), password: 'a brand new secret', password2: 'a brand new secreT' });
  t.equal(differ.statusCode, 400);
  t.ok(fieldError(differ.body, 'password2'));

  const done = await b.post('/scp/password/reset', { t: tokenOf(link), password: 'a brand new secret', password2: 'a brand new secret' });
  t.equal(done.statusCode, 302);
  t.equal(done.headers.location, '/scp/login');
  t.match((await b.get('/scp/login')).body, 'Your password is saved. Sign in with it.');

  t.equal((await elsewhere.get('/scp/')).statusCode, 302, 'the session elsewhere has ended');
  t.equal((await new Browser(app).staffLogin(agent.username, agent.password)).statusCode, 401, 'the old password no longer works');
  t.equal((await new Browser(app).staffLogin(agent.username, 'a brand new secret')).statusCode, 302, 'the new one does');

  const again = await b.get(link);
  t.equal(again.statusCode, 404, 'a used link is refused');
  t.match(again.body, 'This link does not work');
  t.match(again.body, '<a href="/scp/password/forgot">Ask for a new link</a>');
  const reuse = await b.post('/scp/password/reset', { t: tokenOf(link), password: 'yet another secret', password2: 'yet another secret' });
  t.equal(reuse.statusCode, 404, 'and cannot set a password');
  t.equal((await new Browser(app).staffLogin(agent.username, 'a brand new secret')).statusCode, 302);

  const audit = await ctx.services.db.knex('audit_log').where({ action: 'staff.password_set_by_link' }).first();
  t.ok(audit, 'audited');
  t.notMatch(JSON.stringify(audit), tokenOf(link).split('.')[3]!, 'the audit row holds no token');
});

t.test('a link expires, names only its account, and a forged or mangled one gets the same clear page', async (t) => {
  const clock = new FrozenClock();
  const ctx = await createTestContext(t, {}, clock);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const other = await createAgent(ctx.services);
  await ctx.services.accountRecovery.requestReset(agent.username, '203.0.113.9');
  const link = linkIn((await passwordMail(ctx.services, `${agent.username}@staff.test`))[0]!);
  const b = new Browser(app);

  const [id, purpose, expiry, mac] = tokenOf(link).split('.');
  const forged = `/scp/password/reset?t=${(await ctx.services.staff.list()).find((s) => s.username === other.username)!.id}.${purpose}.${expiry}.${mac}`;
  t.equal((await b.get(forged)).statusCode, 404, 'another account’s id with this signature');
  t.equal((await b.get(`/scp/password/reset?t=${id}.invite.${expiry}.${mac}`)).statusCode, 404, 'another purpose');
  for (const bad of ['', 'x', '1.reset.1.' + 'A'.repeat(43), '%00', 'a'.repeat(5000)]) {
    const res = await b.get(`/scp/password/reset?t=${encodeURIComponent(bad)}`);
    t.equal(res.statusCode, 404, `refused: ${bad.slice(0, 20)}`);
    t.match(res.body, 'This link does not work');
  }

  t.equal((await b.get(link)).statusCode, 200);
  clock.advance(61 * 60_000);
  t.equal((await b.get(link)).statusCode, 404, 'an hour later it has expired');
});

t.test('requests are limited per address (429, said) and per account (silently, the same page)', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  b.remoteAddress = '198.51.100.7';
  await b.get('/scp/password/forgot');
  for (let i = 0; i < 5; i++) t.equal((await b.post('/scp/password/forgot', { login: agent.username })).statusCode, 200);
  t.equal((await passwordMail(ctx.services, `${agent.username}@staff.test`)).length, 3, 'at most 3 links an hour reach one account');
  for (let i = 0; i < 5; i++) await b.post('/scp/password/forgot', { login: `nobody${i}` });
  const limited = await b.post('/scp/password/forgot', { login: agent.username });
  t.equal(limited.statusCode, 429);
  t.match(limited.body, 'Too many requests for password links from your address.');
  t.match(limited.body, /You can try again/);
  t.match(limited.body, `value="${agent.username}"`, 'the form keeps what was typed');

  const inactive = await createAgent(ctx.services);
  const row = (await ctx.services.staff.list()).find((s) => s.username === inactive.username)!;
  await ctx.services.db.knex('staff').where({ id: row.id }).update({ is_active: false });
  const fresh = new Browser(app);
  await fresh.get('/scp/password/forgot');
  t.equal((await fresh.post('/scp/password/forgot', { login: inactive.username })).statusCode, 200);
  t.equal((await passwordMail(ctx.services, `${inactive.username}@staff.test`)).length, 0, 'a deactivated account gets no link');
});

t.test('an administrator invites an agent, who chooses their own password in their own language', async (t) => {
  const { ctx, app, b } = await signedInAdmin(t);
  await b.get('/scp/admin/staff/new');
  const support = (await ctx.services.departments.ensure('Support')).id;
  const created = await b.post('/scp/admin/staff/new', { name: 'Mette Madsen', email: 'mette@example.dk', username: 'mette', password: '', timezone: 'Europe/Copenhagen', language: 'da', dept: String(support) });
  t.equal(created.statusCode, 302);
  const list = await b.get('/scp/admin/staff');
  t.match(list.body, 'An invitation to choose a password is on its way to mette@example.dk.');
  t.match(list.body, /<td>mette<\/td>[^]*?status-invited">Invited</);
  t.equal((await new Browser(app).staffLogin('mette', '')).statusCode, 401, 'no password signs in to an invited account');
  t.equal((await new Browser(app).staffLogin('mette', '!')).statusCode, 401);

  const [invite] = await passwordMail(ctx.services, 'mette@example.dk');
  t.equal(invite!.kind, 'staff_invite');
  t.equal(invite!.subject, 'Din medarbejderkonto hos Switchboard Help Desk', 'in the language the administrator chose for her');
  t.equal(invite!.headers['Content-Language'], 'da');
  t.match(invite!.bodyText, 'Dit brugernavn er mette.');
  t.match(invite!.bodyText, /Linket virker én gang, indtil \d/);

  // The administrator cannot read the link while it is queued.
  const queued = await b.get(`/scp/admin/outbox/${invite!.id}`);
  t.equal(queued.statusCode, 200);
  t.notMatch(queued.body, tokenOf(linkIn(invite!)), 'the outbox page does not show the link');
  t.match(queued.body, 'Not shown: this mail carries a link that sets the agent’s password.');

  // Sent again from the agent's page: both links work until a password is set.
  const staffId = (await ctx.services.staff.list()).find((s) => s.username === 'mette')!.id;
  const edit = await b.get(`/scp/admin/staff/${staffId}`);
  t.match(edit.body, 'Send the invitation again');
  t.equal((await b.post(`/scp/admin/staff/${staffId}/password-link`, {})).statusCode, 302);
  const [, second] = await passwordMail(ctx.services, 'mette@example.dk');
  t.equal(second!.kind, 'staff_invite');

  const mette = new Browser(app);
  const page = await mette.get(linkIn(invite!), { 'accept-language': 'da' });
  t.equal(page.statusCode, 200);
  t.match(page.body, '<title>Velkommen: vælg din adgangskode', 'the page follows the browser (nobody is signed in)');
  await mette.post('/scp/password/reset', { t: tokenOf(linkIn(invite!)), password: 'mettes own secret', password2: 'mettes own secret' });
  t.equal((await mette.staffLogin('mette', 'mettes own secret')).statusCode, 302);
  t.equal((await mette.get(linkIn(second!))).statusCode, 404, 'the second invitation died with the first use');

  const after = await b.get(`/scp/admin/staff/${staffId}`);
  t.match(after.body, 'Send a link to choose a new password', 'now a reset link, not an invitation');
  t.notMatch((await b.get('/scp/admin/staff')).body, 'status-invited');

  const audit = await ctx.services.db.knex('audit_log').where({ action: 'staff.create' }).orderBy('id', 'desc').first();
  t.match(JSON.parse(audit.details), { invited: true });
});

t.test('delivered, the stored copy keeps no usable link', async (t) => {
  const sink = await startSink(t);
  const ctx = await createTestContext(t, { outboundSmtpUrl: sink.url });
  const agent = await createAgent(ctx.services);
  await ctx.services.accountRecovery.requestReset(agent.username, '192.0.2.1');
  const [queued] = await passwordMail(ctx.services, `${agent.username}@staff.test`);
  const token = tokenOf(linkIn(queued!));
  await ctx.services.delivery.drain();
  t.match(sink.messages[0]!.parsed.text ?? '', token, 'the agent got the link');
  const stored = (await ctx.services.outbox.get(queued!.id))!;
  t.equal(stored.status, 'sent');
  t.notMatch(stored.bodyText, token);
  t.notMatch(stored.bodyHtml ?? '', token);
  t.match(stored.bodyText, 'http://helpdesk.test/scp/password/reset');
});

t.test('a signed-in agent asking for the forgot page goes to their preferences', async (t) => {
  const { b } = await signedInAdmin(t);
  const res = await b.get('/scp/password/forgot');
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, '/scp/preferences');
});
