import type { Database } from '../db/database.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import { fromDbTime, toDbTime, type Clock } from '../db/time.js';

export interface Department {
  id: number;
  name: string;
  signature: string;
  /** Archived departments keep their tickets but are offered for nothing new. */
  archivedAt: Date | null;
}

export interface DepartmentWithCounts extends Department {
  memberCount: number;
  openTickets: number;
}

/** What still points at a department: archiving re-points mailboxes and topics; tickets keep it. */
export interface DepartmentUsage {
  tickets: number;
  openTickets: number;
  mailboxes: number;
  topics: number;
}

const map = (r: Record<string, unknown>): Department => ({
  id: Number(r.id),
  name: r.name as string,
  signature: r.signature as string,
  archivedAt: fromDbTime(r.archived_at as string | null),
});

/** The unique key of a name: two names that differ only in case are the same department. */
export const nameKey = (name: string) => name.trim().toLowerCase();

export class DepartmentRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
  ) {}

  /** Departments in name order; archived ones only when asked for. */
  async list(opts: { includeArchived?: boolean } = {}): Promise<Department[]> {
    return (
      await this.db.run((q) => {
        const query = q('departments').orderBy('name');
        if (!opts.includeArchived) query.whereNull('archived_at');
        return query;
      })
    ).map(map);
  }

  async listWithCounts(): Promise<DepartmentWithCounts[]> {
    const rows = await this.db.run((q) =>
      q('departments as d')
        .select(
          'd.*',
          q('staff_departments as sd').count('*').whereRaw('sd.department_id = d.id').as('member_count'),
          q('tickets as t').count('*').whereRaw('t.department_id = d.id').where('t.status', 'open').as('open_tickets'),
        )
        .orderBy('d.name'),
    );
    return rows.map((r: Record<string, unknown>) => ({
      ...map(r),
      memberCount: Number(r.member_count),
      openTickets: Number(r.open_tickets),
    }));
  }

  async get(id: number): Promise<Department | null> {
    const r = await this.db.run((q) => q('departments').where({ id }).first());
    return r ? map(r) : null;
  }

  async findByName(name: string): Promise<Department | null> {
    const r = await this.db.run((q) => q('departments').where({ name_key: nameKey(name) }).first());
    return r ? map(r) : null;
  }

  /** The department made first (at setup): where tickets go while no default is set. */
  async firstActive(): Promise<Department | null> {
    const r = await this.db.run((q) => q('departments').whereNull('archived_at').orderBy('id').first());
    return r ? map(r) : null;
  }

  async insert(name: string, signature = ''): Promise<number> {
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) =>
        q('departments').insert({ name, name_key: nameKey(name), signature, created_at: toDbTime(this.clock.now()) }),
      );
      await this.version.bump();
      return Number(id);
    });
  }

  async update(id: number, fields: { name: string; signature: string }): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('departments').where({ id }).update({ ...fields, name_key: nameKey(fields.name) }));
      await this.version.bump();
    });
  }

  async usage(id: number): Promise<DepartmentUsage> {
    const count = async (table: string, extra: Record<string, unknown> = {}) => {
      const r = await this.db.run((q) => q(table).where({ department_id: id, ...extra }).count({ n: '*' }).first());
      return Number(r?.n ?? 0);
    };
    return { tickets: await count('tickets'), openTickets: await count('tickets', { status: 'open' }), mailboxes: await count('mailboxes'), topics: await count('help_topics') };
  }

  /** Points the department's mailboxes and help topics at another one. */
  async repoint(fromId: number, toId: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('mailboxes').where({ department_id: fromId }).update({ department_id: toId }));
      await this.db.run((q) => q('help_topics').where({ department_id: fromId }).update({ department_id: toId }));
      await this.version.bump();
    });
  }

  async setArchived(id: number, archived: boolean): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('departments').where({ id }).update({ archived_at: archived ? toDbTime(this.clock.now()) : null }));
      await this.version.bump();
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('departments').where({ id }).delete());
      await this.version.bump();
    });
  }
}
