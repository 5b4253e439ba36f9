import type { Database } from '../../db/database.js';
import { fromDbTime, fromDbTimeRequired, toDbTime } from '../../db/time.js';
import type { DirectoryVersion } from '../../directory/directory-version.js';

export interface BannedSender {
  id: number;
  /** A lower-cased address or domain. */
  pattern: string;
  note: string;
  hits: number;
  lastHitAt: Date | null;
  createdAt: Date;
}

const map = (r: Record<string, unknown>): BannedSender => ({
  id: Number(r.id),
  pattern: r.pattern as string,
  note: r.note as string,
  hits: Number(r.hits),
  lastHitAt: fromDbTime(r.last_hit_at as string | null),
  createdAt: fromDbTimeRequired(r.created_at as string),
});

export class BanRepository {
  constructor(
    private readonly db: Database,
    private readonly version: DirectoryVersion,
  ) {}

  async list(): Promise<BannedSender[]> {
    return (await this.db.run((q) => q('banned_senders').orderBy('pattern'))).map(map);
  }

  async get(id: number): Promise<BannedSender | null> {
    const r = await this.db.run((q) => q('banned_senders').where({ id }).first());
    return r ? map(r) : null;
  }

  async insert(pattern: string, note: string, at: Date): Promise<number> {
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) => q('banned_senders').insert({ pattern, note, hits: 0, created_at: toDbTime(at) }));
      await this.version.bump();
      return Number(id);
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('banned_senders').where({ id }).delete());
      await this.version.bump();
    });
  }

  async hit(id: number, at: Date): Promise<void> {
    await this.db.run((q) => q('banned_senders').where({ id }).update({ hits: q.raw('hits + 1'), last_hit_at: toDbTime(at) }));
  }
}
