import type { Database } from '../db/database.js';
import { toDbTime, type Clock } from '../db/time.js';

export interface Department {
  id: number;
  name: string;
  signature: string;
}

export interface DepartmentWithCounts extends Department {
  memberCount: number;
  openTickets: number;
}

const map = (r: Record<string, unknown>): Department => ({
  id: Number(r.id),
  name: r.name as string,
  signature: r.signature as string,
});

export class DepartmentRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<Department[]> {
    return (await this.db.run((q) => q('departments').orderBy('name'))).map(map);
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
    const r = await this.db.run((q) => q('departments').where({ name }).first());
    return r ? map(r) : null;
  }

  async insert(name: string, signature = ''): Promise<number> {
    const [id] = await this.db.run((q) =>
      q('departments').insert({ name, signature, created_at: toDbTime(this.clock.now()) }),
    );
    return Number(id);
  }

  async update(id: number, fields: { name: string; signature: string }): Promise<void> {
    await this.db.run((q) => q('departments').where({ id }).update(fields));
  }
}
