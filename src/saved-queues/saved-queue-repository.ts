import type { Database } from '../db/database.js';
import { toDbTime, type Clock } from '../db/time.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import type { SavedQueue } from './saved-queue.js';

const toQueue = (r: Record<string, unknown>): SavedQueue => ({
  id: Number(r.id),
  name: r.name as string,
  staffId: r.staff_id === null || r.staff_id === undefined ? null : Number(r.staff_id),
  query: r.query as string,
  sort: r.sort as SavedQueue['sort'],
});

/**
 * All SQL of saved queues. Every write raises the directory version in its transaction: the queue bar lists
 * an agent's saved queues on every queue page, from the MenuCache, so a page reads no row for it.
 */
export class SavedQueueRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
  ) {}

  /** Every saved queue, oldest first: few enough (a handful per agent) to cache whole and filter per agent. */
  async all(): Promise<SavedQueue[]> {
    const rows = await this.db.run((q) => q('saved_queues').orderBy('id').select('id', 'name', 'staff_id', 'query', 'sort'));
    return rows.map(toQueue);
  }

  async get(id: number): Promise<SavedQueue | null> {
    const r = await this.db.run((q) => q('saved_queues').where({ id }).first('id', 'name', 'staff_id', 'query', 'sort'));
    return r ? toQueue(r) : null;
  }

  /** Throws UniqueViolation when the owner has a queue of that name (`nameKey`, folded) already. */
  async insert(queue: Omit<SavedQueue, 'id'>, nameKey: string): Promise<number> {
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) =>
        q('saved_queues').insert({
          name: queue.name, name_key: nameKey, staff_id: queue.staffId, owner_key: queue.staffId ?? 0, query: queue.query, sort: queue.sort, created_at: toDbTime(this.clock.now()),
        }),
      );
      await this.version.bump();
      return Number(id);
    });
  }

  /** Throws UniqueViolation as insert does. */
  async rename(id: number, name: string, nameKey: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('saved_queues').where({ id }).update({ name, name_key: nameKey }));
      await this.version.bump();
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('saved_queues').where({ id }).delete());
      await this.version.bump();
    });
  }
}
