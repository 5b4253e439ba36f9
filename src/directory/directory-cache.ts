import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import type { Department } from '../departments/department-repository.js';
import type { BannedSender } from '../mail/inbound/ban-repository.js';
import type { Mailbox } from '../mail/mailboxes/mailbox-repository.js';
import type { Staff, StaffWithDepartments } from '../staff/staff.js';
import type { HelpTopic } from '../topics/topic-repository.js';
import type { DirectoryVersion } from './directory-version.js';

/**
 * The invalidation delay: the longest a node goes on using its copy after another node changed a mailbox, a
 * ban, a department (or which one is the default), an agent, a membership or an organization's domains. A lookup re-reads the version
 * row when its copy was last checked this long ago, and reloads everything when the number moved. So a sender
 * banned on one node is refused by every node at most this long after the ban was committed (INSTALL.md §9,
 * test/mail/directory-nodes.test.ts).
 */
export const DIRECTORY_REFRESH_MS = 1000;

interface Snapshot {
  version: number;
  defaultDepartment: Department | null;
  defaultTopic: HelpTopic | null;
  defaultLanguage: string | null;
  mailboxes: Mailbox[];
  mailboxByLocalPart: Map<string, Mailbox>;
  bans: Map<string, BannedSender>;
  activeByEmail: Map<string, Staff>;
  activeById: Map<number, Staff>;
  membersByDepartment: Map<number, Staff[]>;
  organizationByDomain: Map<string, number>;
}

export interface DirectorySource {
  mailboxes(): Promise<Mailbox[]>;
  bans(): Promise<BannedSender[]>;
  staff(): Promise<StaffWithDepartments[]>;
  /** Where tickets go that nothing else places (a setting and a department row). */
  defaultDepartment(): Promise<Department | null>;
  /** The topic of new tickets that name none (a setting and a topic row), if active. */
  defaultTopic(): Promise<HelpTopic | null>;
  /** The language an administrator chose for the site (a setting), or null. */
  defaultLanguage(): Promise<string | null>;
  /** The domains that link new users to an organization. */
  organizationDomains(): Promise<Array<{ domain: string; organizationId: number }>>;
}

/**
 * What every incoming message consults, kept in memory: read from the database once when it changes, not
 * four times per message. Each process holds its own copy; the version row keeps the copies honest.
 */
