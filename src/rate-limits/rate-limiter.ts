import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';

/** One limit: at most `max` events per `windowMs` for each key of a scope. */
export interface RateLimit {
  scope: string;
  max: number;
  windowMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAt: Date };

/**
 * Sliding-window counts kept in the database, so that every node behind the load balancer sees the same
 * count. Keys (addresses) are hashed with their scope: the table holds no addresses. Check and record are
 * two statements, so concurrent requests may pass a limit by a few; these limits bound abuse, not billing.
 */
export class RateLimiter {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private hash(limit: RateLimit, key: string): string {
    return createHash('sha256').update(`${limit.scope}:${key}`).digest('hex');
  }

  /** Whether one more event is within the limit now, without counting it. */
  async check(limit: RateLimit, key: string): Promise<RateDecision> {
    const now = this.clock.now();
    if (limit.max <= 0) return { allowed: false, retryAt: new Date(now.getTime() + limit.windowMs) };
    const rows = await this.db.run((q) =>
      q('rate_limit_events')
        .where('key_hash', this.hash(limit, key))
        .where('created_at', '>', toDbTime(new Date(now.getTime() - limit.windowMs)))
        .orderBy('created_at', 'desc')
        .limit(limit.max)
        .select('created_at'),
    );
    if (rows.length < limit.max) return { allowed: true };
    const oldest = fromDbTimeRequired(rows[rows.length - 1].created_at as string);
    return { allowed: false, retryAt: new Date(oldest.getTime() + limit.windowMs) };
  }

  /** Counts one event. */
  async record(limit: RateLimit, key: string): Promise<void> {
    await this.db.run((q) => q('rate_limit_events').insert({ key_hash: this.hash(limit, key), created_at: toDbTime(this.clock.now()) }));
  }

  /** Whether one more event is within the limit; when it is, the event is counted. */
  async take(limit: RateLimit, key: string): Promise<RateDecision> {
    const decision = await this.check(limit, key);
    if (decision.allowed) await this.record(limit, key);
    return decision;
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    return this.db.run((q) => q('rate_limit_events').where('created_at', '<', toDbTime(cutoff)).delete());
  }
}
