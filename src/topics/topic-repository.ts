import type { Database } from '../db/database.js';

export interface HelpTopic {
  id: number;
  name: string;
  departmentId: number;
  defaultPriority: number;
  isPublic: boolean;
  isActive: boolean;
}

const map = (r: Record<string, unknown>): HelpTopic => ({
  id: Number(r.id),
  name: r.name as string,
  departmentId: Number(r.department_id),
  defaultPriority: Number(r.default_priority),
  isPublic: Boolean(r.is_public),
  isActive: Boolean(r.is_active),
});

export class TopicRepository {
  constructor(private readonly db: Database) {}

  async list(opts: { publicOnly?: boolean } = {}): Promise<HelpTopic[]> {
    const rows = await this.db.run((q) => {
      const query = q('help_topics').orderBy('name');
      if (opts.publicOnly) query.where({ is_public: true, is_active: true });
      return query;
    });
    return rows.map(map);
  }

  async get(id: number): Promise<HelpTopic | null> {
    const r = await this.db.run((q) => q('help_topics').where({ id }).first());
    return r ? map(r) : null;
  }

  async findByName(name: string): Promise<HelpTopic | null> {
    const r = await this.db.run((q) => q('help_topics').where({ name }).first());
    return r ? map(r) : null;
  }

  async insert(t: Omit<HelpTopic, 'id'>): Promise<number> {
    const [id] = await this.db.run((q) =>
      q('help_topics').insert({ name: t.name, department_id: t.departmentId, default_priority: t.defaultPriority, is_public: t.isPublic, is_active: t.isActive }),
    );
    return Number(id);
  }
}
