import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Test } from 'tap';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { migrations } from '../../migrations/index.js';
import { ROOT } from '../../src/paths.js';

/**
 * A fresh, migrated database for one test: a schema of its own on MySQL when TEST_DATABASE_URL is set,
 * otherwise SQLite in a temporary directory. Files run in parallel without seeing each other's rows.
 *
 * Running every migration for each of the suite's ~150 databases was most of their set-up time (about 0.45 s
 * each on MariaDB), so the migrations run once into a TEMPLATE, named after a hash of the migrations' source,
 * and each test's database is a copy of it: on MySQL the template's CREATE TABLE statements (foreign keys
 * included, which CREATE TABLE … LIKE would drop) and its rows (knex's migration records), sent in one round
 * trip; on SQLite a copy of the template's file. A changed migration changes the hash, so a stale template is
 * never used. The tests of the migrations themselves ask for the real thing: `freshDatabase({ migrate: true })`.
 */

// The sources, also when this runs compiled (dist/tests/): both kinds of run then share one template.
const MIGRATIONS = resolve(ROOT, 'migrations');

/** Of every migration's source, so that editing one (while writing it) builds a new template. */
function migrationsHash(): string {
  const h = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS).sort()) h.update(name).update('\0').update(readFileSync(join(MIGRATIONS, name))).update('\0');
  return h.digest('hex').slice(0, 12);
}

const adminKnex = (base: string, multipleStatements = false): Knex =>
  knexFactory({ client: 'mysql2', connection: { uri: base, multipleStatements } as never, pool: { min: 0, max: 1 } });

const withUrlPath = (base: string, name: string) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};

// ---------------------------------------------------------------------------------------------------------
// MySQL: a template schema per migration set, built once under a server-wide lock.

/** The table in the template that holds the script which recreates it; its presence marks the template complete. */
const SCRIPT_TABLE = 'sbt_template_script';

