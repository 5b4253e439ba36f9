import { ImapFlow, type ImapFlowError } from 'imapflow';
import { AppError } from '../../errors.js';
import { msg, type Message } from '../../i18n/message.js';
import type { Logger } from '../../logger.js';
import type { MailAccount } from '../accounts/mail-account-repository.js';
import type { ConnectionSettings, MailAccountService } from '../accounts/mail-account-service.js';
import type { Mailbox } from '../mailboxes/mailbox-repository.js';
import type { MailboxService } from '../mailboxes/mailbox-service.js';
import { SenderBanned, type MailIntakeService } from './intake-service.js';

/**
 * Back-pressure: at most this many messages, and about this many bytes, are downloaded at a time; the next
 * group is requested only once the previous one is stored and acted on. One command per group for the download
 * and one for the after-import action, not one per message: per message, the round trips to the server cost more
 * than the intake itself.
 */
export const FETCH_BATCH = 50;
const GROUP_BYTES = 8 * 1024 * 1024;

interface Meta {
  uid: number;
  size: number;
}

/** Consecutive messages whose sizes add up to about GROUP_BYTES (a larger one alone); oversized ones count as nothing. */
function groups(metas: Meta[], cap: number): Meta[][] {
  const out: Meta[][] = [];
  let group: Meta[] = [];
  let bytes = 0;
  for (const m of metas) {
    const size = m.size > cap ? 0 : m.size;
    if (group.length && bytes + size > GROUP_BYTES) {
      out.push(group);
      group = [];
      bytes = 0;
    }
    group.push(m);
    bytes += size;
  }
  if (group.length) out.push(group);
  return out;
}

export interface FetchReport {
  imported: number;
  duplicates: number;
  quarantined: number;
  /** Messages left on the server because they exceed the size cap, by UID. */
  tooLarge: number[];
  /** Set when the fetch stopped early; the position is saved up to the last message it finished. */
  stopped: Message | null;
}

export type ConnectionTest = { ok: true; waiting: number } | { ok: false; problem: Message };

export interface ImapFetcherDeps {
  accounts: MailAccountService;
  mailboxes: MailboxService;
  intake: MailIntakeService;
  log: Logger;
  /** The same cap as the SMTP listener's (smtp.maxMessageBytes). */
  maxMessageBytes: number;
  /** Where a connection that hangs gives up. */
  timeoutMs: number;
}

/** Stores how far a fetch got (UIDVALIDITY and the last UID done): called after each group of messages. */
export type SavePosition = (uidValidity: bigint, uid: number) => Promise<void>;

/**
 * Fetches a remote IMAP folder into the mail intake, the way the SMTP listener accepts mail: each message goes
 * through MailIntakeService.deliver, and only after it has committed (an entry, a recorded drop, a quarantine
 * row, or the answer that the Message-ID is already stored) is the message marked read, moved or deleted on
 * the server, and the position (UIDVALIDITY, last UID) saved. A crash in between fetches the message again,
 * which the intake's Message-ID de-duplication answers as a duplicate that writes nothing. Any failure to store
 * (the database down) stops the fetch with the message untouched on the server.
 *
 * Polling only for now: IDLE (RFC 2177) would shorten the delay from arrival to ticket, and can come later.
 */
export class ImapFetcher {
  constructor(private readonly d: ImapFetcherDeps) {}

  private client(c: ConnectionSettings): ImapFlow {
    const client = new ImapFlow({
      host: c.host,
      port: c.port,
      secure: c.tlsMode === 'implicit',
      // STARTTLS is required, never attempted and silently skipped: a stripped capability must not send the password in clear.
      doSTARTTLS: c.tlsMode === 'starttls' ? true : c.tlsMode === 'implicit' ? undefined : false,
      auth: { user: c.username, pass: c.password },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: this.d.timeoutMs,
      greetingTimeout: this.d.timeoutMs,
      socketTimeout: this.d.timeoutMs * 4,
    });
    // A connection that breaks between commands reports here as well as to the command waiting; without a
    // listener the process would die of an unhandled 'error' event.
    client.on('error', (err: Error) => this.d.log.debug({ err: { message: err.message } }, 'imap connection error'));
    return client;
  }

