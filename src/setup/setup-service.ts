import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import type { DepartmentService } from '../departments/department-service.js';
import type { MailboxService } from '../mail/mailboxes/mailbox-service.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import type { StaffService, StaffInput } from '../staff/staff-service.js';
import type { Staff } from '../staff/staff.js';
import type { TopicRepository } from '../topics/topic-repository.js';

const TOKEN_KEY = 'setup.token';
const TOKEN_TTL_MS = 24 * 3600_000;
const hash = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * First run, osTicket's installer without a separate step: while no staff account exists, start-up prints a
 * one-time link whose token (stored hashed, valid a day) lets whoever holds it create the first administrator.
 */
export class SetupService {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly staff: StaffService,
    private readonly departments: DepartmentService,
    private readonly topics: TopicRepository,
    private readonly clock: Clock,
    private readonly mailboxes: MailboxService,
  ) {}

  /** A help desk needs a department and a help topic before its first ticket. */
  async ensureDefaults(): Promise<void> {
    const dept = (await this.departments.defaultDepartment()) ?? (await this.departments.ensure('Support'));
    await this.departments.ensureDefault(dept);
    if (!(await this.topics.list()).length && !(await this.topics.findByName('General inquiry'))) {
      await this.topics.insert({ name: 'General inquiry', departmentId: dept.id, defaultPriority: 2, isPublic: true, isActive: true }).catch(() => undefined);
    }
    await this.mailboxes.ensureDefault();
  }

  /** Returns a fresh setup token when no staff account exists yet, else null. */
  async issueToken(): Promise<string | null> {
    if (await this.staff.hasAnyStaff()) return null;
    const token = randomBytes(24).toString('base64url');
    await this.settings.set(TOKEN_KEY, JSON.stringify({ hash: hash(token), expires: this.clock.now().getTime() + TOKEN_TTL_MS }));
    return token;
  }

  async isTokenValid(token: string): Promise<boolean> {
    if (await this.staff.hasAnyStaff()) return false;
    const raw = await this.settings.get(TOKEN_KEY);
    if (!raw || !token) return false;
    const stored = JSON.parse(raw) as { hash: string; expires: number };
    const a = Buffer.from(stored.hash);
    const b = Buffer.from(hash(token));
    return a.length === b.length && timingSafeEqual(a, b) && stored.expires > this.clock.now().getTime();
  }

  /** `passwordAgain` is the form's second password field: its mismatch is reported with every other problem. */
  async createFirstAdmin(token: string, input: Omit<StaffInput, 'isAdmin' | 'departments'> & { passwordAgain?: string }): Promise<Staff> {
    if (!(await this.isTokenValid(token))) throw new AppError('SETUP_LINK_INVALID', 'forbidden', 'This setup link is no longer valid. Restart the server for a new one, or use `npm run manage -- create-staff`.');
    const { passwordAgain, ...account } = input;
    const fields = this.staff.fieldErrors({ ...account, username: account.username.trim().toLowerCase(), email: account.email.trim(), isAdmin: true, departments: [] }, true);
    if (passwordAgain !== undefined && passwordAgain !== (account.password ?? '')) fields.password2 = 'The passwords do not match.';
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
