import t, { type Test } from 'tap';
import { createAgent, createTestContext, type TestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

async function setup(t: Test, overrides: Record<string, unknown> = {}) {
  const ctx = await createTestContext(t, overrides);
  const app = await createTestApp(t, ctx);
  const a = await createAgent(ctx.services, { name: 'Alice Answer' });
  const b = await createAgent(ctx.services, { name: 'Bob Second' });
  const alice = new Browser(app);
  const bob = new Browser(app);
  await alice.staffLogin(a.username, a.password);
  await bob.staffLogin(b.username, b.password);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject: 'Printer jam', message: 'It jams.', source: 'web' });
  return { ctx, app, a, b, alice, bob, ticket };
}

/** What public/js/ticket-lock.js sends: a form body with the CSRF token in a header. */
async function api(browser: Browser, url: string, fields: Record<string, string> = {}) {
  const res = await browser.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(fields).toString(),
    headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': browser.csrf, accept: 'application/json' },
  });
  return { status: res.statusCode, body: res.body ? (res.headers['content-type']?.toString().includes('json') ? res.json() : res.body) : null };
}

/** The token a page was handed with the lock it holds ('' when it holds none). */
const pageToken = (html: string) => /data-lock-token="([^"]*)"/.exec(html)?.[1] ?? null;

/** What the page's leave beacon sends: a form body with the CSRF token, and the page's lock token. */
async function leave(browser: Browser, url: string, fields: Record<string, string>) {
  return browser.app.inject({
    method: 'POST', url,
    payload: new URLSearchParams({ _csrf: browser.csrf, ...fields }).toString(),
    headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
  });
}

const textarea = (html: string, name: string) => [...html.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)<\/textarea>/g)].find((m) => m[1] === name)?.[2];
// The page also carries every lock text as a template for its script (data-text-*): look at what it shows.
const lockStatus = (html: string) => /<p id="lock-status"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
const lastEntryId = (html: string) => /name="lastEntryId" value="(\d+)"/.exec(html)?.[1] ?? '';

async function counts(ctx: TestContext, ticketId: number, agentPrincipal: Parameters<TestContext['services']['tickets']['view']>[0], number: string) {
  return {
    entries: (await ctx.services.tickets.view(agentPrincipal, number)).entries.length,
    outbox: (await ctx.services.outbox.forTicket(ticketId)).length,
  };
}

t.test('"Start a reply" takes the lock; the other agent sees it, and their post is refused with their text kept', async (t) => {
  const { ctx, a, b, alice, bob, ticket } = await setup(t);
  const page = `/scp/tickets/${ticket.number}`;

  const plain = await alice.get(page);
  t.equal(await ctx.services.locks.liveLock(ticket.id), null, 'viewing alone takes no lock in activity mode');
  t.match(plain.body, new RegExp(`<form method="post" action="${page}/lock/take" class="take-lock" id="take-lock">\\s*<input type="hidden" name="_csrf" value="[^"]+">\\s*<button type="submit"[^>]*>Start a reply</button>`), 'a reply button in a form, working without JavaScript');
  const started = await alice.post(`${page}/lock/take`, {});
  t.equal(started.statusCode, 302);
  t.equal(started.headers.location, `${page}#reply`, 'back to the ticket, at the reply form');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId);
  const opened = await alice.get(page);
  t.equal(opened.statusCode, 200);
  t.match(lockStatus(opened.body), 'You are answering this ticket');
  t.match(opened.body, 'id="take-lock" hidden', 'no second "Start a reply" while answering');
  t.equal(pageToken(opened.body), (await ctx.services.locks.liveLock(ticket.id))?.token, 'the page carries its lock’s token');

  const seenByBob = await bob.get(page);
  t.match(seenByBob.body, /<strong>Alice Answer<\/strong> is answering this ticket/);
  t.match(seenByBob.body, /Also viewing: Alice Answer/);
  const queue = await bob.get('/scp/tickets');
  t.match(queue.body, /class="lock-mark"[^>]*>🔒 Alice Answer/, 'lock mark in the queue');

  const before = await counts(ctx, ticket.id, b.principal, ticket.number);
  const refused = await bob.post(`${page}/reply`, { message: 'Bob’s careful <answer>', lastEntryId: lastEntryId(seenByBob.body) });
  t.equal(refused.statusCode, 409);
  t.match(refused.body, /Alice Answer is working on this ticket \(locked since \d\d:\d\d UTC, until \d\d:\d\d UTC\)/);
  t.equal(textarea(refused.body, 'message'), 'Bob’s careful &lt;answer&gt;', 'text kept, escaped');
  t.same(await counts(ctx, ticket.id, b.principal, ticket.number), before, 'nothing written, nothing queued');

  const status = await bob.post(`${page}/status`, { status: 'closed' });
  t.equal(status.statusCode, 409);
  t.match(status.body, 'Alice Answer is working on this ticket');
  const props = await bob.post(`${page}/properties`, { priority: '4' });
  t.equal(props.statusCode, 409);
  t.equal((await ctx.services.tickets.get(a.principal, ticket.number)).priority, 2, 'priority unchanged');

  const note = await bob.post(`${page}/note`, { note: 'FYI: customer called' });
  t.equal(note.statusCode, 302, 'notes allowed while locked by default');

  const sent = await alice.post(`${page}/reply`, { message: 'Open the tray.', lastEntryId: lastEntryId((await alice.get(page)).body) });
  t.equal(sent.statusCode, 302, 'the holder posts');
  t.equal(await ctx.services.locks.liveLock(ticket.id), null, 'posting released the lock');
  t.notMatch(lockStatus((await bob.get(page)).body), 'is answering this ticket');

  t.equal((await bob.post(`${page}/lock/take`, {})).statusCode, 302);
  const refusedTake = await alice.post(`${page}/lock/take`, {});
  t.equal(refusedTake.statusCode, 302);
  t.match((await alice.get(page)).body, /class="flash flash-error"[^>]*>Bob Second is working on this ticket/, 'a refused take names the holder');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, b.principal.staffId, 'and leaves their lock alone');
  t.equal((await alice.app.inject({ method: 'POST', url: `${page}/lock/take`, headers: { cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } })).statusCode, 403, 'no CSRF token, no lock');
});

