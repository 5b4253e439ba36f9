import t from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const LIMITS = { maxFileBytes: 2048, maxFiles: 2 };
const ctx = await createTestContext(t, { attachments: LIMITS });
const app = await createTestApp(t, ctx);
const { services } = ctx;

const countRows = async (table: string) => Number((await services.db.q(table).count({ n: '*' }).first())?.n ?? 0);

/** Opens a ticket through the portal form and returns its number, leaving the browser signed in to it. */
async function openTicket(b: Browser, over: Record<string, string> = {}, files: Parameters<Browser['post']>[2] = []): Promise<string> {
  await b.get('/tickets/new');
  const res = await b.post('/tickets/new', { name: 'Ada Lovelace', email: 'ada@example.com', subject: 'Printer on fire', message: 'Smoke everywhere.', ...over }, files);
  if (res.statusCode !== 302) throw new Error(`expected a redirect, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
  const m = /^\/tickets\/(\d+)\/created$/.exec(String(res.headers.location));
  if (!m) throw new Error(`unexpected redirect ${res.headers.location}`);
  return m[1]!;
}

const fieldError = (res: LightMyRequestResponse, field: string) => new RegExp(`id="e-${field}"[^>]*>[^<]+<`).test(res.body);

t.test('home leads to the new-ticket form first and the status check second', async (t) => {
  const res = await new Browser(app).get('/');
  t.equal(res.statusCode, 200);
  t.match(res.body, /<title>Help center/);
  t.ok(res.body.indexOf('href="/tickets/new"') < res.body.indexOf('href="/tickets/status"'), 'new ticket before status check');
});

t.test('open a ticket, see the confirmation, follow it, reply, download attachments', async (t) => {
  const b = new Browser(app);
  const form = await b.get('/tickets/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, /<title>Open a new ticket/);
  for (const f of ['name', 'email', 'topicId', 'subject', 'message', 'attachments']) t.match(form.body, `<label for="f-${f}"`, `label for ${f}`);

  const number = await openTicket(b, {}, [{ field: 'attachments', filename: 'page.html', contentType: 'text/html', data: Buffer.from('<script>alert(1)</script>') }]);
  const created = await b.get(`/tickets/${number}/created`);
  t.equal(created.statusCode, 200);
  t.match(created.body, `#${number}`);
  t.match(created.body, /confirmation e-mail to <strong>ada@example.com/);

  const ticket = (await services.tickets.findByNumber(number))!;
  t.equal(ticket.source, 'web');
  const mail = await services.outbox.forTicket(ticket.id);
  t.equal(mail.length, 1, 'confirmation queued in the outbox');

  const page = await b.get(`/tickets/${number}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<title>Ticket #\d+: Printer on fire/);
  t.match(page.body, 'Smoke everywhere.');
  const link = /href="(\/tickets\/\d+\/attachments\/\d+)"[^>]*>page\.html/.exec(page.body);
  t.ok(link, 'attachment listed as a link');
  const dl = await b.get(link![1]!);
  t.equal(dl.statusCode, 200);
  t.match(dl.headers['content-disposition'], /^attachment; filename="page\.html"/);
  t.equal(dl.headers['x-content-type-options'], 'nosniff');
  t.equal(dl.headers['content-type'], 'application/octet-stream');
  t.equal(dl.body, '<script>alert(1)</script>');

  const empty = await b.post(`/tickets/${number}/reply`, { message: '   ' });
  t.equal(empty.statusCode, 400);
  t.ok(fieldError(empty, 'message'), 'error next to the message field');

  const tooBig = await b.post(`/tickets/${number}/reply`, { message: 'Here is the log.' }, [{ field: 'attachments', filename: 'huge.log', data: Buffer.alloc(LIMITS.maxFileBytes + 1, 97) }]);
  t.equal(tooBig.statusCode, 413);
  t.ok(fieldError(tooBig, 'attachments'));
  t.match(tooBig.body, /huge\.log: larger than/);
  t.match(tooBig.body, />Here is the log\.<\/textarea>/, 'text kept');

  const replied = await b.post(`/tickets/${number}/reply`, { message: 'Still smoking.' }, [{ field: 'attachments', filename: 'photo.png', contentType: 'image/png', data: Buffer.from('png') }]);
  t.equal(replied.statusCode, 302);
  t.match(replied.headers.location, new RegExp(`^/tickets/${number}#entry-\\d+$`));
  const after = await b.get(`/tickets/${number}`);
  t.match(after.body, 'Still smoking.');
  t.match(after.body, 'photo.png');
  t.match(after.body, 'Your reply was added', 'flash after the reply');

  const mine = await b.get('/tickets');
  t.equal(mine.statusCode, 200);
  t.match(mine.body, `#${number}`);

  await b.post('/logout', {});
  t.notOk(b.cookies.has('sb_client'), 'session cookie cleared');
  t.equal((await b.get(`/tickets/${number}`)).statusCode, 404, 'signed out');
  const list = await b.get('/tickets');
  t.equal(list.statusCode, 200);
  t.match(list.body, /not signed in/, 'empty state for visitors');
});

t.test('new-ticket form: missing and malformed fields come back refilled with errors at each field', async (t) => {
  const b = new Browser(app);
  await b.get('/tickets/new');
  const before = await countRows('tickets');

  const empty = await b.post('/tickets/new', { name: '', email: '', subject: '', message: '' });
  t.equal(empty.statusCode, 400);
  for (const f of ['name', 'email', 'subject', 'message']) t.ok(fieldError(empty, f), `error at ${f}`);

  const badEmail = await b.post('/tickets/new', { name: 'Ada', email: 'not an address', subject: 'Kept subject', message: 'Kept <message>' });
  t.equal(badEmail.statusCode, 400);
  t.ok(fieldError(badEmail, 'email'));
  t.notOk(fieldError(badEmail, 'subject'));
  t.match(badEmail.body, 'value="Ada"');
  t.match(badEmail.body, 'value="not an address"');
  t.match(badEmail.body, 'value="Kept subject"');
  t.match(badEmail.body, '>Kept &lt;message&gt;</textarea>', 'message kept and escaped');

  const badTopic = await b.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', subject: 'S', message: 'M', topicId: '999999' });
  t.equal(badTopic.statusCode, 400);
  t.ok(fieldError(badTopic, 'topicId'));

  const tooBig = await b.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', subject: 'With a big file', message: 'See attached.' }, [
    { field: 'attachments', filename: 'big.bin', data: Buffer.alloc(LIMITS.maxFileBytes + 10) },
  ]);
  t.equal(tooBig.statusCode, 413);
  t.ok(fieldError(tooBig, 'attachments'));
  t.match(tooBig.body, 'big.bin: larger than');
  t.match(tooBig.body, 'value="With a big file"', 'other fields kept');

  const tooMany = await b.post('/tickets/new', { name: 'Ada', email: '', subject: 'Many files', message: 'See attached.' }, [1, 2, 3].map((i) => ({ field: 'attachments', filename: `f${i}.txt`, data: Buffer.from(`file ${i}`) })));
  t.equal(tooMany.statusCode, 413);
  t.match(tooMany.body, `Attach at most ${LIMITS.maxFiles} files`);
  t.ok(fieldError(tooMany, 'email'), 'every problem listed at once');

  t.equal(await countRows('tickets'), before, 'nothing written');
});

