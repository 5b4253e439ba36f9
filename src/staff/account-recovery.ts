import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError } from '../errors.js';
import type { Translator } from '../i18n/translator.js';
import { passwordLinkNotice } from '../mail/outbound/notices.js';
import type { OutboxRepository } from '../mail/outbound/outbox-repository.js';
import type { RateLimiter, RateLimit } from '../rate-limits/rate-limiter.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PasswordLinkPurpose, PasswordLinks } from './password-links.js';
import type { StaffRepository } from './staff-repository.js';
import { newPasswordErrors, type Staff } from './staff.js';

/** How long a link works: a forgotten password is reset now; an invitation waits for the new agent's first day. */
const LINK_TTL_MS: Record<PasswordLinkPurpose, number> = { reset: 60 * 60_000, invite: 7 * 86_400_000 };

// Per address, so one client cannot try every name; per account, so nobody's inbox is flooded with links.
const REQUESTS_PER_ADDRESS: RateLimit = { scope: 'password_reset:ip', max: 10, windowMs: 60 * 60_000 };
const LINKS_PER_ACCOUNT: RateLimit = { scope: 'password_reset:account', max: 3, windowMs: 60 * 60_000 };

export interface AccountRecoveryDeps {
  db: Database;
  clock: Clock;
  staff: StaffRepository;
  links: PasswordLinks;
  passwords: PasswordHasher;
  outbox: OutboxRepository;
  rateLimiter: RateLimiter;
  sessions: SessionRepository;
  audit: AuditRepository;
  /** The translator for an agent's stored language (null: the site's). */
  translatorFor: (language: string | null) => Promise<Translator>;
  publicUrl: string;
  helpdeskName: string;
  mailDomain: string;
}

/**
 * Agents set their own passwords: a link by mail when they forgot it, or when an administrator created their
 * account without one (an invitation), so that no administrator types or sees an agent's password.
 */
export class AccountRecovery {
  constructor(private readonly d: AccountRecoveryDeps) {}

  /**
   * "Forgot password": mails a reset link to the account named by username or address, if it is active. The
   * caller answers the same whether or not one was found; only the address's own limit shows (429), which
   * says nothing about accounts.
   */
  async requestReset(login: string, ip: string): Promise<void> {
    const allowed = await this.d.rateLimiter.take(REQUESTS_PER_ADDRESS, ip);
    if (!allowed.allowed) throw new AppError('TOO_MANY_ATTEMPTS', 'too_many', 'staff.password.forgot_throttled', { retryAt: allowed.retryAt.toISOString() });
    const found = await this.d.staff.findForLogin(login);
    if (!found || !found.isActive) return;
    if (!(await this.d.rateLimiter.take(LINKS_PER_ACCOUNT, String(found.id))).allowed) return;
    await this.d.db.transaction(async () => {
      await this.mailLink(found, 'reset');
      await this.d.audit.record({ staffId: null, action: 'staff.password_link', objectType: 'staff', objectId: found.id, details: { purpose: 'reset', requestedBy: 'self' } });
    });
  }

  /**
   * An administrator sends an agent a link to set their password: the invitation while none is set (a new
   * account), a reset link otherwise. Runs inside the caller's transaction when there is one.
   */
  async sendLink(actorStaffId: number | null, staffId: number): Promise<PasswordLinkPurpose> {
    const s = await this.d.staff.getWithPasswordHash(staffId);
    if (!s || !s.isActive) throw new AppError('STAFF_NOT_FOUND', 'not_found', 'staff.account.not_found');
    const purpose = s.passwordSet ? 'reset' : 'invite';
    await this.d.db.transaction(async () => {
      await this.mailLink(s, purpose);
      await this.d.audit.record({ staffId: actorStaffId, action: 'staff.password_link', objectType: 'staff', objectId: staffId, details: { purpose } });
    });
    return purpose;
  }

  private async mailLink(s: Staff & { passwordHash: string }, purpose: PasswordLinkPurpose): Promise<void> {
    const expiresAt = new Date(this.d.clock.now().getTime() + LINK_TTL_MS[purpose]);
    const link = `${this.d.publicUrl}/scp/password/reset?t=${this.d.links.sign(s.id, purpose, s.passwordHash, expiresAt)}`;
    const notice = passwordLinkNotice(await this.d.translatorFor(s.language), purpose, {
      name: s.name, username: s.username, helpdesk: this.d.helpdeskName, link, expiresAt, timeZone: s.timezone,
    });
    const { language, ...content } = notice;
    await this.d.outbox.enqueue({
      ticketId: null, entryId: null, kind: `staff_${purpose}`, to: [s.email], ...content,
      headers: { 'Content-Language': language, 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      fromAddress: `noreply@${this.d.mailDomain}`,
    });
  }

  /** The account a link lets its holder set the password of; null when it is forged, expired or used. */
  async check(token: string): Promise<{ staff: Staff; purpose: PasswordLinkPurpose } | null> {
    const grant = await this.grant(token);
    if (!grant) return null;
    const { passwordHash: _secret, ...staff } = grant.staff;
    return { staff, purpose: grant.purpose };
  }

  private async grant(token: string) {
    const id = this.d.links.staffIdOf(token);
    const s = id === null ? null : await this.d.staff.getWithPasswordHash(id);
    if (!s || !s.isActive) return null;
    const grant = this.d.links.verify(token, s.passwordHash, this.d.clock.now());
    return grant ? { staff: s, purpose: grant.purpose } : null;
  }

  /** Sets the password a link was sent for; every session of the account ends, and the link with it. */
  async setPassword(token: string, password: string, password2: string): Promise<Staff> {
    const invalid = () => new AppError('PASSWORD_LINK_INVALID', 'not_found', 'staff.password.link_invalid');
    const grant = await this.grant(token);
    if (!grant) throw invalid();
    const fields = newPasswordErrors(password, password2);
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const passwordHash = await this.d.passwords.hash(password);
    const { passwordHash: used, ...staff } = grant.staff;
    await this.d.db.transaction(async () => {
      if (!(await this.d.staff.replacePasswordHash(staff.id, used, passwordHash))) throw invalid();
      const sessionsEnded = await this.d.sessions.destroyForStaff(staff.id);
      await this.d.audit.record({ staffId: staff.id, action: 'staff.password_set_by_link', objectType: 'staff', objectId: staff.id, details: { purpose: grant.purpose, sessionsEnded } });
    });
    return staff;
  }
}