async function readScript(admin: Knex, template: string): Promise<string | null> {
  const [tables] = (await admin.raw('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [template, SCRIPT_TABLE])) as [unknown[]];
  if (!tables.length) return null;
  const [rows] = (await admin.raw('SELECT script FROM ??.??', [template, SCRIPT_TABLE])) as [Array<{ script: string }>];
  return rows[0]?.script ?? null;
}

/**
 * Migrates `template` and stores in it the script that makes a copy: each table's SHOW CREATE TABLE and an
 * INSERT … SELECT for each table that migrations filled. Without foreign key checks, so order does not matter.
 */
async function buildTemplate(base: string, admin: Knex, template: string): Promise<string> {
  await admin.raw('DROP DATABASE IF EXISTS ??', [template]);
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [template]);
  const db = createDatabase(withUrlPath(base, template));
  try {
    await migrateLatest(db);
  } finally {
    await db.close();
  }
  const [tables] = (await admin.raw("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [template])) as [Array<{ name: string }>];
  const parts = ['SET FOREIGN_KEY_CHECKS = 0'];
  for (const { name } of tables) {
    const [[create]] = (await admin.raw('SHOW CREATE TABLE ??.??', [template, name])) as [Array<Record<string, string>>];
    parts.push(create!['Create Table']!);
    const [[count]] = (await admin.raw('SELECT COUNT(*) AS n FROM ??.??', [template, name])) as [Array<{ n: number }>];
    // `{{TEMPLATE}}`: the rows are read from the template at copy time, not written into the script.
    if (Number(count!.n) > 0) parts.push(admin.raw('INSERT INTO ?? SELECT * FROM ??.??', [name, '{{TEMPLATE}}', name]).toQuery());
  }
  parts.push('SET FOREIGN_KEY_CHECKS = 1');
  const script = parts.join(';\n');
  await admin.raw('CREATE TABLE ??.?? (script LONGTEXT NOT NULL)', [template, SCRIPT_TABLE]);
  await admin.raw('INSERT INTO ??.?? (script) VALUES (?)', [template, SCRIPT_TABLE, script]);
  return script;
}

let mysqlScript: Promise<{ template: string; script: string }> | null = null;

/** The template's script, building the template first if no test process has (GET_LOCK: one builder at a time). */
function templateScript(base: string): Promise<{ template: string; script: string }> {
  mysqlScript ??= (async () => {
    const template = `sbt_tmpl_${migrationsHash()}`;
    const admin = adminKnex(base);
    try {
      let script = await readScript(admin, template);
      if (script) return { template, script };
      // The lock belongs to the connection: the pool of one keeps every statement below on it.
      const [[got]] = (await admin.raw('SELECT GET_LOCK(?, 600) AS ok', [template])) as [Array<{ ok: number }>];
      if (Number(got!.ok) !== 1) throw new Error(`could not take the lock to build the test template ${template}`);
      try {
        script = (await readScript(admin, template)) ?? (await buildTemplate(base, admin, template));
      } finally {
        await admin.raw('SELECT RELEASE_LOCK(?)', [template]);
      }
      return { template, script };
    } finally {
      await admin.destroy();
    }
  })();
  mysqlScript.catch(() => (mysqlScript = null));
  return mysqlScript;
}

async function mysqlDatabase(base: string, migrated: 'template' | 'empty'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sbt_${randomBytes(6).toString('hex')}`;
  const { template, script } = migrated === 'template' ? await templateScript(base) : { template: '', script: '' };
  const admin = adminKnex(base, true);
  try {
    const create = admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]).toQuery();
    const use = admin.raw('USE ??', [name]).toQuery();
    await admin.raw(script ? `${create};\n${use};\n${script.replaceAll('`{{TEMPLATE}}`', `\`${template}\``)}` : create);
  } catch (err) {
    // A copy that failed half-way leaves no half-made database behind.
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]).catch(() => undefined);
    throw err;
  } finally {
    await admin.destroy();
  }
  return {
    url: withUrlPath(base, name),
    drop: async () => {
      const a = adminKnex(base);
      await a.raw('DROP DATABASE IF EXISTS ??', [name]);
      await a.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// SQLite: a template file per migration set; the first test process to need it writes it, atomically.

async function sqliteTemplate(): Promise<string> {
  const file = join(tmpdir(), `switchboard-test-template-${migrationsHash()}.sqlite`);
  if (existsSync(file)) return file;
  const building = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const db = createDatabase(`sqlite:${building}`);
  try {
    await migrateLatest(db);
    // Everything into the main file, so that a copy of that one file is the whole database.
    await db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await db.close();
  }
  // Two processes building at once write the same content; the rename makes either one whole or absent.
  renameSync(building, file);
  for (const extra of ['-wal', '-shm']) rmSync(`${building}${extra}`, { force: true });
  return file;
}

async function sqliteDatabase(migrated: 'template' | 'empty'): Promise<{ url: string; drop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const file = join(dir, 'test.sqlite');
  if (migrated === 'template') copyFileSync(await sqliteTemplate(), file);
  return { url: `sqlite:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------------------

function testDatabase(migrated: 'template' | 'empty'): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  return base && base.startsWith('mysql://') ? mysqlDatabase(base, migrated) : sqliteDatabase(migrated);
}

/** An empty database (no tables): for tests of start-up and of the migrations, which migrate it themselves. */
export function freshDatabaseUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  return testDatabase('empty');
}

/**
 * A database migrated up to, not including, the migration named `before`: for a migration's test, which fills it
 * as older versions would have and then runs that migration. Closed and dropped when the test ends.
 */
export async function databaseBefore(t: Test, before: string): Promise<Database> {
  const { url, drop } = await testDatabase('empty');
  t.teardown(drop);
  const db = createDatabase(url);
  t.teardown(() => db.close());
  for (const [name, m] of migrations) {
    if (name === before) break;
    await m.up(db.knex);
  }
  return db;
}

/**
 * A migrated database: a copy of the template, or with `migrate: true` one that ran every migration itself
 * (for the tests that check what the migrations make).
 */
export async function freshDatabase(opts: { migrate?: boolean } = {}): Promise<{ db: Database; url: string; drop: () => Promise<void> }> {
  const { url, drop } = await testDatabase(opts.migrate ? 'empty' : 'template');
  const db = createDatabase(url);
  if (opts.migrate) await migrateLatest(db);
  return {
    db,
    url,
    drop: async () => {
      await db.close().catch(() => undefined);
      await drop();
    },
  };
}
