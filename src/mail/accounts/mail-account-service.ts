import { isIP } from 'node:net';
import type { AuditRepository } from '../../audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { requireAdmin } from '../../departments/department-service.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import type { StaffPrincipal } from '../../staff/staff.js';
import type { MailboxRepository } from '../mailboxes/mailbox-repository.js';
import type { CredentialCipher } from './credential-cipher.js';
import { AFTER_IMPORT, TLS_MODES, type AfterImport, type MailAccount, type MailAccountFields, type MailAccountRepository, type TlsMode } from './mail-account-repository.js';

/** What the admin form sends; `password` empty on an edit keeps the stored one. */
export interface MailAccountInput {
  mailboxId: number;
  host: string;
  port: number;
  tlsMode: string;
  username: string;
  password: string;
  folder: string;
  afterImport: string;
  moveToFolder: string;
  pollSeconds: number;
  enabled: boolean;
}

/** Where and as whom to connect, the secret opened: for the fetcher only, never rendered. */
export interface ConnectionSettings {
  host: string;
  port: number;
  tlsMode: TlsMode;
  username: string;
  password: string;
  folder: string;
}

/** The kind of secret, bound into its sealing (credential-cipher.ts). */
const PASSWORD_CONTEXT = 'mail-account:password';
const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// Control characters would break the IMAP command line a name is quoted into.
const PRINTABLE = /^[^\p{Cc}]+$/u;
export const POLL_SECONDS = { min: 30, max: 86_400 };

/** Plain text only to this machine: a password sent in clear over a network is a password given away. */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Remote IMAP mailboxes fetched into one of our mailboxes (issue 15): their settings and sealed credentials. */
export class MailAccountService {
  constructor(
    private readonly db: Database,
    private readonly accounts: MailAccountRepository,
    private readonly mailboxes: MailboxRepository,
    private readonly cipher: CredentialCipher,
    private readonly audit: AuditRepository,
  ) {}

  list(): Promise<MailAccount[]> {
    return this.accounts.list();
  }

  async get(id: number): Promise<MailAccount> {
    const a = await this.accounts.get(id);
    if (!a) throw notFound('MAIL_ACCOUNT_NOT_FOUND', 'admin.mail_accounts.not_found');
    return a;
  }

  /** Throws when the stored password does not open with this installation's key (a database restored without its secrets). */
  connection(a: MailAccount): ConnectionSettings {
    let password: string;
    try {
      password = this.cipher.open(a.sealedCredential, PASSWORD_CONTEXT);
    } catch {
      throw new AppError('MAIL_ACCOUNT_CREDENTIAL_UNREADABLE', 'conflict', 'errors.mail_account.credential_unreadable');
    }
    return { host: a.host, port: a.port, tlsMode: a.tlsMode, username: a.username, password, folder: a.folder };
  }

  async create(actor: StaffPrincipal, input: MailAccountInput): Promise<MailAccount> {
    requireAdmin(actor);
    const fields = await this.validate(input, true);
    return this.db.transaction(async () => {
      const id = await this.accounts.insert(fields, this.cipher.seal(input.password, PASSWORD_CONTEXT));
      await this.audit.record({ staffId: actor.staffId, action: 'mail_account.create', objectType: 'mail_account', objectId: id, details: this.describe(fields) });
      return (await this.accounts.get(id))!;
    });
  }

  async update(actor: StaffPrincipal, id: number, input: MailAccountInput): Promise<void> {
    requireAdmin(actor);
    const before = await this.get(id);
    const fields = await this.validate(input, false);
    const elsewhere = fields.host.toLowerCase() !== before.host.toLowerCase() || fields.username !== before.username || fields.folder !== before.folder;
    await this.db.transaction(async () => {
      await this.accounts.update(id, fields, input.password ? this.cipher.seal(input.password, PASSWORD_CONTEXT) : null, elsewhere);
      await this.audit.record({ staffId: actor.staffId, action: 'mail_account.update', objectType: 'mail_account', objectId: id, details: { ...this.describe(fields), passwordChanged: Boolean(input.password) } });
    });
  }

  async delete(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const a = await this.get(id);
    await this.db.transaction(async () => {
      await this.accounts.delete(id);
      await this.audit.record({ staffId: actor.staffId, action: 'mail_account.delete', objectType: 'mail_account', objectId: id, details: { host: a.host, username: a.username } });
    });
  }

  private describe(f: MailAccountFields): Record<string, unknown> {
    return { host: f.host, port: f.port, username: f.username, folder: f.folder, afterImport: f.afterImport, mailboxId: f.mailboxId };
  }

  private async validate(input: MailAccountInput, isNew: boolean): Promise<MailAccountFields> {
    const errors: FieldErrors = {};
    const host = input.host.trim();
    const username = input.username.trim();
    const folder = input.folder.trim() || 'INBOX';
    const moveToFolder = input.moveToFolder.trim();
    if (!(await this.mailboxes.get(input.mailboxId))) errors.mailboxId = 'admin.mail_accounts.errors.mailbox';
    if (!HOST.test(host) && !isIP(host)) errors.host = 'admin.mail_accounts.errors.host';
    if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535) errors.port = 'admin.mail_accounts.errors.port';
    const tlsMode = input.tlsMode as TlsMode;
    if (!TLS_MODES.includes(tlsMode)) errors.tlsMode = 'admin.mail_accounts.errors.tls_mode';
    else if (tlsMode === 'none' && !errors.host && !isLoopback(host)) errors.tlsMode = 'admin.mail_accounts.errors.plain_text_remote';
    if (!username || username.length > 254 || !PRINTABLE.test(username)) errors.username = 'admin.mail_accounts.errors.username';
    if (isNew && !input.password) errors.password = 'admin.mail_accounts.errors.password_required';
    else if (input.password.length > 1000) errors.password = 'admin.mail_accounts.errors.password_long';
    if (folder.length > 255 || !PRINTABLE.test(folder)) errors.folder = 'admin.mail_accounts.errors.folder';
    const afterImport = input.afterImport as AfterImport;
    if (!AFTER_IMPORT.includes(afterImport)) errors.afterImport = 'admin.mail_accounts.errors.after_import';
    else if (afterImport === 'move') {
      if (!moveToFolder || moveToFolder.length > 255 || !PRINTABLE.test(moveToFolder)) errors.moveToFolder = 'admin.mail_accounts.errors.move_folder';
      else if (moveToFolder === folder) errors.moveToFolder = 'admin.mail_accounts.errors.move_same_folder';
    }
    if (!Number.isInteger(input.pollSeconds) || input.pollSeconds < POLL_SECONDS.min || input.pollSeconds > POLL_SECONDS.max) errors.pollSeconds = msg('admin.mail_accounts.errors.poll', POLL_SECONDS);
    if (Object.keys(errors).length) throw new ValidationError(errors);
    return {
      mailboxId: input.mailboxId, host, port: input.port, tlsMode, username, authMethod: 'password', folder, afterImport,
      moveToFolder: afterImport === 'move' ? moveToFolder : null, pollSeconds: input.pollSeconds, enabled: input.enabled,
    };
  }
}
