import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';

/**
 * A fresh, migrated database for one test file: a per-file schema on MySQL when TEST_DATABASE_URL is set,
 * otherwise SQLite in a temporary directory. Files run in parallel without seeing each other's rows.
 */
export async function freshDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (base && base.startsWith('mysql://')) {
    const name = `sbt_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'mysql2', connection: { uri: base } as never, pool: { min: 0, max: 1 } });
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
    await admin.destroy();
    const u = new URL(base);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      drop: async () => {
        const a = knexFactory({ client: 'mysql2', connection: { uri: base } as never, pool: { min: 0, max: 1 } });
        await a.raw('DROP DATABASE IF EXISTS ??', [name]);
        await a.destroy();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  return { url: `sqlite:${join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function freshDatabase(): Promise<{ db: Database; url: string; drop: () => Promise<void> }> {
  const { url, drop } = await freshDatabaseUrl();
  const db = createDatabase(url);
  await migrateLatest(db);
  return {
    db,
    url,
    drop: async () => {
      await db.close().catch(() => undefined);
      await drop();
    },
  };
}
