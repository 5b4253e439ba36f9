import type { Database } from '../db/database.js';
import type { MenuCache } from '../cache/menu-cache.js';
import { UniqueViolation } from '../db/errors.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { AssignmentRules } from '../tickets/assignment-rules.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import { requireAdmin } from '../departments/department-service.js';
import type { AccountRecovery } from './account-recovery.js';
import type { PasswordHasher } from './password-hasher.js';
import type { StaffRepository } from './staff-repository.js';
import { MIN_PASSWORD_LENGTH, NO_PASSWORD, USERNAME_PATTERN, newPasswordErrors, principalOf, staffNameError, type AlertPreferences, type Staff, type StaffPrincipal, type StaffWithDepartments } from './staff.js';
import { isEmail } from '../users/email.js';

export interface StaffInput {
  username: string;
  email: string;
  name: string;
  password?: string;
  isAdmin: boolean;
  timezone?: string;
  /** The panel's language; null: the site default. The caller checks the code (I18n.supported). */
  language?: string | null;
  departments: Array<{ departmentId: number; isManager: boolean }>;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// A hash of a random password, verified against when the login name is unknown, so that a response time
// does not tell an attacker which usernames exist.
export class StaffService {
  constructor(
    private readonly db: Database,
    private readonly staff: StaffRepository,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditRepository,
    private readonly assignments: AssignmentRules,
    private readonly sessions: SessionRepository,
    private readonly menus: MenuCache,
    /** Mails an invited agent the link to choose their password. */
    private readonly recovery: Pick<AccountRecovery, 'sendLink'>,
    private readonly passwords: PasswordHasher,
  ) {}

  hasAnyStaff(): Promise<boolean> {
    return this.staff.count().then((n) => n > 0);
  }

  list(): Promise<StaffWithDepartments[]> {
    return this.staff.list();
  }

  async get(id: number): Promise<StaffWithDepartments> {
    const s = await this.staff.get(id);
    if (!s) throw notFound('STAFF_NOT_FOUND', 'staff.account.not_found');
    return { ...s, departments: (await this.staff.departmentsOf([id])).get(id) ?? [] };
  }

  /** Agents a ticket of the department may be assigned to, for the ticket page's menu (from the MenuCache). */
  listAssignable(departmentId: number): Promise<Staff[]> {
    return this.menus.get(`assignable:${departmentId}`, () => this.staff.listForDepartment(departmentId));
  }

  private validate(input: StaffInput, requirePassword: boolean): void {
    const fields = this.fieldErrors(input, requirePassword);
    if (Object.keys(fields).length) throw new ValidationError(fields);
  }

  /** Every problem with an account's fields at once, for forms that add checks of their own (setup). */
  fieldErrors(input: StaffInput, requirePassword: boolean): FieldErrors {
    const fields: FieldErrors = {};
    if (!USERNAME_PATTERN.test(input.username)) fields.username = msg('staff.account.username_invalid', { min: 2, max: 64 });
    if (!isEmail(input.email)) fields.email = 'validation.email_invalid';
    const nameError = staffNameError(input.name.trim());
    if (nameError) fields.name = nameError;
    if ((requirePassword || input.password) && (input.password ?? '').length < MIN_PASSWORD_LENGTH) {
      fields.password = msg('validation.too_short', { min: MIN_PASSWORD_LENGTH });
    }
    if (input.timezone && !isTimeZone(input.timezone)) fields.timezone = 'validation.time_zone_unknown';
    return fields;
  }

