import type { LoginThrottle } from '../auth/login-throttle.js';
import type { Clock } from '../db/time.js';
import type { OutboxDelivery } from '../mail/outbound/delivery.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import type { Scheduler } from './scheduler.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The housekeeping every node's scheduler carries; the leader runs it. Other features register their own jobs. */
export function registerDefaultJobs(
  scheduler: Scheduler,
  d: { delivery: OutboxDelivery; sessions: SessionRepository; loginThrottle: LoginThrottle; rateLimiter: RateLimiter; clock: Clock; outboxEveryMs: number },
): void {
  scheduler.register({ name: 'outbox.deliver', everyMs: d.outboxEveryMs, run: () => d.delivery.drain() });
  scheduler.register({ name: 'sessions.purge', everyMs: 10 * MINUTE, run: () => d.sessions.purgeExpired() });
  // Failures older than a day count for no throttle window anyone would configure.
  scheduler.register({ name: 'login-failures.purge', everyMs: 10 * MINUTE, run: () => d.loginThrottle.purgeOlderThan(new Date(d.clock.now().getTime() - DAY)) });
  // Rate limits span an hour at most.
  scheduler.register({ name: 'rate-limits.purge', everyMs: 60 * MINUTE, run: () => d.rateLimiter.purgeOlderThan(new Date(d.clock.now().getTime() - DAY)) });
}
