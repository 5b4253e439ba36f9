import type { Database } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { toDbTime } from '../db/time.js';

/** Named leases in the database: whoever holds an unexpired lease row is the one node doing that work. */
export class LeaseRepository {
  constructor(private readonly db: Database) {}

  /**
   * Takes or renews the lease; true when `holder` has it until `expiresAt`. A conditional UPDATE (ours, or
   * expired) decides between nodes, and the insert for a first-ever lease is settled by the primary key,
   * so correctness never rests on row locks SQLite does not have (DESIGN.md §9).
   */
  async acquire(name: string, holder: string, now: Date, expiresAt: Date): Promise<boolean> {
    const n = await this.db.run((q) =>
      q('scheduler_leases')
        .where('name', name)
        .where((w) => w.where('holder', holder).orWhere('expires_at', '<', toDbTime(now)))
        .update({ holder, expires_at: toDbTime(expiresAt), renewals: q.raw('renewals + 1') }),
    );
    if (n === 1) return true;
    try {
      await this.db.run((q) => q('scheduler_leases').insert({ name, holder, expires_at: toDbTime(expiresAt), renewals: 0 }));
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.run((q) => q('scheduler_leases').where({ name, holder }).delete());
  }
}
