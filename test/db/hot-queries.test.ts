import t from 'tap';
import { createHash } from 'node:crypto';
import { InboundRepository } from '../../src/mail/inbound/inbound-repository.js';
import { LockRepository } from '../../src/locks/lock-repository.js';
import { toDbTime } from '../../src/db/time.js';
import { createTestContext } from '../helpers/context.js';

/**
 * Every hot query on the outbox, the inbound log, sessions, the audit log, presence and pending alerts reads an index: the
 * statements the repositories really emit are captured and EXPLAINed on MariaDB over a few thousand rows, and
 * a full table scan (type ALL) or a walk of the whole primary key, fails the test. SQLite plans differently and has its own index rules.
 */
const mysql = (process.env.TEST_DATABASE_URL ?? '').startsWith('mysql://');
const HOT = ['outbox', 'inbound_messages', 'sessions', 'audit_log', 'ticket_presence', 'thread_entries'];
const ROWS = 3000;
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('hot queries use an index', { skip: mysql ? false : 'EXPLAIN plans are checked on MariaDB (set TEST_DATABASE_URL)' }, async (t) => {
  const { services, clock } = await createTestContext(t);
  const { db, outbox, sessions, audit } = services;
  const inbound = new InboundRepository(db);
  const locks = new LockRepository(db);
  const now = clock.now();
  const at = toDbTime(now);
  // Spread over 60 days, so that each purge deletes a part and the plans are those of a full table.
  const daysAgo = (i: number) => toDbTime(new Date(now.getTime() - (i % 60) * 86_400_000));

  // Rows in the shape a desk that has run for a while has: mostly sent mail, handled messages, old records.
  const batches = <T>(make: (i: number) => T) => Array.from({ length: ROWS }, (_, i) => make(i));
  await db.knex.transaction(async (trx) => {
    await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
    const rows = {
      outbox: batches((i) => ({
        kind: 'response', to_addresses: '["a@example.com"]', subject: 's', body_text: 'b', headers: '{}', attempts: 1,
        status: i % 100 === 0 ? 'pending' : i % 50 === 0 ? 'failed' : 'sent', next_attempt_at: daysAgo(i), created_at: daysAgo(i), sent_at: daysAgo(i),
      })),
      inbound_messages: batches((i) => ({
        mailbox_id: 1, message_id_hash: hex(`m${i}`), size: 1, raw: 'x', status: i % 100 === 0 ? 'quarantined' : 'ticket', source: 'smtp', received_at: daysAgo(i),
      })),
      sessions: batches((i) => ({ id_hash: hex(`s${i}`), kind: 'staff', staff_id: (i % 40) + 1, created_at: at, expires_at: daysAgo(i) })),
      audit_log: batches((i) => ({ action: 'x', object_type: 'ticket', object_id: String(i % 300), details: '{}', created_at: daysAgo(i) })),
      ticket_presence: batches((i) => ({ ticket_id: Math.floor(i / 10) + 1, staff_id: (i % 10) + 1, seen_at: daysAgo(i) })),
      thread_entries: batches((i) => ({
        ticket_id: Math.floor(i / 10) + 1, type: 'message', author_name: 'a', body_text: 'b', source: 'email', created_at: daysAgo(i), from_non_participant: false, alert_pending: i % 100 === 0 ? true : null,
      })),
    };
    for (const [table, list] of Object.entries(rows)) for (let i = 0; i < list.length; i += 500) await trx(table).insert(list.slice(i, i + 500));
    await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
  });
  for (const table of HOT) await db.knex.raw('ANALYZE TABLE ??', [table]);

  const captured: Array<{ sql: string; bindings: unknown[] }> = [];
  db.knex.on('query', (q: { sql: string; bindings?: unknown[] }) => captured.push({ sql: q.sql, bindings: q.bindings ?? [] }));

  // The outbox: a delivery batch, its heartbeat and hand-back, the admin views, the retention purge.
  const claimed = await outbox.claim({ token: 'tok', now, staleBefore: new Date(now.getTime() - 30_000), limit: 20 });
  await outbox.touchClaims('tok', now);
  await outbox.markSent(claimed[0]!.id, 'tok', now);
  await outbox.markRetry(claimed[1]!.id, 'tok', { attempts: 2, nextAttemptAt: now, error: 'e' });
  await outbox.releaseClaims('tok');
  await outbox.list({ status: 'failed', limit: 25 });
  await outbox.purge(['sent'], new Date(now.getTime() - 50 * 86_400_000), 100);
  await outbox.purge(['failed', 'cancelled'], new Date(now.getTime() - 50 * 86_400_000), 100);
  // The inbound log: the dedupe check, the admin list, the purge.
  await inbound.exists(1, hex('m5'));
  await inbound.list({ status: 'quarantined', limit: 25 });
  await inbound.purgeHandled(new Date(now.getTime() - 50 * 86_400_000), 100);
  // Sessions: every request resolves one; sign-out, staff changes and the purge.
  await sessions.resolve('A'.repeat(43), 'staff', 60, 600);
  await sessions.destroyForStaff(7);
  await sessions.purgeExpired();
  // The audit log of one object, and its purge.
  await audit.forObject('ticket', 5);
  await audit.purgeOlderThan(new Date(now.getTime() - 50 * 86_400_000), 100);
  // Presence: who else is viewing a ticket, and the purge.
  await locks.liveWithViewers(5, now, new Date(now.getTime() - 60_000));
  await locks.purgePresence(new Date(now.getTime() - 59 * 86_400_000));
  // Alerts for mailed replies, written by the outbox job from their entries' marks.
  await services.pendingAlerts.relay();

  const statements = captured.filter((c) => /^\s*(select|update|delete)/i.test(c.sql) && HOT.some((h) => c.sql.includes(`\`${h}\``)));
  t.ok(statements.length >= 20, `${statements.length} statements checked`);
  for (const s of statements) {
    const [plan] = (await db.knex.raw(`EXPLAIN ${s.sql}`, s.bindings as never)) as [Array<Record<string, unknown>>];
    // EXPLAIN names a table by its alias where the query gives one.
    const aliases = new Map([...s.sql.matchAll(/`(\w+)` as `(\w+)`/g)].map((m) => [m[2]!, m[1]!]));
    // type "index" with no usable key is a full scan too, read in primary-key order for an ORDER BY id.
    const full = (p: Record<string, unknown>) => p.type === 'ALL' || (p.type === 'index' && p.possible_keys === null);
    const scans = plan.filter((p) => full(p) && HOT.includes(aliases.get(String(p.table)) ?? String(p.table)));
    t.same(scans, [], `no full scan: ${s.sql}`);
  }
});
