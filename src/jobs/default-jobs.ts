import type { AuditRepository } from '../audit/audit-repository.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Config } from '../config.js';
import type { Clock } from '../db/time.js';
import type { InboundRepository } from '../mail/inbound/inbound-repository.js';
import type { PendingAlerts } from '../mail/inbound/pending-alerts.js';
import type { OutboxDelivery } from '../mail/outbound/delivery.js';
import type { OutboxRepository } from '../mail/outbound/outbox-repository.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import type { Scheduler } from './scheduler.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// Small enough that one DELETE holds its row locks for milliseconds while mail keeps flowing.
const PURGE_BATCH = 500;

export interface DefaultJobDeps {
  delivery: OutboxDelivery;
  pendingAlerts: PendingAlerts;
  outbox: OutboxRepository;
  inbound: InboundRepository;
  audit: AuditRepository;
  sessions: SessionRepository;
  loginThrottle: LoginThrottle;
  rateLimiter: RateLimiter;
  clock: Clock;
  outboxEveryMs: number;
  retention: Config['retention'];
}

/** The housekeeping every node's scheduler carries; the leader runs it. Other features register their own jobs. */
export function registerDefaultJobs(scheduler: Scheduler, d: DefaultJobDeps): void {
  // Alerts for mailed replies are written first, so that they go out in the same run (pending-alerts.ts); if
  // that fails, the mail already waiting is delivered all the same, and the failure is reported after it.
  scheduler.register({
    name: 'outbox.deliver',
    everyMs: d.outboxEveryMs,
    run: async (signal) => {
      const failed = await d.pendingAlerts.relay(signal).then(() => null, (err: unknown) => err);
      const report = await d.delivery.drain(signal);
      if (failed) throw failed;
      return report;
    },
  });
  scheduler.register({ name: 'sessions.purge', everyMs: 10 * MINUTE, run: () => d.sessions.purgeExpired() });
  // Failures older than a day count for no throttle window anyone would configure.
  scheduler.register({ name: 'login-failures.purge', everyMs: 10 * MINUTE, run: () => d.loginThrottle.purgeOlderThan(new Date(d.clock.now().getTime() - DAY)) });
  // Rate limits span an hour at most.
  scheduler.register({ name: 'rate-limits.purge', everyMs: 60 * MINUTE, run: () => d.rateLimiter.purgeOlderThan(new Date(d.clock.now().getTime() - DAY)) });
  scheduler.register({ name: 'retention.purge', everyMs: 60 * MINUTE, run: (signal) => purgeRetained(d, signal) });
}

/** Deletes what has outlived its retention setting (0 days: kept for ever); returns how many rows of each went. */
export async function purgeRetained(d: DefaultJobDeps, signal?: AbortSignal): Promise<Record<string, number>> {
  const r = d.retention;
  const before = (days: number) => new Date(d.clock.now().getTime() - days * DAY);
  const out = { sentMail: 0, failedMail: 0, inbound: 0, audit: 0 };
  if (r.sentMailDays) out.sentMail = await d.outbox.purge(['sent'], before(r.sentMailDays), PURGE_BATCH, signal);
  if (r.failedMailDays) out.failedMail = await d.outbox.purge(['failed', 'cancelled'], before(r.failedMailDays), PURGE_BATCH, signal);
  if (r.inboundDays) out.inbound = await d.inbound.purgeHandled(before(r.inboundDays), PURGE_BATCH, signal);
  if (r.auditDays) out.audit = await d.audit.purgeOlderThan(before(r.auditDays), PURGE_BATCH, signal);
  return out;
}
