import type { DirectoryVersion } from '../directory/directory-version.js';
import type { Database } from '../db/database.js';
import { wherePrefix } from '../db/prefix.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { nameKey } from '../users/name-key.js';
import type { Organization, OrganizationListRow } from './organization.js';

export class OrganizationRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    /** Raised with every change of domains: each node keeps the domains in its directory (directory-cache.ts). */
    private readonly version: DirectoryVersion,
  ) {}

  /** A page in (name_key, id) order, all or those whose name starts with `prefix` (case-folded), with member counts. */
  async page(prefix: string | null, after: { key: string; id: number } | null, limit: number): Promise<OrganizationListRow[]> {
    const rows = await this.db.run((q) => {
      const query = q('organizations as o');
      if (prefix !== null) wherePrefix(this.db, query, 'o.name_key', prefix);
      if (after) query.where('o.name_key', '>=', after.key).where((w) => w.where('o.name_key', '>', after.key).orWhere('o.id', '>', after.id));
      return query.orderBy([{ column: 'o.name_key' }, { column: 'o.id' }]).limit(limit).select('o.id', 'o.name', 'o.name_key');
    });
    const counts = await this.memberCounts(rows.map((r: Record<string, unknown>) => Number(r.id)));
    return rows.map((r: Record<string, unknown>) => ({ id: Number(r.id), name: r.name as string, key: r.name_key as string, memberCount: counts.get(Number(r.id)) ?? 0 }));
  }

  private async memberCounts(ids: number[]): Promise<Map<number, number>> {
    if (!ids.length) return new Map();
    const rows = await this.db.run((q) => q('users').whereIn('organization_id', ids).whereNull('merged_into_id').groupBy('organization_id').select('organization_id', q.raw('count(*) as n')));
    return new Map(rows.map((r: Record<string, unknown>) => [Number(r.organization_id), Number(r.n)]));
  }

  async memberCount(id: number): Promise<number> {
    return (await this.memberCounts([id])).get(id) ?? 0;
  }

  async get(id: number): Promise<Organization | null> {
    const r = await this.db.run((q) => q('organizations').where('id', id).first('id', 'name', 'created_at'));
    if (!r) return null;
    const domains = await this.db.run((q) => q('organization_domains').where('organization_id', id).orderBy('domain').pluck('domain'));
    return { id: Number(r.id), name: r.name as string, domains: domains as string[], createdAt: fromDbTimeRequired(r.created_at as string) };
  }

  /** The organization of this exact (case-folded) name. */
  async idByName(name: string): Promise<number | null> {
    const r = await this.db.run((q) => q('organizations').where('name_key', nameKey(name)).orderBy('id').first('id'));
    return r ? Number(r.id) : null;
  }

  /** Every domain that links new users to an organization: what the directory keeps (directory-cache.ts). */
  async allDomains(): Promise<Array<{ domain: string; organizationId: number }>> {
    const rows = await this.db.run((q) => q('organization_domains').select('domain', 'organization_id'));
    return rows.map((r: Record<string, unknown>) => ({ domain: r.domain as string, organizationId: Number(r.organization_id) }));
  }

  /** Which of these domains another organization (not `exceptId`) already has, and which one. */
  async domainOwners(domains: string[], exceptId: number | null): Promise<Array<{ domain: string; name: string }>> {
    if (!domains.length) return [];
    const rows = await this.db.run((q) => {
      const query = q('organization_domains as d').join('organizations as o', 'o.id', 'd.organization_id').whereIn('d.domain', domains);
      if (exceptId !== null) query.whereNot('d.organization_id', exceptId);
      return query.orderBy('d.domain').select('d.domain', 'o.name');
    });
    return rows.map((r: Record<string, unknown>) => ({ domain: r.domain as string, name: r.name as string }));
  }

  /** One row, for its id. The unique name raises UniqueViolation. */
  async insert(name: string): Promise<number> {
    const [id] = await this.db.run((q) => q('organizations').insert({ name, name_key: nameKey(name), created_at: toDbTime(this.clock.now()) }));
    return Number(id);
  }

  async rename(id: number, name: string): Promise<void> {
    await this.db.run((q) => q('organizations').where({ id }).update({ name, name_key: nameKey(name) }));
  }

  /** Replaces the organization's domains; a domain another one holds raises UniqueViolation. */
  async setDomains(id: number, domains: string[]): Promise<void> {
    await this.db.run(async (q) => {
      await q('organization_domains').where('organization_id', id).delete();
      for (const domain of domains) await q('organization_domains').insert({ domain, organization_id: id });
    });
    await this.version.bump();
  }

  async delete(id: number): Promise<boolean> {
    return this.db.run(async (q) => {
      await q('organization_domains').where('organization_id', id).delete();
      const deleted = (await q('organizations').where({ id }).delete()) > 0;
      await this.version.bump();
      return deleted;
    });
  }
}