t.test('a GET takes no lock, whatever its query says', async (t) => {
  const { ctx, alice, ticket } = await setup(t);
  const page = `/scp/tickets/${ticket.number}`;
  for (const url of [`${page}?reply=1`, `${page}?reply=1#reply`, `${page}?reply=true&lock=1`]) {
    const res = await alice.get(url);
    t.equal(res.statusCode, 200, url);
    t.notMatch(lockStatus(res.body), 'You are answering this ticket', url);
    t.equal(pageToken(res.body), '', `${url}: the page holds no lock`);
  }
  t.equal(await ctx.services.locks.liveLock(ticket.id), null, 'no lock taken');
});

t.test('the page being left names its lock: a stale page never releases the lock taken since', async (t) => {
  const { ctx, a, alice, bob, ticket } = await setup(t);
  const page = `/scp/tickets/${ticket.number}`;

  // The bug: the page Alice leaves held no lock; "Start a reply" takes it and serves the next page; then the
  // leaving page's beacon arrives.
  const before = await alice.get(page);
  t.equal(pageToken(before.body), '');
  await alice.post(`${page}/lock/take`, {});
  const after = await alice.get(page);
  const token = pageToken(after.body)!;
  t.ok(token, 'the new page holds the lock');
  t.equal((await leave(alice, `${page}/leave`, { token: pageToken(before.body)!, replyDraft: 'from the old page' })).statusCode, 204);
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'the old page’s beacon leaves the lock alone');
  t.equal((await ctx.services.drafts.get(a.principal, ticket.number)).reply?.body, 'from the old page', 'its text is still saved');
  const seenByBob = await bob.get(page);
  t.match(seenByBob.body, /<strong>Alice Answer<\/strong> is answering this ticket/);
  t.equal((await bob.post(`${page}/reply`, { message: 'Bob too', lastEntryId: lastEntryId(seenByBob.body) })).statusCode, 409, 'Bob is held off');

  // A page that took the lock, then a newer page that took it again: the older token names nothing.
  const retaken = await api(alice, `${page}/lock`);
  t.match(retaken.body, { mine: true, token: /^[\w-]{16,}$/ });
  t.not(retaken.body.token, token, 'taking again names a new lock');
  await leave(alice, `${page}/leave`, { token });
  t.equal((await api(alice, `${page}/lock/release`, { token })).status, 204);
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.token, retaken.body.token, 'stale leave and release change nothing');
  t.notOk((await api(alice, `${page}/presence`)).body.token, 'polls never hand out the token');

  await leave(alice, `${page}/leave`, { token: retaken.body.token });
  t.equal(await ctx.services.locks.liveLock(ticket.id), null, 'the page holding the lock releases it by leaving');
});