  /** Signs in, opens the folder and counts the messages a fetch would take. */
  async test(c: ConnectionSettings, account: Pick<MailAccount, 'lastUidValidity' | 'lastUid'>): Promise<ConnectionTest> {
    const client = this.client(c);
    try {
      await client.connect();
      const lock = await client.getMailboxLock(c.folder, { readOnly: true });
      try {
        const box = client.mailbox;
        const from = box && account.lastUidValidity === box.uidValidity ? account.lastUid : 0;
        const uids = await client.search({ uid: `${from + 1}:*` }, { uid: true });
        return { ok: true, waiting: (uids || []).filter((u) => u > from).length };
      } finally {
        lock.release();
      }
    } catch (err) {
      return { ok: false, problem: problemOf(err, c) };
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /** One fetch of an account's folder; stops between messages when `signal` aborts (the lease was lost). */
  async fetch(account: MailAccount, save: SavePosition, signal: AbortSignal): Promise<FetchReport> {
    const report: FetchReport = { imported: 0, duplicates: 0, quarantined: 0, tooLarge: [], stopped: null };
    let c: ConnectionSettings;
    try {
      c = this.d.accounts.connection(account);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { ...report, stopped: err.userMessage };
    }
    const client = this.client(c);
    // Read once per fetch, when the first message needs it, inside store()'s try: a database that is down
    // leaves the message on the server like any other failure to store.
    let mailbox: Promise<Mailbox> | null = null;
    const target = () => (mailbox ??= this.d.mailboxes.get(account.mailboxId).catch((err: unknown) => {
      mailbox = null;
      throw err;
    }));
    try {
      await client.connect();
      const lock = await client.getMailboxLock(c.folder);
      try {
        const box = client.mailbox;
        if (!box) throw new Error('no mailbox selected');
        const uidValidity = box.uidValidity;
        // A changed UIDVALIDITY (RFC 9051 §2.3.1.1) means the old UIDs name nothing: the folder's messages are
        // taken from the start again, and those already stored come back as duplicates, writing nothing.
        let last = account.lastUidValidity === uidValidity ? account.lastUid : 0;
        if (account.lastUidValidity !== null && account.lastUidValidity !== uidValidity) {
          this.d.log.warn({ account: account.id, was: String(account.lastUidValidity), now: String(uidValidity) }, 'imap: UIDVALIDITY changed; reading the folder again');
        }
        const uids = ((await client.search({ uid: `${last + 1}:*` }, { uid: true })) || []).filter((u) => u > last).sort((a, b) => a - b);
        for (let i = 0; i < uids.length && !signal.aborted; i += FETCH_BATCH) {
          const metas = (await client.fetchAll(uids.slice(i, i + FETCH_BATCH).join(','), { uid: true, size: true }, { uid: true }))
            .map((m) => ({ uid: m.uid, size: m.size ?? 0 }))
            .sort((a, b) => a.uid - b.uid);
          for (const group of groups(metas, this.d.maxMessageBytes)) {
            if (signal.aborted) break;
            const wanted = group.filter((m) => m.size <= this.d.maxMessageBytes).map((m) => m.uid);
            const sources = new Map<number, Buffer>();
            if (wanted.length) {
              for (const f of await client.fetchAll(wanted.join(','), { uid: true, source: true }, { uid: true })) if (f.source) sources.set(f.uid, f.source);
            }
            // Acted on and saved after the group: a crash before that fetches these again, as duplicates.
            const done: number[] = [];
            let through = last;
            let failed = false;
            for (const m of group) {
              if (signal.aborted) break;
              const raw = sources.get(m.uid);
              if (m.size > this.d.maxMessageBytes) {
                // Left where it is, for a person to deal with; the fetch goes on past it.
                report.tooLarge.push(m.uid);
              } else if (raw) {
                const stored = await this.store(raw, target, account.id, c.host, m.uid);
                if (!stored) {
                  report.stopped = msg('errors.mail_account.store_failed', { uid: m.uid });
                  failed = true;
                  break;
                }
                report[stored] += 1;
                done.push(m.uid);
              }
              // (No source: expunged since its size was read, nothing to take.)
              through = m.uid;
            }
            if (done.length) await this.afterImport(client, account, done.join(','));
            if (through > last) {
              last = through;
              try {
                await save(uidValidity, last);
              } catch (err) {
                // The messages are done; from an older position the next fetch finds them duplicates, or gone.
                this.d.log.warn({ account: account.id, uid: last, err: { message: (err as Error).message } }, 'imap: position not saved');
                report.stopped = msg('errors.mail_account.position_not_saved', { uid: last });
                return report;
              }
            }
            if (failed) return report;
          }
        }
        return report;
      } finally {
        lock.release();
      }
    } catch (err) {
      report.stopped = problemOf(err, c);
      this.d.log.warn({ account: account.id, err: { message: (err as Error).message, code: (err as ImapFlowError).code } }, 'imap fetch stopped');
      return report;
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /** Through the same intake as SMTP; what the message became, or null when it could not be stored. */
  private async store(raw: Buffer, mailbox: () => Promise<Mailbox>, accountId: number, host: string, uid: number): Promise<'imported' | 'duplicates' | 'quarantined' | null> {
    try {
      const outcome = await this.d.intake.deliver(raw, { mailbox: await mailbox(), envelopeFrom: null, source: 'imap', remoteAddress: host });
      return outcome.status === 'duplicate' ? 'duplicates' : outcome.status === 'quarantined' ? 'quarantined' : 'imported';
    } catch (err) {
      // A banned sender's mail is refused over SMTP and so never kept; here it is taken off the queue likewise.
      if (err instanceof SenderBanned) return 'duplicates';
      this.d.log.warn({ account: accountId, uid, err: { message: (err as Error).message, name: (err as Error).name } }, 'imap: message not stored; it stays on the server');
      return null;
    }
  }

  private async afterImport(client: ImapFlow, account: MailAccount, range: string): Promise<void> {
    if (account.afterImport === 'delete') await client.messageDelete(range, { uid: true });
    else if (account.afterImport === 'move') await client.messageMove(range, account.moveToFolder!, { uid: true });
    else await client.messageFlagsAdd(range, ['\\Seen'], { uid: true });
  }
}

const HOST_UNKNOWN = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']);
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
const TIMEOUT = new Set(['ETIMEDOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'ETIMEOUT']);

/** A failure as the admin page says it: what went wrong, with the server's own words where it gave any. */
export function problemOf(err: unknown, c: Pick<ConnectionSettings, 'host' | 'port' | 'folder'>): Message {
  const e = err as ImapFlowError;
  const said = (typeof e.responseText === 'string' && e.responseText) || (typeof e.response === 'string' && e.response) || e.message || '';
  if (e.authenticationFailed) return msg('errors.mail_account.login_refused', { detail: said });
  if (e.mailboxMissing || e.serverResponseCode === 'NONEXISTENT') return msg('errors.mail_account.no_folder', { folder: c.folder, detail: said });
  if (e.code && HOST_UNKNOWN.has(e.code)) return msg('errors.mail_account.host_unknown', { host: c.host });
  if (e.code && REFUSED.has(e.code)) return msg('errors.mail_account.unreachable', { host: c.host, port: c.port, detail: e.code });
  if (e.code && TIMEOUT.has(e.code)) return msg('errors.mail_account.timeout', { host: c.host, port: c.port });
  if (e.tlsFailed || /CERT|SSL|TLS|UNABLE_TO_|SIGNATURE/.test(e.code ?? '')) return msg('errors.mail_account.tls', { detail: e.message });
  if (e.code === 'NoConnection' || e.code === 'EConnectionClosed') return msg('errors.mail_account.dropped', { host: c.host });
  return msg('errors.mail_account.server', { detail: said });
}
