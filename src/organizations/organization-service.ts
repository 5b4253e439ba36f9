import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import { refusingDuplicates } from '../db/errors.js';
import { requireAdmin } from '../departments/department-service.js';
import { notFound, ValidationError, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { RequesterScope, TicketRepository, TicketVisibility } from '../tickets/ticket-repository.js';
import type { TicketListRow } from '../tickets/ticket.js';
import { nameKey } from '../users/name-key.js';
import type { DirectoryUser, UserRepository } from '../users/user-repository.js';
import type { OrganizationRepository } from './organization-repository.js';
import { checkOrganization, type Organization, type OrganizationInput, type OrganizationListRow } from './organization.js';
import { decodeCursor, paged, type Paged } from '../users/cursor.js';

export interface OrganizationPage {
  organization: Organization;
  memberCount: number;
  members: Paged<DirectoryUser>;
  tickets: TicketListRow[];
}

const ORG_NOT_FOUND = () => notFound('ORGANIZATION_NOT_FOUND', 'staff.orgs.not_found');
const NAME_TAKEN: FieldErrors = { name: 'staff.orgs.errors.duplicate_name' };
const DOMAIN_TAKEN: FieldErrors = { domains: 'staff.orgs.errors.domain_conflict' };

/**
 * Organizations (issue 11, item 5): any agent looks them up; administrators create, change and delete them,
 * since a domain decides where every new user of it lands.
 */
export class OrganizationService {
  constructor(
    private readonly d: {
      db: Database;
      orgs: OrganizationRepository;
      users: UserRepository;
      tickets: TicketRepository;
      audit: AuditRepository;
      visibility: (actor: StaffPrincipal) => TicketVisibility;
      pageSize: number;
    },
  ) {}

  async list(_actor: StaffPrincipal, p: { q?: string; after?: string }): Promise<Paged<OrganizationListRow>> {
    const prefix = nameKey(p.q ?? '') || null;
    const rows = await this.d.orgs.page(prefix, decodeCursor(p.after), this.d.pageSize + 1);
    return paged(rows, this.d.pageSize);
  }

  async get(_actor: StaffPrincipal, id: number): Promise<Organization> {
    const org = await this.d.orgs.get(id);
    if (!org) throw ORG_NOT_FOUND();
    return org;
  }

  /** The organization's page: members a page at a time, and the latest of their tickets the agent sees. */
  async page(actor: StaffPrincipal, id: number, p: { after?: string }): Promise<OrganizationPage> {
    const organization = await this.get(actor, id);
    const scope: RequesterScope = { organizationId: id };
    const [members, tickets, memberCount] = await Promise.all([
      this.d.users.membersPage(id, decodeCursor(p.after), this.d.pageSize + 1),
      this.d.tickets.pageForRequester(scope, this.d.visibility(actor), null, this.d.pageSize),
      this.d.orgs.memberCount(id),
    ]);
    return { organization, memberCount, members: paged(members, this.d.pageSize), tickets };
  }

  /** Refuses anyone but an administrator (the forms for a new organization). */
  mayManage(actor: StaffPrincipal): void {
    requireAdmin(actor);
  }

  memberCount(id: number): Promise<number> {
    return this.d.orgs.memberCount(id);
  }

  /** The organization, for an administrator about to change or delete it. */
  async forEdit(actor: StaffPrincipal, id: number): Promise<Organization> {
    requireAdmin(actor);
    return this.get(actor, id);
  }

  async create(actor: StaffPrincipal, input: OrganizationInput): Promise<number> {
    requireAdmin(actor);
    const { name, domains } = await this.check(input, null);
    return this.d.db.transaction(async () => {
      const id = await refusingDuplicates(() => this.d.orgs.insert(name), NAME_TAKEN);
      await refusingDuplicates(() => this.d.orgs.setDomains(id, domains), DOMAIN_TAKEN);
      await this.d.audit.record({ staffId: actor.staffId, action: 'organization.create', objectType: 'organization', objectId: id, details: { name, domains } });
      return id;
    });
  }

  async update(actor: StaffPrincipal, id: number, input: OrganizationInput): Promise<void> {
    requireAdmin(actor);
    const before = await this.get(actor, id);
    const { name, domains } = await this.check(input, id);
    await this.d.db.transaction(async () => {
      await refusingDuplicates(() => this.d.orgs.rename(id, name), NAME_TAKEN);
      await refusingDuplicates(() => this.d.orgs.setDomains(id, domains), DOMAIN_TAKEN);
      await this.d.audit.record({ staffId: actor.staffId, action: 'organization.update', objectType: 'organization', objectId: id, details: { from: { name: before.name, domains: before.domains }, to: { name, domains } } });
    });
  }

  /** Its members stay, without an organization; their tickets are untouched. */
  async delete(actor: StaffPrincipal, id: number): Promise<Organization> {
    requireAdmin(actor);
    const org = await this.get(actor, id);
    await this.d.db.transaction(async () => {
      await this.d.users.leaveOrganization(id);
      if (!(await this.d.orgs.delete(id))) throw ORG_NOT_FOUND();
      await this.d.audit.record({ staffId: actor.staffId, action: 'organization.delete', objectType: 'organization', objectId: id, details: { name: org.name, domains: org.domains } });
    });
    return org;
  }

  private async check(input: OrganizationInput, id: number | null) {
    const checked = checkOrganization(input);
    const errors: FieldErrors = { ...checked.errors };
    if (!errors.name) {
      const same = await this.d.orgs.idByName(checked.name);
      if (same !== null && same !== id) errors.name = 'staff.orgs.errors.duplicate_name';
    }
    if (!errors.domains) {
      const taken = await this.d.orgs.domainOwners(checked.domains, id);
      if (taken.length) errors.domains = msg('staff.orgs.errors.domain_taken', { domain: taken[0]!.domain, name: taken[0]!.name });
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    return checked;
  }
}
