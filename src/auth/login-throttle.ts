import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { AppError } from '../errors.js';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Counts failed logins per account and per client address in a sliding window, in the database so that
 * every node behind the load balancer sees the same count. Keys are hashed: the table holds no usernames.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly maxFailures: number,
    private readonly windowMinutes: number,
  ) {}

  private keys(scope: string, account: string, ip: string): string[] {
    return [hash(`${scope}:acct:${account.trim().toLowerCase()}`), hash(`${scope}:ip:${ip}`)];
  }

  /** Throws TOO_MANY_ATTEMPTS, saying when to retry, while either key is over the limit. */
  async check(scope: string, account: string, ip: string): Promise<void> {
    const since = toDbTime(new Date(this.clock.now().getTime() - this.windowMinutes * 60_000));
    for (const key of this.keys(scope, account, ip)) {
      const rows = await this.db.run((q) =>
        q('login_failures').where('key_hash', key).where('created_at', '>', since).orderBy('created_at', 'desc').limit(this.maxFailures).select('created_at'),
      );
      if (rows.length >= this.maxFailures) {
        const oldest = fromDbTimeRequired(rows[rows.length - 1].created_at as string);
        const retryAt = new Date(oldest.getTime() + this.windowMinutes * 60_000);
        throw new AppError('TOO_MANY_ATTEMPTS', 'too_many', 'Too many failed attempts. Try again later.', { retryAt: retryAt.toISOString() });
      }
    }
  }

  async fail(scope: string, account: string, ip: string): Promise<void> {
    const now = toDbTime(this.clock.now());
    await this.db.run((q) => q('login_failures').insert(this.keys(scope, account, ip).map((key_hash) => ({ key_hash, created_at: now }))));
  }

  async succeed(scope: string, account: string): Promise<void> {
    const [acct] = this.keys(scope, account, '');
    await this.db.run((q) => q('login_failures').where('key_hash', acct).delete());
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    return this.db.run((q) => q('login_failures').where('created_at', '<', toDbTime(cutoff)).delete());
  }
}