export class DirectoryCache {
  private snapshot: Snapshot | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private inFlight: { promise: Promise<Snapshot>; startedAt: number } | null = null;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
    private readonly source: DirectorySource,
  ) {}

  async defaultDepartment(): Promise<Department | null> {
    return (await this.current()).defaultDepartment;
  }

  async defaultTopic(): Promise<HelpTopic | null> {
    return (await this.current()).defaultTopic;
  }

  /** The administrator's choice of site language, or null when none was made (the configuration's then). */
  async defaultLanguage(): Promise<string | null> {
    return (await this.current()).defaultLanguage;
  }

  async mailboxByLocalPart(localPart: string): Promise<Mailbox | null> {
    return (await this.current()).mailboxByLocalPart.get(localPart) ?? null;
  }

  async mailboxById(id: number): Promise<Mailbox | null> {
    return (await this.current()).mailboxes.find((m) => m.id === id) ?? null;
  }

  /** Every mailbox, ordered by local part. */
  async mailboxes(): Promise<Mailbox[]> {
    return (await this.current()).mailboxes;
  }

  /** The oldest ban among these patterns, as the database would pick it. */
  async banFor(patterns: string[]): Promise<BannedSender | null> {
    const { bans } = await this.current();
    const hits = patterns.map((p) => bans.get(p)).filter((b): b is BannedSender => b !== undefined);
    return hits.sort((a, b) => a.id - b.id)[0] ?? null;
  }

  /** The organization a new user of this (normalised) domain joins, if any. */
  async organizationForDomain(domain: string): Promise<number | null> {
    return (await this.current()).organizationByDomain.get(domain) ?? null;
  }

  /** The active staff account that uses this (lower-cased) address. */
  async activeStaffByEmail(email: string): Promise<Staff | null> {
    return (await this.current()).activeByEmail.get(email.toLowerCase()) ?? null;
  }

  async activeStaff(id: number): Promise<Staff | null> {
    return (await this.current()).activeById.get(id) ?? null;
  }

  /** Active members of a department, by id. */
  async departmentMembers(departmentId: number): Promise<Staff[]> {
    return (await this.current()).membersByDepartment.get(departmentId) ?? [];
  }

  /** The version this copy was read at: what caches built on the directory (cache/menu-cache.ts) key on. */
  async currentVersion(): Promise<number> {
    return (await this.current()).version;
  }

  private async current(): Promise<Snapshot> {
    const now = this.clock.now().getTime();
    // A change made by this process shows at once: its transaction may not have committed yet when the
    // version was raised, so for one interval every lookup checks the version.
    const changedHere = now - this.version.bumpedAt < DIRECTORY_REFRESH_MS;
    // A clock stepped back (NTP) makes the age negative: checked then too, or the copy would outlive the delay.
    const age = now - this.checkedAt;
    if (this.snapshot && !changedHere && age >= 0 && age < DIRECTORY_REFRESH_MS) return this.snapshot;
    // Inside a transaction the refresh runs on it: on SQLite's single connection a refresh queued on the pool
    // would wait for this very transaction to end.
    if (this.db.inTransaction) return this.refresh(now);
    if (!this.inFlight || this.inFlight.startedAt < this.version.bumpedAt) {
      const promise = this.refresh(now).finally(() => {
        if (this.inFlight?.promise === promise) this.inFlight = null;
      });
      this.inFlight = { promise, startedAt: now };
    }
    return this.inFlight.promise;
  }

  /** The version is read before the rows, so rows changed in between are at least as new as the number says. */
  private async refresh(startedAt: number): Promise<Snapshot> {
    const version = await this.version.read();
    let next = this.snapshot;
    if (!next || version !== next.version) {
      const [mailboxes, bans, staff] = [await this.source.mailboxes(), await this.source.bans(), await this.source.staff()];
      next = {
        ...build(version, mailboxes, bans, staff),
        defaultDepartment: await this.source.defaultDepartment(),
        defaultTopic: await this.source.defaultTopic(),
        defaultLanguage: await this.source.defaultLanguage(),
        organizationByDomain: new Map((await this.source.organizationDomains()).map((d) => [d.domain, d.organizationId])),
      };
    }
    // Two refreshes may overlap (one inside a transaction): the one that started first, and so may have read
    // older rows, does not replace the other's. (Not compared by number: a restored backup may lower it.)
    if (!this.snapshot || startedAt >= this.checkedAt || this.checkedAt > this.clock.now().getTime()) {
      this.snapshot = next;
      this.checkedAt = startedAt;
    }
    return next;
  }
}

function build(version: number, mailboxes: Mailbox[], bans: BannedSender[], staff: StaffWithDepartments[]): Omit<Snapshot, 'defaultDepartment' | 'defaultTopic' | 'defaultLanguage' | 'organizationByDomain'> {
  const active = staff.filter((s) => s.isActive).sort((a, b) => a.id - b.id);
  const membersByDepartment = new Map<number, Staff[]>();
  for (const s of active) {
    const { departments, ...plain } = s;
    for (const d of departments) membersByDepartment.set(d.id, [...(membersByDepartment.get(d.id) ?? []), plain]);
  }
  return {
    version,
    mailboxes,
    mailboxByLocalPart: new Map(mailboxes.map((m) => [m.localPart, m])),
    bans: new Map(bans.map((b) => [b.pattern, b])),
    activeByEmail: new Map(active.map((s) => [s.email.toLowerCase(), s])),
    activeById: new Map(active.map((s) => [s.id, s])),
    membersByDepartment,
  };
}
