import type { Clock } from '../../db/time.js';
import { msg, type Msg } from '../../i18n/message.js';
import { holdLease } from '../../jobs/hold-lease.js';
import type { LeaseRepository } from '../../jobs/lease-repository.js';
import type { Logger } from '../../logger.js';
import type { MailAccount, MailAccountRepository } from '../accounts/mail-account-repository.js';
import type { FetchReport, ImapFetcher } from './imap-fetcher.js';

export interface ImapPollerDeps {
  accounts: MailAccountRepository;
  fetcher: ImapFetcher;
  leases: LeaseRepository;
  clock: Clock;
  log: Logger;
  /** English, like quarantine reasons: the account's last error is stored as text. */
  describe: (m: Msg) => string;
  nodeId: string;
  tickMs: number;
  leaseMs: number;
}

/**
 * Fetches each enabled mail account when its poll interval has passed. Every node runs one; an account is
 * fetched under a lease of its own in scheduler_leases (`mail-account:<id>`), so two nodes never fetch it at
 * once, and different accounts may be fetched by different nodes. A failure is recorded on the account and
 * logged; it never stops the poller or the other accounts.
 */
export class ImapPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private stopped = true;

  constructor(private readonly d: ImapPollerDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.running = this.tick()
        .catch((err: unknown) => this.d.log.error({ err }, 'mail account poll failed'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(loop, this.d.tickMs);
        });
    };
    loop();
  }

  /** Stops polling; a fetch in progress stops after the message it is on, and hands its lease back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort(new Error('node stopping'));
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  async tick(): Promise<void> {
    for (const account of await this.d.accounts.due(this.d.clock.now())) {
      if (this.stopping.signal.aborted) return;
      // The database failing while the result is recorded: logged, and the next account still gets its turn.
      await this.fetch(account).catch((err: unknown) => this.d.log.error({ err, account: account.id }, 'mail account fetch failed'));
    }
  }

  /** Fetches one account now; null when another node holds its lease (or the account is gone). */
  async fetch(listed: MailAccount): Promise<FetchReport | null> {
    const name = `mail-account:${listed.id}`;
    const renew = () => {
      const now = this.d.clock.now();
      return this.d.leases.acquire(name, this.d.nodeId, now, new Date(now.getTime() + this.d.leaseMs));
    };
    if (!(await renew())) return null;
    const controller = new AbortController();
    const onStop = () => controller.abort(new Error('node stopping'));
    this.stopping.signal.addEventListener('abort', onStop);
    try {
      // Read again under the lease: the position another node saved before it let go is the one to go on from.
      const account = await this.d.accounts.get(listed.id);
      if (!account) return null;
      await this.d.accounts.fetchStarted(account.id, this.d.clock.now());
      const report = await holdLease({ renew, leaseMs: this.d.leaseMs, log: this.d.log, what: { account: account.id }, controller }, (signal) =>
        this.d.fetcher.fetch(account, (uidValidity, uid) => this.d.accounts.savePosition(account.id, uidValidity, uid), signal),
      );
      await this.record(account, report);
      return report;
    } finally {
      this.stopping.signal.removeEventListener('abort', onStop);
      await this.d.leases.release(name, this.d.nodeId).catch(() => undefined);
    }
  }

  private async record(account: MailAccount, r: FetchReport): Promise<void> {
    const now = this.d.clock.now();
    const { imported, duplicates, quarantined } = r;
    this.d.log.info({ account: account.id, host: account.host, imported, duplicates, quarantined, tooLarge: r.tooLarge.length, stopped: r.stopped?.key ?? null }, 'mail account fetched');
    if (!r.stopped) await this.d.accounts.fetchSucceeded(account.id, now);
    const problem = r.stopped ?? (r.tooLarge.length ? msg('errors.mail_account.too_large', { count: r.tooLarge.length, uids: r.tooLarge.slice(0, 20).join(', ') }) : null);
    if (problem) await this.d.accounts.fetchFailed(account.id, this.d.describe(problem), now);
  }
}
