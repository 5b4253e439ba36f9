import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';

/**
 * The version row of the directory cache (mailboxes, banned senders, departments, staff and their
 * memberships). Every repository that writes those tables raises it in the same transaction as its change,
 * so a node that reads a new number knows its copy is stale.
 */
export class DirectoryVersion {
  /** When this process last raised the version (epoch ms): its own cache then checks on every lookup for a while. */
  bumpedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async bump(): Promise<void> {
    await this.db.run((q) => q('cache_versions').where({ name: 'directory' }).update({ version: q.raw('version + 1') }));
    this.bumpedAt = this.clock.now().getTime();
  }

  async read(): Promise<number> {
    const r = await this.db.run((q) => q('cache_versions').where({ name: 'directory' }).first('version'));
    return Number(r?.version ?? 0);
  }
}
