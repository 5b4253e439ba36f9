import type { Database } from '../../db/database.js';
import { fromDbTime, fromDbTimeRequired, toDbTime, type Clock } from '../../db/time.js';

export const TLS_MODES = ['implicit', 'starttls', 'none'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
export const AFTER_IMPORT = ['mark-read', 'move', 'delete'] as const;
export type AfterImport = (typeof AFTER_IMPORT)[number];
/** Only passwords for now; an OAuth2 grant will be a second method sealed in the same column. */
export type AuthMethod = 'password';

export interface MailAccount {
  id: number;
  mailboxId: number;
  mailboxLocalPart: string;
  host: string;
  port: number;
  tlsMode: TlsMode;
  username: string;
  authMethod: AuthMethod;
  /** Sealed (credential-cipher.ts); opened only by the service when it connects. */
  sealedCredential: string;
  folder: string;
  afterImport: AfterImport;
  moveToFolder: string | null;
  pollSeconds: number;
  enabled: boolean;
  lastUidValidity: bigint | null;
  lastUid: number;
  lastFetchAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  createdAt: Date;
}

export type MailAccountFields = Pick<MailAccount, 'mailboxId' | 'host' | 'port' | 'tlsMode' | 'username' | 'authMethod' | 'folder' | 'afterImport' | 'moveToFolder' | 'pollSeconds' | 'enabled'>;

const map = (r: Record<string, unknown>): MailAccount => ({
  id: Number(r.id),
  mailboxId: Number(r.mailbox_id),
  mailboxLocalPart: r.local_part as string,
  host: r.host as string,
  port: Number(r.port),
  tlsMode: r.tls_mode as TlsMode,
  username: r.username as string,
  authMethod: r.auth_method as AuthMethod,
  sealedCredential: r.credential as string,
  folder: r.folder as string,
  afterImport: r.after_import as AfterImport,
  moveToFolder: (r.move_to_folder as string | null) ?? null,
  pollSeconds: Number(r.poll_seconds),
  enabled: Boolean(r.enabled),
  // UIDVALIDITY is a 32-bit unsigned number; mysql2 may hand a BIGINT back as a string.
  lastUidValidity: r.last_uid_validity === null ? null : BigInt(r.last_uid_validity as string | number),
  lastUid: Number(r.last_uid),
  lastFetchAt: fromDbTime(r.last_fetch_at as string | null),
  lastSuccessAt: fromDbTime(r.last_success_at as string | null),
  lastError: (r.last_error as string | null) ?? null,
  lastErrorAt: fromDbTime(r.last_error_at as string | null),
  createdAt: fromDbTimeRequired(r.created_at as string),
});

const columns = (a: MailAccountFields) => ({
  mailbox_id: a.mailboxId,
  host: a.host,
  port: a.port,
  tls_mode: a.tlsMode,
  username: a.username,
  auth_method: a.authMethod,
  folder: a.folder,
  after_import: a.afterImport,
  move_to_folder: a.moveToFolder,
  poll_seconds: a.pollSeconds,
  enabled: a.enabled,
});

/** All SQL of mail accounts. */
export class MailAccountRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.q('mail_accounts as a').join('mailboxes as m', 'm.id', 'a.mailbox_id').select('a.*', 'm.local_part');
  }

  async list(): Promise<MailAccount[]> {
    return (await this.db.run(() => this.base().orderBy('a.host').orderBy('a.username').orderBy('a.id'))).map(map);
  }

  async get(id: number): Promise<MailAccount | null> {
    const r = await this.db.run(() => this.base().where('a.id', id).first());
    return r ? map(r) : null;
  }

  /** Enabled accounts not fetched for their poll interval (never fetched: due at once). */
  async due(now: Date): Promise<MailAccount[]> {
    const accounts = (await this.db.run(() => this.base().where('a.enabled', true).orderBy('a.id'))).map(map);
    return accounts.filter((a) => !a.lastFetchAt || a.lastFetchAt.getTime() + a.pollSeconds * 1000 <= now.getTime());
  }

  async insert(a: MailAccountFields, sealedCredential: string): Promise<number> {
    const [id] = await this.db.run((q) => q('mail_accounts').insert({ ...columns(a), credential: sealedCredential, last_uid: 0, created_at: toDbTime(this.clock.now()) }));
    return Number(id);
  }

  /**
   * Saves the settings; a new credential only when one was given. Another server or folder starts the position
   * afresh: its UIDs say nothing about the old one's (what was imported already is recognised by its Message-ID).
   */
  async update(id: number, a: MailAccountFields, sealedCredential: string | null, resetPosition: boolean): Promise<void> {
    await this.db.run((q) =>
      q('mail_accounts').where({ id }).update({
        ...columns(a),
        ...(sealedCredential === null ? {} : { credential: sealedCredential }),
        ...(resetPosition ? { last_uid_validity: null, last_uid: 0 } : {}),
      }),
    );
  }

  async delete(id: number): Promise<void> {
    await this.db.run((q) => q('mail_accounts').where({ id }).delete());
  }

  /** Written after each committed message, so a fetch that stops anywhere resumes after the last one stored. */
  async savePosition(id: number, uidValidity: bigint, lastUid: number): Promise<void> {
    await this.db.run((q) => q('mail_accounts').where({ id }).update({ last_uid_validity: uidValidity.toString(), last_uid: lastUid }));
  }

  async fetchStarted(id: number, at: Date): Promise<void> {
    await this.db.run((q) => q('mail_accounts').where({ id }).update({ last_fetch_at: toDbTime(at) }));
  }

  async fetchSucceeded(id: number, at: Date): Promise<void> {
    await this.db.run((q) => q('mail_accounts').where({ id }).update({ last_success_at: toDbTime(at), last_error: null, last_error_at: null }));
  }

  async fetchFailed(id: number, error: string, at: Date): Promise<void> {
    await this.db.run((q) => q('mail_accounts').where({ id }).update({ last_error: error, last_error_at: toDbTime(at) }));
  }
}
