import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import type { DepartmentService } from '../departments/department-service.js';
import type { MailboxService } from '../mail/mailboxes/mailbox-service.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import type { StaffService, StaffInput } from '../staff/staff-service.js';
import type { Staff } from '../staff/staff.js';
import type { TopicService } from '../topics/topic-service.js';

const TOKEN_KEY = 'setup.token';
const TOKEN_TTL_MS = 24 * 3600_000;

interface StoredSetup {
  nonce: string;
  expires: number;
}

/**
 * First run, osTicket's installer without a separate step: while no staff account exists, start-up prints a
 * one-time link whose token (valid a day) lets whoever holds it create the first administrator.
 *
 * Several nodes may start on an empty database at once, and whichever link an operator copies must work. So
 * the first node stores a random nonce (insert-if-absent: one wins, the others read it) and every node prints
 * the token derived from it, an HMAC under the cluster's shared token key (settings/secrets.ts). Deriving needs
 * no new secret and no encryption to manage; whoever can read the settings table can derive the token, but
 * they can already forge client links with the key stored beside it, and the token opens nothing once the
 * first administrator exists. Restarting within the day prints the same link; using it deletes the nonce,
 * spending every copy.
 */
export class SetupService {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly staff: StaffService,
    private readonly departments: DepartmentService,
    private readonly topics: TopicService,
    private readonly clock: Clock,
    private readonly mailboxes: MailboxService,
    private readonly key: Buffer,
    /** The first department's and help topic's names, in the site's language: clients see them in the portal. */
    private readonly defaultNames: () => Promise<{ department: string; topic: string }>,
  ) {}

  private derive(nonce: string): string {
    return createHmac('sha256', this.key).update(`setup:${nonce}`).digest('base64url');
  }

  private async stored(): Promise<StoredSetup | null> {
    const raw = await this.settings.get(TOKEN_KEY);
    const parsed = raw ? (JSON.parse(raw) as Partial<StoredSetup>) : null;
    return parsed && typeof parsed.nonce === 'string' && typeof parsed.expires === 'number' ? (parsed as StoredSetup) : null;
  }

  /** A help desk needs a department and a help topic before its first ticket. */
  async ensureDefaults(): Promise<void> {
    const existing = await this.departments.defaultDepartment();
    const hasTopics = (await this.topics.tree()).length > 0;
    const names = existing && hasTopics ? null : await this.defaultNames();
    const dept = existing ?? (await this.departments.ensure(names!.department));
    await this.departments.ensureDefault(dept);
    if (names && !hasTopics) await this.topics.ensureFirst(names.topic, dept.id);
    await this.mailboxes.ensureDefault();
  }

  /** The cluster's setup token while no staff account exists (a new one once the last expired), else null. */
  async issueToken(): Promise<string | null> {
    if (await this.staff.hasAnyStaff()) return null;
    const fresh = () => JSON.stringify({ nonce: randomBytes(24).toString('base64url'), expires: this.clock.now().getTime() + TOKEN_TTL_MS });
    const raw = await this.settings.getOrInsert(TOKEN_KEY, fresh);
    let stored = await this.stored();
    if (!stored || stored.expires <= this.clock.now().getTime()) {
      // Only the value read is replaced: nodes replacing an expired nonce at once still agree on one.
      await this.settings.deleteIfEquals(TOKEN_KEY, raw);
      await this.settings.getOrInsert(TOKEN_KEY, fresh);
      stored = await this.stored();
    }
    return stored ? this.derive(stored.nonce) : null;
  }

  async isTokenValid(token: string): Promise<boolean> {
    if (!token || (await this.staff.hasAnyStaff())) return false;
    const stored = await this.stored();
    if (!stored || stored.expires <= this.clock.now().getTime()) return false;
    const a = Buffer.from(this.derive(stored.nonce));
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** `passwordAgain` is the form's second password field: its mismatch is reported with every other problem. */
  async createFirstAdmin(token: string, input: Omit<StaffInput, 'isAdmin' | 'departments'> & { passwordAgain?: string }): Promise<Staff> {
    if (!(await this.isTokenValid(token))) throw new AppError('SETUP_LINK_INVALID', 'forbidden', 'admin.setup.errors.link_invalid');
    const { passwordAgain, ...account } = input;
    const fields = this.staff.fieldErrors({ ...account, username: account.username.trim().toLowerCase(), email: account.email.trim(), isAdmin: true, departments: [] }, true);
    if (passwordAgain !== undefined && passwordAgain !== (account.password ?? '')) fields.password2 = 'validation.passwords_differ';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    await this.ensureDefaults();
    const departments = (await this.departments.list()).map((d) => ({ departmentId: d.id, isManager: true }));
    const admin = await this.staff.create(null, { ...account, isAdmin: true, departments });
    await this.settings.delete(TOKEN_KEY);
    // Setup signs the new administrator in: that is their first sign-in, not "never".
    await this.staff.recordSignIn(admin.id);
    return admin;
  }
}