t.test('lock on view: a reload takes the lock again, so the reloaded page’s beacon does not release it', async (t) => {
  const { ctx, a, alice, ticket } = await setup(t, { locks: { mode: 'view', minutes: 5, notesWhileLocked: true } });
  const page = `/scp/tickets/${ticket.number}`;
  const first = pageToken((await alice.get(page)).body)!;
  const second = pageToken((await alice.get(page)).body)!;
  t.ok(first && second && first !== second, 'each view takes the lock anew');
  await leave(alice, `${page}/leave`, { token: first });
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'still held');
});

t.test('lock API for the page script: take, renew, presence, release, leave', async (t) => {
  const { ctx, a, alice, bob, ticket } = await setup(t);
  const base = `/scp/tickets/${ticket.number}`;
  await alice.get(base);
  await bob.get(base);
  const taken = await api(alice, `${base}/lock`);
  t.equal(taken.status, 200);
  t.match(taken.body, { mine: true, lock: { holderName: 'Alice Answer', holderId: a.principal.staffId, until: /^\d\d:\d\d UTC$/ }, notice: null });
  const other = await api(bob, `${base}/lock`);
  t.match(other.body, { mine: false, lock: { holderName: 'Alice Answer' } });

  ctx.clock.advance(3 * 60_000);
  const renewed = await api(alice, `${base}/lock/renew`);
  await api(alice, `${base}/presence`);
  t.ok(Date.parse(renewed.body.lock.expiresAt) > Date.parse(taken.body.lock.expiresAt), 'renewal extends expiry');
  t.match((await api(bob, `${base}/presence`)).body, { mine: false, lock: { holderName: 'Alice Answer' }, viewers: [{ name: 'Alice Answer' }] });

  t.equal((await api(bob, `${base}/lock/release`, { token: taken.body.token })).status, 204);
  t.ok(await ctx.services.locks.liveLock(ticket.id), 'someone else’s release changes nothing');
  t.equal((await api(alice, `${base}/lock/release`)).status, 204);
  t.ok(await ctx.services.locks.liveLock(ticket.id), 'a release naming no lock changes nothing');
  t.equal((await api(alice, `${base}/lock/release`, { token: taken.body.token })).status, 204);
  t.equal(await ctx.services.locks.liveLock(ticket.id), null);

  const again = await api(alice, `${base}/lock`);
  // sendBeacon cannot set headers: the CSRF token travels in the body, with the lock's token and the last
  // unsaved text.
  const left = await leave(alice, `${base}/leave`, { token: again.body.token, replyDraft: 'typed just before closing' });
  t.equal(left.statusCode, 204);
  t.equal(await ctx.services.locks.liveLock(ticket.id), null, 'leaving released the lock');
  t.same((await api(bob, `${base}/presence`)).body.viewers, [], 'and ended presence');
  t.equal((await ctx.services.drafts.get(a.principal, ticket.number)).reply?.body, 'typed just before closing');

  const forged = await alice.app.inject({ method: 'POST', url: `${base}/lock`, headers: { cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  t.equal(forged.statusCode, 403, 'no CSRF token, no lock');
  const unknown = await api(alice, '/scp/tickets/99999999/lock');
  t.match(unknown, { status: 404, body: { error: { code: 'TICKET_NOT_FOUND' } } });
});

t.test('drafts autosave, survive logout and an expired session, and are deleted by sending', async (t) => {
  const { ctx, a, alice, ticket } = await setup(t);
  const page = `/scp/tickets/${ticket.number}`;
  await alice.get(page);
  t.match(await api(alice, `${page}/draft`, { kind: 'reply', body: 'Half-written answer' }), { status: 200, body: { saved: true } });
  await api(alice, `${page}/draft`, { kind: 'note', body: 'note to self' });
  await alice.post('/scp/logout', {});
  t.equal((await api(alice, `${page}/draft`, { kind: 'reply', body: 'after logout' })).status, 401, 'no session, no save: the page keeps the text');

  await alice.staffLogin(a.username, a.password);
  const back = await alice.get(page);
  t.equal(textarea(back.body, 'message'), 'Half-written answer', 'reply draft restored');
  t.equal(textarea(back.body, 'note'), 'note to self', 'note draft restored');

  ctx.clock.advance(ctx.config.sessions.staffIdleMinutes * 60_000 + 1000);
  t.equal((await api(alice, `${page}/draft`, { kind: 'reply', body: 'x' })).status, 401, 'idle session expired');
  await alice.staffLogin(a.username, a.password);
  t.equal(textarea((await alice.get(page)).body, 'message'), 'Half-written answer', 'still there after the next login');

  const sent = await alice.post(`${page}/reply`, { message: 'Final answer', lastEntryId: lastEntryId((await alice.get(page)).body) });
  t.equal(sent.statusCode, 302);
  t.equal(textarea((await alice.get(page)).body, 'message'), '', 'sending deleted the reply draft');
});

t.test('stale-thread guard: a customer reply during composition is shown, highlighted, above the kept text', async (t) => {
  const { ctx, a, alice, ticket } = await setup(t);
  const page = `/scp/tickets/${ticket.number}`;
  await alice.post(`${page}/lock/take`, {});
  const opened = await alice.get(page);
  const seen = lastEntryId(opened.body);
  const client = { kind: 'client' as const, userId: ticket.userId, ticketId: ticket.id };
  const inbound = await ctx.services.tickets.clientReply(client, ticket.number, 'Update: it is on fire now');
  const outboxBefore = (await ctx.services.outbox.forTicket(ticket.id)).length;

  const stale = await alice.post(`${page}/reply`, { message: 'Have you tried unplugging it?', lastEntryId: seen });
  t.equal(stale.statusCode, 409);
  t.match(stale.body, 'New since you started writing');
  t.match(stale.body, new RegExp(`class="entry entry-message entry-new" id="entry-${inbound}"`));
  t.equal(textarea(stale.body, 'message'), 'Have you tried unplugging it?');
  t.match(stale.body, 'I have read the new entries: send response');
  t.equal(lastEntryId(stale.body), String(inbound), 'the form now carries the newest entry');
  t.equal((await ctx.services.outbox.forTicket(ticket.id)).length, outboxBefore, 'nothing sent');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'lock kept');

  const confirmed = await alice.post(`${page}/reply`, { message: 'Please step away from it.', lastEntryId: lastEntryId(stale.body) });
  t.equal(confirmed.statusCode, 302);
  t.equal((await ctx.services.tickets.view(a.principal, ticket.number)).entries.at(-1)?.bodyText, 'Please step away from it.');
});

t.test('an administrator releases a lock: confirmed button, audited, the holder is told', async (t) => {
  const { ctx, a, alice, bob, ticket } = await setup(t);
  const admin = await createAgent(ctx.services, { admin: true, departments: [], name: 'Ada Admin' });
  const adm = new Browser(alice.app);
  await adm.staffLogin(admin.username, admin.password);
  const page = `/scp/tickets/${ticket.number}`;
  await alice.get(page);
  await alice.post(`${page}/lock/take`, {});

  t.notMatch((await bob.get(page)).body, '/lock/break', 'agents get no release button');
  const forbidden = await bob.post(`${page}/lock/break`, {});
  t.equal(forbidden.statusCode, 403);
  t.ok(await ctx.services.locks.liveLock(ticket.id), 'still locked');

  const adminPage = await adm.get(page);
  t.match(adminPage.body, /<button type="submit" data-confirm="Release the lock held by Alice Answer\?[^"]*">Release lock<\/button>/);
  const released = await adm.post(`${page}/lock/break`, {});
  t.equal(released.statusCode, 302);
  t.match((await adm.get(page)).body, 'Lock held by Alice Answer released.');
  t.equal(await ctx.services.locks.liveLock(ticket.id), null);
  const [audit] = await ctx.services.audit.forObject('ticket', ticket.id);
  t.match(audit, { action: 'ticket.lock_release', staffId: admin.principal.staffId, details: { holderId: a.principal.staffId } });

  await alice.get(page);
  t.match(await api(alice, `${page}/lock/renew`), { status: 200, body: { mine: false, lock: null, notice: { releasedByName: 'Ada Admin' } } });
});

t.test('lock on view, by setting', async (t) => {
  const { ctx, a, alice, bob, ticket } = await setup(t, { locks: { mode: 'view', minutes: 5, notesWhileLocked: false } });
  const page = `/scp/tickets/${ticket.number}`;
  await alice.get(page);
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'viewing took the lock');
  const seen = await bob.get(page);
  t.match(seen.body, 'data-lock-mode="view"');
  t.match(seen.body, 'data-notes-locked="1"');
  t.equal((await bob.post(`${page}/note`, { note: 'blocked' })).statusCode, 409, 'notes locked by setting');
  t.equal(textarea((await bob.post(`${page}/note`, { note: 'kept note' })).body, 'note'), 'kept note');
});
