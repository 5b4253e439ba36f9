import type { AuditRepository } from '../../audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { UniqueViolation } from '../../db/errors.js';
import type { Clock } from '../../db/time.js';
import { requireAdmin } from '../../departments/department-service.js';
import { ValidationError, notFound } from '../../errors.js';
import type { StaffPrincipal } from '../../staff/staff.js';
import { isEmail } from '../../users/email.js';
import type { DirectoryCache } from '../../directory/directory-cache.js';
import type { BanRepository, BannedSender } from './ban-repository.js';
import { banPatternsFor } from './classify.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** Senders whose mail the listener refuses with 550: single addresses, or whole domains and their subdomains. */
export class BanService {
  constructor(
    private readonly db: Database,
    private readonly bans: BanRepository,
    private readonly directory: Pick<DirectoryCache, 'banFor'>,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
  ) {}

  list(): Promise<BannedSender[]> {
    return this.bans.list();
  }

  /**
   * The ban that covers any of these addresses, counting the hit; null when the sender may write. Read from
   * the directory cache: a ban made on any node applies here within DIRECTORY_REFRESH_MS.
   */
  async check(...addresses: Array<string | null>): Promise<BannedSender | null> {
    return this.checkBeyond(null, ...addresses);
  }

  /**
   * As `check`, leaving out the patterns of `checked`, an address checked moments ago: the listener's MAIL FROM,
   * which the intake need not look up again when the message's From is the same sender (no query at all then).
   */
  async checkBeyond(checked: string | null, ...addresses: Array<string | null>): Promise<BannedSender | null> {
    const done = new Set(checked ? banPatternsFor(checked) : []);
    const patterns = [...new Set(addresses.filter((a): a is string => Boolean(a)).flatMap(banPatternsFor))].filter((p) => !done.has(p));
    if (!patterns.length) return null;
    const ban = await this.directory.banFor(patterns);
    if (ban) await this.bans.hit(ban.id, this.clock.now());
    return ban;
  }

  async add(actor: StaffPrincipal, input: { pattern: string; note: string }): Promise<BannedSender> {
    requireAdmin(actor);
    const pattern = input.pattern.trim().toLowerCase().replace(/^@/, '');
    if (!(isEmail(pattern) || DOMAIN.test(pattern))) throw new ValidationError({ pattern: 'admin.bans.errors.pattern' });
    return this.db.transaction(async () => {
      let id: number;
      try {
        id = await this.bans.insert(pattern, input.note.trim().slice(0, 255), this.clock.now());
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ pattern: 'admin.bans.errors.exists' });
        throw err;
      }
      await this.audit.record({ staffId: actor.staffId, action: 'ban.create', objectType: 'banned_sender', objectId: id, details: { pattern } });
      return (await this.bans.get(id))!;
    });
  }

  async remove(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const ban = await this.bans.get(id);
    if (!ban) throw notFound('BAN_NOT_FOUND', 'admin.bans.not_found');
    await this.db.transaction(async () => {
      await this.bans.delete(id);
      await this.audit.record({ staffId: actor.staffId, action: 'ban.delete', objectType: 'banned_sender', objectId: id, details: { pattern: ban.pattern } });
    });
  }
}