  /**
   * Creates a staff account. `actor` is null only for first run and the CLI, which stand in for an administrator.
   * Without a password the agent is invited: mailed a link to choose one, so no administrator ever knows it.
   */
  async create(actor: StaffPrincipal | null, raw: StaffInput): Promise<Staff> {
    if (actor) requireAdmin(actor);
    const input = { ...raw, username: raw.username.trim().toLowerCase(), email: raw.email.trim().toLowerCase() };
    const invite = input.password === undefined;
    this.validate(input, !invite);
    const passwordHash = invite ? NO_PASSWORD : await this.passwords.hash(input.password!);
    return this.db.transaction(async () => {
      let id: number;
      try {
        id = await this.staff.insert({ ...input, name: input.name.trim(), passwordHash, timezone: input.timezone || 'UTC' });
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ username: 'staff.account.username_taken' });
        throw err;
      }
      if (input.language) await this.staff.update(id, { language: input.language });
      await this.staff.setDepartments(id, input.departments);
      await this.audit.record({ staffId: actor?.staffId ?? null, action: 'staff.create', objectType: 'staff', objectId: id, details: { username: input.username, isAdmin: input.isAdmin, invited: invite } });
      if (invite) await this.recovery.sendLink(actor?.staffId ?? null, id);
      return (await this.staff.get(id))!;
    });
  }

  /**
   * An administrator's edit. A new password ends the agent's sessions (but `currentSession`, the editor's own,
   * when they edit themselves), so whoever knew the old one is out; a deactivation ends all of them.
   */
  async update(actor: StaffPrincipal, id: number, raw: StaffInput & { isActive: boolean }, currentSession?: string): Promise<void> {
    requireAdmin(actor);
    const current = await this.get(id);
    const input = { ...raw, username: current.username, email: raw.email.trim().toLowerCase() };
    this.validate(input, false);
    if (id === actor.staffId && (!input.isAdmin || !input.isActive)) {
      throw new ValidationError({ isAdmin: 'staff.account.cannot_demote_self' });
    }
    const passwordHash = input.password ? await this.passwords.hash(input.password) : undefined;
    await this.db.transaction(async () => {
      try {
        await this.staff.update(id, { name: input.name.trim(), email: input.email, isAdmin: input.isAdmin, isActive: input.isActive, timezone: input.timezone || current.timezone, language: input.language, passwordHash });
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ email: 'staff.account.email_taken' });
        throw err;
      }
      await this.staff.setDepartments(id, input.departments);
      // Leaving a department (or the administrator role) ends the assignments it carried, in this transaction.
      await this.assignments.afterMembershipChange(actor, { id, name: current.name }, input.departments.map((d) => d.departmentId), input.isAdmin);
      const sessionsEnded = !input.isActive
        ? await this.sessions.destroyForStaff(id)
        : passwordHash ? await this.sessions.destroyForStaff(id, id === actor.staffId ? currentSession : undefined) : 0;
      await this.audit.record({ staffId: actor.staffId, action: 'staff.update', objectType: 'staff', objectId: id, details: { isAdmin: input.isAdmin, isActive: input.isActive, passwordChanged: Boolean(passwordHash), sessionsEnded } });
    });
  }

  private async isOwnPassword(actor: StaffPrincipal, password: string): Promise<boolean> {
    const found = await this.staff.getWithPasswordHash(actor.staffId);
    return Boolean(found) && (await this.passwords.verify(found!.passwordHash, password));
  }

  /** An agent changes their own password: the current one is asked for, and their other sessions end. */
  async changeOwnPassword(actor: StaffPrincipal, input: { current: string; password: string; password2: string }, currentSession: string | undefined): Promise<void> {
    const fields: FieldErrors = newPasswordErrors(input.password, input.password2);
    if (!(await this.isOwnPassword(actor, input.current))) fields.current = 'staff.password.wrong_current';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const passwordHash = await this.passwords.hash(input.password);
    await this.db.transaction(async () => {
      await this.staff.update(actor.staffId, { passwordHash });
      const sessionsEnded = await this.sessions.destroyForStaff(actor.staffId, currentSession);
      await this.audit.record({ staffId: actor.staffId, action: 'staff.password', objectType: 'staff', objectId: actor.staffId, details: { sessionsEnded } });
    });
  }

  /**
   * An agent's own name, address and signature. A new address needs the current password: whoever holds an
   * unattended session must not be able to redirect the account's password links to themselves.
   */
  async updateProfile(actor: StaffPrincipal, raw: { name: string; email: string; signature: string; password: string }): Promise<void> {
    const current = await this.get(actor.staffId);
    const input = { name: raw.name.trim(), email: raw.email.trim().toLowerCase(), signature: raw.signature.trim() };
    const emailChanged = input.email !== current.email;
    const fields: FieldErrors = {};
    const nameError = staffNameError(input.name);
    if (nameError) fields.name = nameError;
    if (!isEmail(input.email)) fields.email = 'validation.email_invalid';
    if (input.signature.length > 2000) fields.signature = msg('validation.too_long', { max: 2000 });
    if (emailChanged && !fields.email && !(await this.isOwnPassword(actor, raw.password))) fields.emailPassword = raw.password ? 'staff.password.wrong_current' : 'staff.preferences.password_for_email';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    await this.db.transaction(async () => {
      try {
        await this.staff.update(actor.staffId, input);
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ email: 'staff.account.email_taken' });
        throw err;
      }
      await this.audit.record({ staffId: actor.staffId, action: 'staff.profile', objectType: 'staff', objectId: actor.staffId, details: { nameChanged: input.name !== current.name, emailChanged, signatureChanged: input.signature !== current.signature } });
    });
  }

  /** Which e-mail alerts the agent gets; every node follows within the directory's refresh delay. */
  async updateAlertPreferences(actor: StaffPrincipal, alerts: AlertPreferences): Promise<void> {
    await this.db.transaction(async () => {
      await this.staff.update(actor.staffId, { alerts });
      await this.audit.record({ staffId: actor.staffId, action: 'staff.alerts', objectType: 'staff', objectId: actor.staffId, details: { ...alerts } });
    });
  }

  /** "Sign out everywhere": every session of the agent ends, this one included. */
  async signOutEverywhere(actor: StaffPrincipal): Promise<void> {
    await this.db.transaction(async () => {
      const sessionsEnded = await this.sessions.destroyForStaff(actor.staffId);
      await this.audit.record({ staffId: actor.staffId, action: 'staff.sign_out_everywhere', objectType: 'staff', objectId: actor.staffId, details: { sessionsEnded } });
    });
  }

  /**
   * What an agent may change about their own account, without administrator rights. `language` is a code the
   * site offers (checked by `offered`, which names it canonically) or null for the site's default.
   */
  async updatePreferences(actor: StaffPrincipal, input: { timezone: string; language: string | null }, offered: (code: string) => string | null): Promise<void> {
    const timezone = input.timezone.trim();
    const language = input.language === null ? null : offered(input.language);
    const fields: FieldErrors = {};
    if (!timezone || !isTimeZone(timezone)) fields.timezone = 'staff.preferences.unknown_time_zone';
    if (input.language !== null && !language) fields.language = 'staff.preferences.unknown_language';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    await this.db.transaction(async () => {
      await this.staff.update(actor.staffId, { timezone, language });
      await this.audit.record({ staffId: actor.staffId, action: 'staff.preferences', objectType: 'staff', objectId: actor.staffId, details: { timezone, language } });
    });
  }

  /**
   * Verifies a login. Failures count against both the account and the client address; after too many, the
   * answer is TOO_MANY_ATTEMPTS with the time to retry, even for the right password.
   */
  async authenticate(login: string, password: string, ip: string): Promise<Staff> {
    // Counted per account, whichever of its names was typed; a name that resolves to none counts per address.
    const found = await this.staff.findForLogin(login);
    const account = found ? String(found.id) : null;
    await this.throttle.check('staff', account, ip);
    const ok = found ? await this.passwords.verify(found.passwordHash, password) : await this.passwords.verifyNothing(password);
    if (!found || !ok || !found.isActive) {
      await this.throttle.fail('staff', account, ip);
      throw new AppError('LOGIN_FAILED', 'unauthorized', 'staff.login.failed');
    }
    await this.throttle.succeed('staff', account!, ip);
    await this.staff.touchLogin(found.id);
    // The only moment the password is known: a hash made at an older cost is replaced (conditionally, so a
    // password changed meanwhile wins). Any reset link still out dies with the old hash, as it would on a change.
    if (this.passwords.needsRehash(found.passwordHash)) await this.staff.replacePasswordHash(found.id, found.passwordHash, await this.passwords.hash(password));
    const { passwordHash: _omit, ...staff } = found;
    return staff;
  }

  /** A sign-in that did not go through the login form (first-run setup). */
  async recordSignIn(staffId: number): Promise<void> {
    await this.staff.touchLogin(staffId);
  }

  /** Loads the principal for a session; null when the account is gone or deactivated. */
  async principal(staffId: number): Promise<StaffPrincipal | null> {
    const s = await this.staff.get(staffId);
    if (!s || !s.isActive) return null;
    return principalOf(s, (await this.staff.departmentsOf([staffId])).get(staffId) ?? []);
  }
}
