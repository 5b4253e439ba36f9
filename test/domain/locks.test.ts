import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import type { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { DEFAULT_MAILBOX } from '../../src/mail/mailboxes/mailbox-service.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { PRESENCE_FLUSH_MS } from '../../src/locks/presence-buffer.js';
import { createAgent, createTestContext, type TestContext } from '../helpers/context.js';
import { jsonLineChild } from '../helpers/spawn.js';
import { countQueries } from '../helpers/query-count.js';

const MINUTE = 60_000;

async function newTicket(services: Services, n = 0) {
  const { ticket } = await services.tickets.create(null, { name: 'Cara', email: `cara${n}@example.com`, subject: `Locked ${n}`, message: 'Hello', source: 'web' });
  return ticket;
}

/** A second "node": its own pool and service graph on the same database, sharing only the clock. */
async function node(t: Parameters<typeof createTestContext>[0], ctx: TestContext): Promise<Services> {
  const db = createDatabase(ctx.dbUrl, { poolMax: 4 });
  t.teardown(() => db.close());
  const secrets = await loadSecrets(new SettingsRepository(db));
  return createServices({ db, clock: ctx.clock, config: ctx.config, log: createLogger('silent'), secrets });
}

t.test('agents racing for one ticket: exactly one holds it, every time', async (t) => {
  const ctx = await createTestContext(t);
  const { services, clock } = ctx;
  const nodes = [services, await node(t, ctx), await node(t, ctx)];
  const agents = [];
  for (let i = 0; i < 6; i++) agents.push(await createAgent(services));
  const rounds = 25;
  for (let round = 0; round < rounds; round++) {
    const ticket = await newTicket(services, round);
    // Every other round starts from an expired lock, so the race goes through the conditional update.
    if (round % 2) {
      await services.locks.acquire(agents[0]!.principal, ticket.number);
      clock.advance(6 * MINUTE);
    }
    const results = await Promise.all(agents.map((a, i) => nodes[i % nodes.length]!.locks.acquire(a.principal, ticket.number)));
    const winners = results.filter((r) => r.mine);
    t.equal(winners.length, 1, `round ${round}: one winner`);
    const holder = winners[0]!.lock!.staffId;
    t.ok(results.every((r) => r.lock?.staffId === holder), `round ${round}: everyone sees the same holder`);
  }
});

t.test('two processes on one database enforce the same lock', async (t) => {
  const { services, dbUrl } = await createTestContext(t);
  const a = await createAgent(services, { name: 'Alice Lock' });
  const b = await createAgent(services, { name: 'Bob Other' });
  const ticket = await newTicket(services);
  const { ask, end } = jsonLineChild(t, 'test/helpers/lock-node.ts', { LOCK_NODE_DB: dbUrl });

  t.same(await ask({ op: 'ping' }), { ok: true }, 'second process is up');
  t.ok((await services.locks.acquire(a.principal, ticket.number)).mine, 'A takes the lock here');
  const seen = await ask({ op: 'acquire', staffId: b.principal.staffId, number: ticket.number });
  t.match(seen, { mine: false, holderId: a.principal.staffId }, 'the other process sees A holding it');
  t.match(await ask({ op: 'respond', staffId: b.principal.staffId, number: ticket.number, message: 'from node 2' }), { error: 'LOCK_HELD', holderName: 'Alice Lock' });
  await services.tickets.respond(a.principal, ticket.number, 'from node 1');
  t.match(await ask({ op: 'acquire', staffId: b.principal.staffId, number: ticket.number }), { mine: true }, 'posting released it for the other process');
  await t.rejects(services.tickets.respond(a.principal, ticket.number, 'again'), { code: 'LOCK_HELD', details: { holderName: 'Bob Other' } });
  end();
});

t.test('a post while another agent holds a live lock is refused and writes nothing', async (t) => {
  const { services } = await createTestContext(t);
  const a = await createAgent(services, { name: 'Alice Holder' });
  const b = await createAgent(services);
  const ticket = await newTicket(services);
  const lock = await services.locks.acquire(a.principal, ticket.number);
  t.ok(lock.mine);
  await services.drafts.save(b.principal, ticket.number, 'reply', 'B was typing this');
  const before = (await services.tickets.view(b.principal, ticket.number)).entries.length;
  const outboxBefore = (await services.outbox.forTicket(ticket.id)).length;

  const err = await services.tickets.respond(b.principal, ticket.number, 'B was typing this').catch((e: unknown) => e);
  t.match(err, { code: 'LOCK_HELD', category: 'conflict', details: { holderName: 'Alice Holder', holderId: a.principal.staffId, expiresAt: lock.lock!.expiresAt.toISOString() } });
  t.match((err as AppError).userMessage, { key: 'staff.lock.held_error', params: { name: 'Alice Holder', since: lock.lock!.acquiredAt, until: lock.lock!.expiresAt } }, 'says who holds it, and since and until when');
  for (const [name, attempt] of [
    ['status', () => services.tickets.setStatus(b.principal, ticket.number, 'closed')],
    ['priority', () => services.tickets.setPriority(b.principal, ticket.number, 4)],
    ['assign', () => services.tickets.assign(b.principal, ticket.number, b.principal.staffId)],
    ['transfer', async () => services.tickets.transfer(b.principal, ticket.number, (await services.departments.ensure('Billing')).id)],
  ] as const) {
    await t.rejects(attempt(), { code: 'LOCK_HELD' }, `${name} refused`);
  }
  const after = await services.tickets.view(b.principal, ticket.number);
  t.equal(after.entries.length, before, 'no entry written');
  t.match(after.ticket, { status: 'open', priority: 2, assigneeId: null, departmentId: ticket.departmentId, isAnswered: false });
  t.equal((await services.outbox.forTicket(ticket.id)).length, outboxBefore, 'nothing in the outbox');
  t.equal((await services.drafts.get(b.principal, ticket.number)).reply?.body, 'B was typing this', 'draft kept');
  t.same((await services.audit.forObject('ticket', ticket.id)).map((r) => r.action), [], 'no change audited');

  await services.tickets.note(b.principal, ticket.number, 'notes are allowed while locked by default');
  await services.tickets.setStatus(a.principal, ticket.number, 'resolved');
  t.equal((await services.tickets.get(a.principal, ticket.number)).status, 'resolved', 'the holder may change the ticket');
});

t.test('notes can be locked too, by setting', async (t) => {
  const { services } = await createTestContext(t, { locks: { mode: 'activity', minutes: 5, notesWhileLocked: false } });
  const a = await createAgent(services);
  const b = await createAgent(services);
  const ticket = await newTicket(services);
  await services.locks.acquire(a.principal, ticket.number);
  await t.rejects(services.tickets.note(b.principal, ticket.number, 'blocked'), { code: 'LOCK_HELD' });
  await services.tickets.note(a.principal, ticket.number, 'the holder may');
});

t.test('an expired lock stops counting; renewal extends it; posting releases it and the draft', async (t) => {
  const { services, clock } = await createTestContext(t);
  const a = await createAgent(services);
  const b = await createAgent(services);
  const ticket = await newTicket(services);

  const first = await services.locks.acquire(a.principal, ticket.number);
  clock.advance(4 * MINUTE);
  const renewed = await services.locks.renew(a.principal, ticket.number);
  t.ok(renewed.mine);
  t.ok(renewed.lock!.expiresAt.getTime() >= first.lock!.expiresAt.getTime() + 4 * MINUTE, 'expiry moved by the time that passed');
  t.same(renewed.lock!.acquiredAt, first.lock!.acquiredAt, 'renewal keeps the acquisition time');
  clock.advance(4 * MINUTE);
  await t.rejects(services.tickets.respond(b.principal, ticket.number, 'too early'), { code: 'LOCK_HELD' }, 'live 8 minutes after taking it, thanks to renewal');
  t.notOk((await services.locks.acquire(b.principal, ticket.number)).mine);

  clock.advance(2 * MINUTE);
  t.equal(await services.locks.liveLock(ticket.id), null, 'expired');
  t.notOk((await services.locks.renew(b.principal, ticket.number)).mine, 'renewal never takes a lock');
  await services.drafts.save(b.principal, ticket.number, 'reply', 'now it works');
  await services.drafts.save(b.principal, ticket.number, 'note', 'keep me');
  await services.tickets.respond(b.principal, ticket.number, 'now it works');
  t.equal((await services.outbox.forTicket(ticket.id)).at(-1)?.kind, 'response', 'response queued after expiry');
  const drafts = await services.drafts.get(b.principal, ticket.number);
  t.equal(drafts.reply, undefined, 'reply draft deleted by sending');
  t.equal(drafts.note?.body, 'keep me', 'note draft untouched');

  t.ok((await services.locks.acquire(b.principal, ticket.number)).mine);
  await services.tickets.respond(b.principal, ticket.number, 'second answer');
  t.equal(await services.locks.liveLock(ticket.id), null, 'posting released the lock');

  const taken = await services.locks.acquire(a.principal, ticket.number);
  t.ok(taken.mine);
  const renewedAfterLapse = await services.locks.renew(a.principal, ticket.number);
  t.ok(renewedAfterLapse.mine);
  t.equal(renewedAfterLapse.lock!.token, taken.lock!.token, 'renewal keeps the token');
  await services.locks.release(b.principal, ticket.number, taken.lock!.token);
  t.equal((await services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'release by a non-holder changes nothing');
  await services.locks.release(a.principal, ticket.number, taken.lock!.token);
  t.equal(await services.locks.liveLock(ticket.id), null, 'released by its holder');
});

t.test('stale-thread guard: a mailed reply arriving while the agent writes stops the response', async (t) => {
  const { services } = await createTestContext(t);
  const a = await createAgent(services);
  const ticket = await newTicket(services);
  const seen = (await services.tickets.view(a.principal, ticket.number)).latestEntryId;
  await services.locks.acquire(a.principal, ticket.number);
  await services.drafts.save(a.principal, ticket.number, 'reply', 'Have you tried turning it off?');
  const mail = [
    'From: Cara <cara0@example.com>',
    `To: ${DEFAULT_MAILBOX}@helpdesk.test`,
    `Subject: Re: [#${ticket.number}] Locked 0`,
    'Message-ID: <late-reply-1@example.com>',
    'Date: Sun, 22 Nov 2026 10:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Never mind, it works now',
    '',
  ].join('\r\n');
  const outcome = await services.intake.deliver(Buffer.from(mail), { mailbox: null, envelopeFrom: 'cara0@example.com', source: 'pipe', remoteAddress: null });
  t.match(outcome, { status: 'reply', ticketId: ticket.id }, 'the customer’s mail threads onto the ticket');
  const inbound = (outcome as { entryId: number }).entryId;
  const outboxBefore = (await services.outbox.forTicket(ticket.id)).length;

  const err = await services.tickets.respond(a.principal, ticket.number, 'Have you tried turning it off?', [], { seenEntryId: seen }).catch((e: unknown) => e);
  t.match(err, { code: 'STALE_THREAD', category: 'conflict', details: { newEntryIds: [inbound], latestEntryId: inbound } });
  const view = await services.tickets.view(a.principal, ticket.number);
  t.equal(view.entries.length, 2, 'nothing written');
  t.equal((await services.outbox.forTicket(ticket.id)).length, outboxBefore, 'nothing queued');
  t.equal((await services.drafts.get(a.principal, ticket.number)).reply?.body, 'Have you tried turning it off?', 'draft kept');
  t.ok((await services.locks.liveLock(ticket.id))?.staffId === a.principal.staffId, 'lock kept');

  await services.tickets.respond(a.principal, ticket.number, 'Glad to hear it!', [], { seenEntryId: view.latestEntryId });
  t.equal((await services.tickets.view(a.principal, ticket.number)).entries.at(-1)?.bodyText, 'Glad to hear it!', 'confirmed after seeing the new entry');
});

t.test('drafts are per agent, ticket and kind', async (t) => {
  const { services } = await createTestContext(t);
  const ticket = await newTicket(services);
  const a = await createAgent(services);
  const b = await createAgent(services);
  const other = await createAgent(services, { departments: ['Elsewhere'] });
  await services.drafts.save(a.principal, ticket.number, 'reply', 'first');
  await services.drafts.save(a.principal, ticket.number, 'reply', 'second ✓');
  await services.drafts.save(a.principal, ticket.number, 'note', 'a note');
  await services.drafts.save(b.principal, ticket.number, 'reply', 'b reply');
  const mine = await services.drafts.get(a.principal, ticket.number);
  t.equal(mine.reply?.body, 'second ✓');
  t.equal(mine.note?.body, 'a note');
  t.equal((await services.drafts.get(b.principal, ticket.number)).reply?.body, 'b reply');
  await services.drafts.save(a.principal, ticket.number, 'note', '   ');
  t.equal((await services.drafts.get(a.principal, ticket.number)).note, undefined, 'an empty save deletes');
  await t.rejects(services.drafts.save(a.principal, ticket.number, 'bogus', 'x'), { code: 'VALIDATION_FAILED' });
  await t.rejects(services.drafts.save(a.principal, ticket.number, 'reply', 'x'.repeat(200_001)), { code: 'VALIDATION_FAILED' });
  await t.rejects(services.drafts.save(other.principal, ticket.number, 'reply', 'x'), { code: 'TICKET_NOT_FOUND' });
});

t.test('a release names the lock it means: an older instance’s token never releases a lock taken since', async (t) => {
  const { services, clock } = await createTestContext(t);
  const a = await createAgent(services, { name: 'Alice Pages' });
  const b = await createAgent(services);
  const ticket = await newTicket(services);

  // The first page takes the lock; a second page of the same agent takes it again, as "Start a reply" does.
  const first = await services.locks.acquire(a.principal, ticket.number);
  const second = await services.locks.acquire(a.principal, ticket.number);
  t.ok(first.lock!.token && second.lock!.token, 'each taking is named');
  t.not(second.lock!.token, first.lock!.token, 'taking again issues a new token');
  t.same(second.lock!.acquiredAt, first.lock!.acquiredAt, 'still the same lock for everyone else');
  await services.locks.leave(a.principal, ticket.number, first.lock!.token);
  await services.locks.release(a.principal, ticket.number, first.lock!.token);
  await services.locks.release(a.principal, ticket.number, null);
  t.equal((await services.locks.liveLock(ticket.id))?.token, second.lock!.token, 'the first page’s leave and release change nothing');
  await t.rejects(services.tickets.respond(b.principal, ticket.number, 'B answers too'), { code: 'LOCK_HELD' }, 'B is still held off');

  // Released and taken again: the token of the lock that was released names nothing any more.
  await services.locks.release(a.principal, ticket.number, second.lock!.token);
  t.equal(await services.locks.liveLock(ticket.id), null, 'the newest page releases it');
  const third = await services.locks.acquire(a.principal, ticket.number);
  await services.locks.leave(a.principal, ticket.number, second.lock!.token);
  t.equal((await services.locks.liveLock(ticket.id))?.token, third.lock!.token);

  // Lapsed and taken by someone else, then by A again: the old token still names nothing.
  clock.advance(6 * MINUTE);
  const bLock = await services.locks.acquire(b.principal, ticket.number);
  t.ok(bLock.mine);
  await services.locks.release(b.principal, ticket.number, bLock.lock!.token);
  const fourth = await services.locks.acquire(a.principal, ticket.number);
  await services.locks.leave(a.principal, ticket.number, third.lock!.token);
  t.equal((await services.locks.liveLock(ticket.id))?.token, fourth.lock!.token);

  // Posting releases the lock the post was checked against.
  await services.tickets.respond(a.principal, ticket.number, 'Answered.');
  t.equal(await services.locks.liveLock(ticket.id), null, 'posting released it');
});

t.test('administrators and managers break locks, audited, and the holder is told once', async (t) => {
  const { services } = await createTestContext(t);
  const a = await createAgent(services, { name: 'Alice Holder' });
  const peer = await createAgent(services);
  const admin = await createAgent(services, { admin: true, departments: [], name: 'Ada Admin' });
  const ticket = await newTicket(services);
  await services.locks.acquire(a.principal, ticket.number);
  await t.rejects(services.locks.breakLock(peer.principal, ticket.number), { code: 'LOCK_RELEASE_FORBIDDEN', category: 'forbidden' });

  const broken = await services.locks.breakLock(admin.principal, ticket.number, '192.0.2.7');
  t.equal(broken?.staffId, a.principal.staffId);
  t.equal(await services.locks.liveLock(ticket.id), null);
  const [rec] = await services.audit.forObject('ticket', ticket.id);
  t.match(rec, { action: 'ticket.lock_release', staffId: admin.principal.staffId, ip: '192.0.2.7', details: { holderId: a.principal.staffId, holderName: 'Alice Holder' } });

  const next = await services.locks.renew(a.principal, ticket.number);
  t.match(next, { mine: false, lock: null, notice: { releasedByName: 'Ada Admin', releasedById: admin.principal.staffId } });
  t.equal((await services.locks.renew(a.principal, ticket.number)).notice, null, 'the notice is shown once');
  t.equal(await services.locks.breakLock(admin.principal, ticket.number), null, 'nothing to break');

  const managerId = (await services.departments.ensure('Support')).id;
  const manager = await createAgent(services);
  await services.staff.update(admin.principal, manager.principal.staffId, {
    username: manager.username, email: `${manager.username}@staff.test`, name: 'Mia Manager', isAdmin: false, isActive: true, departments: [{ departmentId: managerId, isManager: true }],
  });
  await services.locks.acquire(peer.principal, ticket.number);
  t.equal((await services.locks.breakLock((await services.staff.principal(manager.principal.staffId))!, ticket.number))?.staffId, peer.principal.staffId, 'a department manager may');
});

t.test('presence is buffered, not written per view, and another node sees it within PRESENCE_FLUSH_MS', async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const other = await node(t, ctx);
  const a = await createAgent(services, { name: 'Alice Here' });
  const b = await createAgent(services, { name: 'Bob There' });
  const ticket = await newTicket(services);
  const { sql } = await countQueries(services.db, () => services.locks.see(a.principal, ticket));
  t.same(sql.filter((s) => /^\s*(insert|update|delete)/i.test(s)), [], 'a view records presence without a write');
  t.same((await services.locks.touch(b.principal, ticket.number)).viewers.map((v) => v.name), ['Alice Here'], 'this node sees it at once');
  const end = Date.now() + 5 * PRESENCE_FLUSH_MS;
  let seen: string[] = [];
  while (Date.now() < end && !seen.length) {
    seen = (await other.locks.touch(b.principal, ticket.number)).viewers.map((v) => v.name);
    if (!seen.length) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(seen, ['Alice Here'], 'the other node sees A once this node flushes');
  await services.locks.leave(a.principal, ticket.number, null);
  t.same((await other.locks.touch(b.principal, ticket.number)).viewers, [], 'leaving ends it everywhere at once');
});

t.test('presence lists the other agents viewing within the window; clean-up purges', async (t) => {
  const { services, clock } = await createTestContext(t);
  const a = await createAgent(services, { name: 'Alice Viewer' });
  const b = await createAgent(services, { name: 'Bob Viewer' });
  const ticket = await newTicket(services);
  t.same((await services.locks.touch(a.principal, ticket.number)).viewers, []);
  const held = await services.locks.acquire(a.principal, ticket.number);
  const seenByB = await services.locks.touch(b.principal, ticket.number);
  t.same(seenByB.viewers.map((v) => v.name), ['Alice Viewer']);
  t.match(seenByB, { mine: false, lock: { holderName: 'Alice Viewer' } });
  clock.advance(20_000);
  t.same((await services.locks.touch(a.principal, ticket.number)).viewers.map((v) => v.name), ['Bob Viewer']);
  clock.advance(15_000);
  t.same((await services.locks.touch(b.principal, ticket.number)).viewers.map((v) => v.name), ['Alice Viewer'], 'A reported 15 s ago');
  await services.locks.leave(a.principal, ticket.number, held.lock!.token);
  t.same((await services.locks.touch(b.principal, ticket.number)).viewers, [], 'leaving ends presence');
  t.equal(await services.locks.liveLock(ticket.id), null, 'and releases the lock');

  await services.locks.acquire(b.principal, ticket.number);
  clock.advance(6 * MINUTE);
  t.ok(services.scheduler.jobNames.includes('locks.purge'), 'the scheduler runs the clean-up');
  const purged = await services.locks.purgeExpired();
  t.match(purged, { locks: 1, presence: 1 });
  t.same(await services.locks.purgeExpired(), { locks: 0, notices: 0, presence: 0 });
});
