import type { Database } from '../db/database.js';
import type { DirectoryVersion } from '../directory/directory-version.js';

export interface HelpTopic {
  id: number;
  name: string;
  parentId: number | null;
  /** Its place among its siblings. */
  position: number;
  departmentId: number;
  defaultPriority: number;
  /** Offered in the portal; an internal topic is for agents' new-ticket form (and mailboxes) only. */
  isPublic: boolean;
  /** False once archived: kept for its tickets, offered for nothing new. */
  isActive: boolean;
  /** The agent its new tickets go to, when they work the ticket's department. */
  assignStaffId: number | null;
  /** Whether its new tickets send the requester the acknowledging notice. */
  autoResponse: boolean;
}

export type TopicFields = Omit<HelpTopic, 'id' | 'position'>;

/** What still names a topic: any of it keeps the topic from being deleted (it is archived instead). */
export interface TopicUsage {
  tickets: number;
  mailboxes: number;
  children: number;
}

/** A topic row, or the columns a join selected with `prefix` (mailbox-repository.ts reads a mailbox's topic so). */
export function mapTopic(r: Record<string, unknown>, prefix = ''): HelpTopic {
  const c = (name: string) => r[`${prefix}${name}`];
  return {
    id: Number(c('id')),
    name: c('name') as string,
    parentId: c('parent_id') === null || c('parent_id') === undefined ? null : Number(c('parent_id')),
    position: Number(c('position') ?? 0),
    departmentId: Number(c('department_id')),
    defaultPriority: Number(c('default_priority')),
    isPublic: Boolean(c('is_public')),
    isActive: Boolean(c('is_active')),
    assignStaffId: c('assign_staff_id') === null || c('assign_staff_id') === undefined ? null : Number(c('assign_staff_id')),
    autoResponse: Boolean(c('auto_response') ?? true),
  };
}

/** The columns a join selects to read a topic with `mapTopic(row, prefix)`. */
export const topicColumns = (alias: string, prefix: string): string[] =>
  ['id', 'name', 'parent_id', 'position', 'department_id', 'default_priority', 'is_public', 'is_active', 'assign_staff_id', 'auto_response'].map((c) => `${alias}.${c} as ${prefix}${c}`);

/** The unique key of a topic's name: unique among its siblings regardless of case (migration 0031). */
export const topicNameKey = (parentId: number | null, name: string) => `${parentId ?? 0}/${name.trim().toLowerCase()}`.slice(0, 140);

/** The columns for these fields; `name` and `parentId` come together, as they make the name's key. */
const row = (t: Partial<TopicFields>) => ({
  ...(t.name !== undefined && t.parentId !== undefined ? { name: t.name, parent_id: t.parentId, name_key: topicNameKey(t.parentId, t.name) } : {}),
  ...(t.departmentId !== undefined ? { department_id: t.departmentId } : {}),
  ...(t.defaultPriority !== undefined ? { default_priority: t.defaultPriority } : {}),
  ...(t.isPublic !== undefined ? { is_public: t.isPublic } : {}),
  ...(t.isActive !== undefined ? { is_active: t.isActive } : {}),
  ...(t.assignStaffId !== undefined ? { assign_staff_id: t.assignStaffId } : {}),
  ...(t.autoResponse !== undefined ? { auto_response: t.autoResponse } : {}),
});

/**
 * All SQL on help_topics. Every write raises the directory version: mailboxes are cached with their topic, and
 * the default topic with them (directory/directory-cache.ts).
 */
export class TopicRepository {
  constructor(
    private readonly db: Database,
    private readonly version: DirectoryVersion,
  ) {}

  /** Every topic, archived ones included, siblings in their order (the tree is assembled by topic-tree.ts). */
  async all(): Promise<HelpTopic[]> {
    return (await this.db.run((q) => q('help_topics').orderBy([{ column: 'position' }, { column: 'name' }, { column: 'id' }]))).map((r: Record<string, unknown>) => mapTopic(r));
  }

  async get(id: number): Promise<HelpTopic | null> {
    const r = await this.db.run((q) => q('help_topics').where({ id }).first());
    return r ? mapTopic(r) : null;
  }

  /** A new topic goes last among its siblings. */
  async insert(t: Pick<TopicFields, 'name' | 'departmentId' | 'defaultPriority' | 'isPublic' | 'isActive'> & Partial<TopicFields>): Promise<number> {
    return this.db.transaction(async () => {
      await this.version.bump();
      const parentId = t.parentId ?? null;
      const last = await this.db.run((q) => q('help_topics').where({ parent_id: parentId }).max({ p: 'position' }).first());
      const position = last?.p === null || last?.p === undefined ? 0 : Number(last.p) + 1;
      const [id] = await this.db.run((q) => q('help_topics').insert({ ...row({ assignStaffId: null, autoResponse: true, ...t, parentId }), position }));
      return Number(id);
    });
  }

  async update(id: number, t: Partial<TopicFields> & Pick<TopicFields, 'name' | 'parentId'>): Promise<void> {
    await this.db.transaction(async () => {
      await this.version.bump();
      await this.db.run((q) => q('help_topics').where({ id }).update(row(t)));
    });
  }

  /** Writes a new order of one parent's children: `ids` in order. */
  async reorder(ids: number[]): Promise<void> {
    await this.db.transaction(async () => {
      await this.version.bump();
      for (const [position, id] of ids.entries()) await this.db.run((q) => q('help_topics').where({ id }).update({ position }));
    });
  }

  /** Archives or restores these topics. */
  async setActive(ids: number[], active: boolean): Promise<void> {
    if (!ids.length) return;
    await this.db.transaction(async () => {
      await this.version.bump();
      await this.db.run((q) => q('help_topics').whereIn('id', ids).update({ is_active: active }));
    });
  }

  async usage(id: number): Promise<TopicUsage> {
    const count = async (table: string, column: string) => {
      const r = await this.db.run((q) => q(table).where(column, id).count({ n: '*' }).first());
      return Number(r?.n ?? 0);
    };
    return { tickets: await count('tickets', 'topic_id'), mailboxes: await count('mailboxes', 'topic_id'), children: await count('help_topics', 'parent_id') };
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.version.bump();
      await this.db.run((q) => q('help_topics').where({ id }).delete());
    });
  }
}
