import type { Knex } from 'knex';
import { migrations, type Migration } from '../../migrations/index.js';
import type { Database } from './database.js';

const byName = new Map<string, Migration>(migrations);

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => migrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => byName.get(name)!,
};

/**
 * knex reads which migrations are pending before it takes its lock, and reads again after only inside a wrapping
 * transaction, which these migrations do not use (DDL commits on MySQL anyway). So a node that read the list
 * while another was migrating would, once it got the lock, run again what the other had just finished. Checked
 * here, under the lock: the attempt is given up (knex frees the lock) and migrateLatest tries again.
 */
class RanElsewhere extends Error {
  override name = 'MigrationsRanElsewhere';
}

const migratorConfig: Knex.MigratorConfigWithLifecycleHooks = {
  migrationSource: source,
  disableTransactions: true,
  beforeAll: async (knex, pending) => {
    const names = (pending as string[]).map((m) => source.getMigrationName(m));
    const done = await knex('knex_migrations').whereIn('name', names).select('name');
    if (done.length) throw new RanElsewhere(`already applied by another process: ${done.map((r: { name: string }) => r.name).join(', ')}`);
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Brings the schema up to date. knex takes a lock row before migrating; a second node starting at the same
 * moment gets MigrationLocked (or loses the race to create knex's own tables and their lock row, which MariaDB
 * may report as a deadlock) and simply waits for the first to finish, then finds nothing left to do.
 */
export async function migrateLatest(db: Database, opts: { waitMs?: number } = {}): Promise<string[]> {
  // Long: an upgrade that builds an index over millions of rows takes the first node minutes, and the others
  // waiting for it must not give up first (two minutes was less than a fresh MariaDB schema took under load).
  const deadline = Date.now() + (opts.waitMs ?? 15 * 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const [, applied] = (await db.knex.migrate.latest(migratorConfig)) as [number, string[]];
      return applied;
    } catch (err) {
      const message = (err as Error).message ?? '';
      const racing =
        (err as Error).name === 'MigrationLocked' ||
        err instanceof RanElsewhere ||
        /already locked|already exists|ER_TABLE_EXISTS|Duplicate entry|UNIQUE constraint failed: knex_migrations|Deadlock found|Lock wait timeout/i.test(message);
      if (!racing || Date.now() > deadline) throw err;
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
    }
  }
}

export async function pendingMigrations(db: Database): Promise<string[]> {
  const [, pending] = (await db.knex.migrate.list(migratorConfig)) as [unknown[], Array<string | { file?: string }>];
  return pending.map((p) => (typeof p === 'string' ? p : (p.file ?? String(p))));
}
