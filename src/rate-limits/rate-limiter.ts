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
 * Counts kept in the database, so that every node behind the load balancer sees the same count. Keys
 * (addresses) are hashed with their scope: the tables hold no addresses. check() then record() is a sliding
 * window in two statements, so concurrent requests may pass a limit by a few; take() is a fixed window in one.
 * A scope uses one or the other. These limits bound abuse, not billing.
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
   * Whether one more event is within the limit; when it is, the event is counted. One statement, where mail
   * intake counts every one: a counter row per key, upserted, its count read back with the write. The window
   * is fixed, from the first event counted in it, not sliding: up to 2 × `max` can pass in one `windowMs`
   * across two windows. Refused attempts count too, which changes nothing while the window lasts. (A
   * conditional INSERT … SELECT on the event log is one statement too, but on InnoDB it takes the table's
   * AUTO-INC lock and gap locks, and deadlocked concurrent messages in bench:mail.)
   */
  async take(limit: RateLimit, key: string): Promise<RateDecision> {
    if (limit.max <= 0) return this.check(limit, key);
    const now = this.clock.now();
    const keyHash = this.hash(limit, key);
    const cutoff = toDbTime(new Date(now.getTime() - limit.windowMs));
    const n = await this.db.run(async (q) => {
      const insert = 'INSERT INTO rate_limit_counters (key_hash, window_start, n) VALUES (?, ?, 1)';
      const count = 'CASE WHEN window_start <= ? THEN 1 ELSE n + 1 END';
      const start = 'window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END';
      if (this.db.dialect === 'sqlite') {
        const rows = (await q.raw(`${insert} ON CONFLICT (key_hash) DO UPDATE SET n = ${count}, ${start} RETURNING n`, [keyHash, toDbTime(now), cutoff, cutoff, toDbTime(now)])) as Array<{ n: number }>;
        return Number(rows[0]!.n);
      }
      // MySQL has no RETURNING: LAST_INSERT_ID(expr) hands the new count back as the insert id. A row
      // inserted rather than updated reports one affected row (an update that changes a row, two).
      const [header] = (await q.raw(`${insert} ON DUPLICATE KEY UPDATE n = LAST_INSERT_ID(${count}), ${start}`, [keyHash, toDbTime(now), cutoff, cutoff, toDbTime(now)])) as [{ insertId: number; affectedRows: number }];
      return header.affectedRows === 1 ? 1 : Number(header.insertId);
    });
    if (n <= limit.max) return { allowed: true };
    const row = await this.db.run((q) => q('rate_limit_counters').where({ key_hash: keyHash }).first('window_start'));
    return { allowed: false, retryAt: new Date(fromDbTimeRequired(row.window_start as string).getTime() + limit.windowMs) };
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const counters = await this.db.run((q) => q('rate_limit_counters').where('window_start', '<', toDbTime(cutoff)).delete());
    return counters + (await this.db.run((q) => q('rate_limit_events').where('created_at', '<', toDbTime(cutoff)).delete()));
  }
}
