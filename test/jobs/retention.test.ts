import t from 'tap';
import { purgeRetained } from '../../src/jobs/default-jobs.js';
import { InboundRepository } from '../../src/mail/inbound/inbound-repository.js';
import { toDbTime } from '../../src/db/time.js';
import { createTestContext } from '../helpers/context.js';

const DAY = 86_400_000;

t.test('the retention purge deletes old sent mail, keeps failures longer and never touches waiting mail', async (t) => {
  const { services, clock } = await createTestContext(t);
  t.ok(services.scheduler.jobNames.includes('retention.purge'), 'a default job');
  const { db, outbox, audit } = services;
  const ago = (days: number) => toDbTime(new Date(clock.now().getTime() - days * DAY));
  const mail = (status: string, days: number) => ({ kind: 'k', to_addresses: '[]', subject: status, body_text: '', headers: '{}', status, attempts: 1, next_attempt_at: ago(days), created_at: ago(days) });
  // 1,200 old sent rows: more than two purge batches.
  for (let i = 0; i < 1200; i += 200) await db.knex('outbox').insert(Array.from({ length: 200 }, () => mail('sent', 31)));
  await db.knex('outbox').insert([mail('sent', 29), mail('failed', 31), mail('failed', 181), mail('cancelled', 181), mail('pending', 400)]);
  const inbound = (status: string, days: number, n: number) => ({ message_id_hash: `h${n}`, size: 1, raw: 'x', status, source: 'smtp', received_at: ago(days) });
  await db.knex('inbound_messages').insert([inbound('ticket', 91, 1), inbound('ticket', 89, 2), inbound('quarantined', 400, 3)]);
  await audit.record({ staffId: null, action: 'x', objectType: 't', objectId: 1 });

  const deps = { delivery: services.delivery, pendingAlerts: services.pendingAlerts, outbox, inbound: new InboundRepository(db), audit, sessions: services.sessions, loginThrottle: services.loginThrottle, rateLimiter: services.rateLimiter, clock, outboxEveryMs: 1000 };
  const r = await purgeRetained({ ...deps, retention: services.config.retention });
  t.same(r, { sentMail: 1200, failedMail: 2, inbound: 1, audit: 0 });
  t.same(await outbox.counts(), { pending: 1, sending: 0, sent: 1, failed: 1, cancelled: 0 }, 'recent sent, recent failure and waiting mail stay');
  t.equal(Number((await db.knex('inbound_messages').count({ n: '*' }))[0]!.n), 2, 'a recent and a quarantined message stay');
  clock.advance(400 * DAY);
  t.same((await purgeRetained({ ...deps, retention: { ...services.config.retention, auditDays: 30 } })).audit, 1, 'audit records when a retention is set');
  t.same((await purgeRetained({ ...deps, retention: { sentMailDays: 0, failedMailDays: 0, inboundDays: 0, auditDays: 0 } })), { sentMail: 0, failedMail: 0, inbound: 0, audit: 0 }, '0 keeps for ever');
});
