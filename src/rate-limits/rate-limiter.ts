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
 * count. Keys (addresses) are hashed with their scope: the table holds no addresses. check() then record()
 * are two statements, so concurrent requests may pass a limit by a few; these limits bound abuse, not billing.
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

  /**
   * Whether one more event is within the limit; when it is, the event is counted. One statement: the insert
   * happens only while the window holds fewer than `max` events (mail intake counts every statement), and
   * only a refusal pays a second read, for its retry time.
   */
  async take(limit: RateLimit, key: string): Promise<RateDecision> {
    if (limit.max <= 0) return this.check(limit, key);
    const now = this.clock.now();
    const keyHash = this.hash(limit, key);
    const result = await this.db.run((q) =>
      q.raw(
        'INSERT INTO rate_limit_events (key_hash, created_at) SELECT ?, ? WHERE (SELECT COUNT(*) FROM rate_limit_events WHERE key_hash = ? AND created_at > ?) < ?',
        [keyHash, toDbTime(now), keyHash, toDbTime(new Date(now.getTime() - limit.windowMs)), limit.max],
      ),
    );
    return insertedRows(result) > 0 ? { allowed: true } : this.check(limit, key);
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    return this.db.run((q) => q('rate_limit_events').where('created_at', '<', toDbTime(cutoff)).delete());
  }
}

/** Rows a raw INSERT wrote: mysql2 answers [ResultSetHeader, fields], better-sqlite3 { changes }. */
function insertedRows(result: unknown): number {
  const header = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number; changes?: number };
  return Number(header.affectedRows ?? header.changes ?? 0);
}
