import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { AppError } from '../errors.js';
import { msg, type Msg } from '../i18n/message.js';

const hash = (s: string) => createHash('sha256').update(s).digest('hex');

export interface ThrottleSettings {
  /** Failures per (account, address) pair, and per address for unknown names, before that pair or address waits. */
  maxFailures: number;
  windowMinutes: number;
  /** Failures on one account from anywhere before each further attempt waits, doubling, up to maxDelaySeconds. */
  accountDelayAfter: number;
  maxDelaySeconds: number;
}

/**
 * Failed logins, counted in the database so that every node behind the load balancer sees the same numbers.
 * Keys are hashed: the table holds no usernames or addresses. The account is the one the login name resolved
 * to (null when it names none), so its username and e-mail address share one count. Three rules:
 * - per (account, address) pair: blocked for the window after `maxFailures`. A stranger elsewhere fills only
 *   their own pair, so they cannot lock the real agent out;
 * - per account from any address: past `accountDelayAfter`, each attempt waits a doubling delay (at most
 *   `maxDelaySeconds`) after the last failure. That slows guessing spread over many addresses, and never
 *   shuts the owner out for longer than the delay;
 * - per address, for names that resolve to no account: blocked for the window after `maxFailures`, so probing
 *   for names is slow, and being blocked does not tell a known name from an unknown one.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly s: ThrottleSettings,
  ) {}

  private keys(scope: string, account: string | null, ip: string) {
    return {
      pair: account === null ? null : hash(`${scope}:pair:${account}:${ip}`),
      account: account === null ? null : hash(`${scope}:acct:${account}`),
      unknown: hash(`${scope}:unknown:${ip}`),
    };
  }

  private async recent(key: string): Promise<{ count: number; last: Date | null; oldest: Date | null }> {
    const since = toDbTime(new Date(this.clock.now().getTime() - this.s.windowMinutes * 60_000));
    const r = await this.db.run((q) =>
      q('login_failures').where('key_hash', key).where('created_at', '>', since).count({ n: '*' }).max({ last: 'created_at' }).min({ oldest: 'created_at' }).first(),
    );
    const count = Number(r?.n ?? 0);
    return {
      count,
      last: count ? fromDbTimeRequired(r!.last as string) : null,
      oldest: count ? fromDbTimeRequired(r!.oldest as string) : null,
    };
  }

  private blocked(message: Msg, retryAt: Date, rule: string): AppError {
    return new AppError('TOO_MANY_ATTEMPTS', 'too_many', message, { retryAt: retryAt.toISOString(), rule });
  }

  /** Throws TOO_MANY_ATTEMPTS, saying when to retry, while a rule holds the attempt back. */
  async check(scope: string, account: string | null, ip: string): Promise<void> {
    const keys = this.keys(scope, account, ip);
    const windowMs = this.s.windowMinutes * 60_000;
    const unknown = await this.recent(keys.unknown);
    // The oldest failure in the window leaving it frees one attempt; a count at the limit is simply over it.
    if (unknown.count >= this.s.maxFailures) {
      throw this.blocked('errors.login.too_many_from_address', new Date(unknown.oldest!.getTime() + windowMs), 'address');
    }
    if (!keys.pair || !keys.account) return;
    const pair = await this.recent(keys.pair);
    if (pair.count >= this.s.maxFailures) {
      throw this.blocked('errors.login.too_many_for_account', new Date(pair.oldest!.getTime() + windowMs), 'pair');
    }
    const acct = await this.recent(keys.account);
    const over = acct.count - this.s.accountDelayAfter;
    if (over >= 0) {
      const delaySeconds = Math.min(this.s.maxDelaySeconds, 2 ** Math.min(over, 20));
      const retryAt = new Date(acct.last!.getTime() + delaySeconds * 1000);
      if (retryAt > this.clock.now()) {
        const wait = Math.ceil((retryAt.getTime() - this.clock.now().getTime()) / 1000);
        throw this.blocked(msg('errors.login.account_delay', { seconds: wait }), retryAt, 'account');
      }
    }
  }

  async fail(scope: string, account: string | null, ip: string): Promise<void> {
    const keys = this.keys(scope, account, ip);
    const now = toDbTime(this.clock.now());
    const rows = (account === null ? [keys.unknown] : [keys.pair!, keys.account!]).map((key_hash) => ({ key_hash, created_at: now }));
    await this.db.run((q) => q('login_failures').insert(rows));
  }

  /** The owner got in: their pair and the account's delay start afresh (other addresses' pairs stay). */
  async succeed(scope: string, account: string, ip: string): Promise<void> {
    const keys = this.keys(scope, account, ip);
    await this.db.run((q) => q('login_failures').whereIn('key_hash', [keys.pair!, keys.account!]).delete());
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    return this.db.run((q) => q('login_failures').where('created_at', '<', toDbTime(cutoff)).delete());
  }
}