t.test('a missing or stale CSRF token is refused with 403 and writes nothing', async (t) => {
  const b = new Browser(app);
  await b.get('/tickets/new');
  const before = await countRows('tickets');
  const fields = { name: 'Eve', email: 'eve@example.com', subject: 'Forged', message: 'Forged' };
  const noToken = await app.inject({ method: 'POST', url: '/tickets/new', payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(noToken.statusCode, 403);
  t.match(noToken.body, /expired|did not come from this site/);

  // A token from another browser (another cookie) is as good as none.
  const other = new Browser(app);
  await other.get('/tickets/new');
  const stale = await b.post('/tickets/new', { ...fields, _csrf: other.csrf });
  t.equal(stale.statusCode, 403);
  const multipart = await b.post('/tickets/new', { ...fields, _csrf: 'x' }, [{ field: 'attachments', filename: 'a.txt', data: Buffer.from('a') }]);
  t.equal(multipart.statusCode, 403);
  t.equal(await countRows('tickets'), before, 'nothing written');

  const number = await openTicket(b);
  const entries = await countRows('thread_entries');
  t.equal((await b.post(`/tickets/${number}/reply`, { message: 'forged', _csrf: 'nope' })).statusCode, 403);
  t.equal(await countRows('thread_entries'), entries, 'no reply written');
});

t.test('another client’s ticket and an unknown number get the very same 404', async (t) => {
  const ada = new Browser(app);
  const adaNumber = await openTicket(ada);
  const bob = new Browser(app);
  const bobNumber = await openTicket(bob, { name: 'Bob', email: 'bob@example.com', subject: 'Bob’s secret' }, [{ field: 'attachments', filename: 'bob.txt', data: Buffer.from('bob') }]);
  let unknown = '10000000';
  while (await services.tickets.findByNumber(unknown)) unknown = String(Number(unknown) + 1);

  const theirs = await ada.get(`/tickets/${bobNumber}`);
  const missing = await ada.get(`/tickets/${unknown}`);
  t.equal(theirs.statusCode, 404);
  t.equal(missing.statusCode, 404);
  t.equal(theirs.body, missing.body.replaceAll(unknown, bobNumber), 'identical pages');
  t.notMatch(theirs.body, 'Bob’s secret');

  const anonymous = new Browser(app);
  const anonTheirs = await anonymous.get(`/tickets/${bobNumber}`);
  const anonMissing = await anonymous.get(`/tickets/${unknown}`);
  t.equal(anonTheirs.statusCode, 404);
  t.equal(anonTheirs.body, anonMissing.body.replaceAll(unknown, bobNumber), 'identical for visitors too');

  const bobTicket = (await services.tickets.findByNumber(bobNumber))!;
  const [bobFile] = (await services.tickets.view({ kind: 'client', userId: bobTicket.userId, ticketId: null }, bobNumber)).entries[0]!.attachments;
  t.equal((await ada.get(`/tickets/${bobNumber}/attachments/${bobFile!.id}`)).statusCode, 404, 'no download');
  t.equal((await ada.get(`/tickets/${adaNumber}/attachments/${bobFile!.id}`)).statusCode, 404, 'not through one’s own ticket either');
  const entries = await countRows('thread_entries');
  t.equal((await ada.post(`/tickets/${bobNumber}/reply`, { message: 'hijack' })).statusCode, 404);
  t.equal(await countRows('thread_entries'), entries, 'no reply written');
  t.equal((await ada.get(`/tickets/${adaNumber}`)).statusCode, 200, 'own ticket still fine');
});

t.test('clients never see internal notes or their attachments', async (t) => {
  const agent = await createAgent(services, { admin: true });
  const b = new Browser(app);
  const number = await openTicket(b);
  await services.tickets.note(agent.principal, number, 'INTERNAL-ONLY remark about the customer', [{ filename: 'internal.txt', contentType: 'text/plain', data: Buffer.from('secret') }]);
  await services.tickets.respond(agent.principal, number, 'We are sending a technician.');
  const page = await b.get(`/tickets/${number}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, 'We are sending a technician.');
  t.notMatch(page.body, 'INTERNAL-ONLY');
  t.notMatch(page.body, 'internal.txt');
  const staffView = await services.tickets.view(agent.principal, number);
  const noteFile = staffView.entries.find((e) => e.type === 'note')!.attachments[0]!;
  t.equal((await b.get(`/tickets/${number}/attachments/${noteFile.id}`)).statusCode, 404);
});

t.test('status check with e-mail and ticket number (and /login)', async (t) => {
  const owner = new Browser(app);
  const number = await openTicket(owner, { email: 'Grace@Example.com', name: 'Grace' });
  let unknown = '20000000';
  while (await services.tickets.findByNumber(unknown)) unknown = String(Number(unknown) + 1);

  const b = new Browser(app);
  const form = await b.get('/tickets/status');
  t.equal(form.statusCode, 200);
  t.match(form.body, /<title>Check a ticket’s status/);
  t.match(form.body, '<label for="f-email"');
  t.match(form.body, '<label for="f-number"');

  const blank = await b.post('/tickets/status', { email: 'nope', number: '' });
  t.equal(blank.statusCode, 400);
  t.ok(fieldError(blank, 'email'));
  t.ok(fieldError(blank, 'number'));

  const wrongEmail = await b.post('/tickets/status', { email: 'someone@example.com', number });
  const wrongNumber = await b.post('/tickets/status', { email: 'someone@example.com', number: unknown });
  t.equal(wrongEmail.statusCode, 404);
  t.equal(wrongNumber.statusCode, 404);
  t.match(wrongEmail.body, 'value="someone@example.com"', 'e-mail kept');
  t.equal(wrongEmail.body.replace(number, unknown), wrongNumber.body, 'same answer for both');
  t.notOk(b.cookies.has('sb_client'));

  const ok = await b.post('/tickets/status', { email: 'grace@example.com', number: ` #${number} ` });
  t.equal(ok.statusCode, 302);
  t.equal(ok.headers.location, `/tickets/${number}`);
  t.equal((await b.get(`/tickets/${number}`)).statusCode, 200);

  const viaLogin = new Browser(app);
  t.equal((await viaLogin.get('/login')).statusCode, 200);
  const loginRes = await viaLogin.post('/login', { email: 'GRACE@example.com', number });
  t.equal(loginRes.statusCode, 302);
  t.equal((await viaLogin.get(`/tickets/${number}`)).statusCode, 200);
});

t.test('access links: a valid token opens the ticket once and leaves the URL; a tampered or expired one is refused', async (t) => {
  const owner = new Browser(app);
  const number = await openTicket(owner);
  const other = await openTicket(new Browser(app), { email: 'other@example.com' });
  const ticket = (await services.tickets.findByNumber(number))!;
  const path = new URL(services.tickets.accessLink(ticket)).pathname + new URL(services.tickets.accessLink(ticket)).search;
  const token = new URL(path, 'http://x').searchParams.get('t')!;

  const b = new Browser(app);
  const res = await b.get(path);
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, `/tickets/${number}`, 'redirects to the clean URL');
  t.ok(b.cookies.has('sb_client'), 'session started');
  t.equal((await b.get(`/tickets/${number}`)).statusCode, 200);
  t.equal((await b.get(`/tickets/${other}`)).statusCode, 404, 'the session opens only that ticket');

  const tampered = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  const c = new Browser(app);
  t.equal((await c.get(`/tickets/${number}?t=${tampered}`)).statusCode, 404);
  const otherTicketToken = `/tickets/${other}?t=${token}`;
  t.equal((await c.get(otherTicketToken)).statusCode, 404, 'a token for one ticket opens no other');
  const forged = token.replace(/^(\d+)\./, `${(await services.tickets.findByNumber(other))!.id}.`);
  t.equal((await c.get(`/tickets/${other}?t=${forged}`)).statusCode, 404, 'changed payload');
  t.notOk(c.cookies.has('sb_client'), 'no session from a bad token');

  ctx.clock.advance(31 * 86400_000);
  const expired = new Browser(app);
  const late = await expired.get(path);
  t.equal(late.statusCode, 404);
  t.match(late.body, /not valid any more/);
  t.notOk(expired.cookies.has('sb_client'));
});

t.test('status check is throttled after repeated failures and says when to retry', async (t) => {
  const tctx = await createTestContext(t, { login: { maxFailures: 3, windowMinutes: 15 } });
  const tapp = await createTestApp(t, tctx);
  const owner = new Browser(tapp);
  await owner.get('/tickets/new');
  const created = await owner.post('/tickets/new', { name: 'Kim', email: 'kim@example.com', subject: 'S', message: 'M' });
  const number = /\/tickets\/(\d+)\//.exec(String(created.headers.location))![1]!;

  const b = new Browser(tapp);
  await b.get('/tickets/status');
  for (let i = 0; i < 3; i++) t.equal((await b.post('/tickets/status', { email: 'kim@example.com', number: String(10_000_000 + i) })).statusCode, 404);
  const blocked = await b.post('/tickets/status', { email: 'kim@example.com', number });
  t.equal(blocked.statusCode, 429, 'even the right pair is refused while blocked');
  t.match(blocked.body, /try again/i);
  t.notOk(b.cookies.has('sb_client'));
  tctx.clock.advance(16 * 60_000);
  t.equal((await b.post('/tickets/status', { email: 'kim@example.com', number })).statusCode, 302, 'allowed after the window');
});

t.test('a ticket that is not open says whether replying opens it again: not for one marked as spam, which stays spam', async (t) => {
  const b = new Browser(app);
  const number = await openTicket(b, { email: 'spammy@example.com' });
  const admin = await createAgent(services, { admin: true });
  await services.tickets.setStatus(admin.principal, number, 'resolved');
  t.match((await b.get(`/tickets/${number}`)).body, 'This ticket is resolved. Replying opens it again.');

  await services.ticketRemoval.markSpam(admin.principal, number, { ban: false });
  const page = await b.get(`/tickets/${number}`);
  t.match(page.body, '<p class="hint">This ticket is closed.</p>', 'closed, as the requester is told');
  t.notMatch(page.body, /spam/i, 'the sender is not told it was taken for spam');
  await b.post(`/tickets/${number}/reply`, { message: 'Buy now!' });
  t.equal((await services.tickets.findByNumber(number))!.status, 'spam', 'and replying did not open it');
});
