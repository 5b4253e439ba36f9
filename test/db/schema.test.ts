import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';
import type { Database } from '../../src/db/database.js';
import { createDatabase } from '../../src/db/database.js';
import { pendingMigrations } from '../../src/db/migrate.js';
import { freshDatabase, freshDatabaseUrl } from '../helpers/db.js';
import { ROOT, lines, run } from '../helpers/spawn.js';

/**
 * Tables and their columns, sorted, so a snapshot changes only when the schema does. A column is its name,
 * with a trailing "?" when it is nullable.
 */
type Schema = Record<string, string[]>;

async function describeSchema(db: Database): Promise<Schema> {
  const schema: Schema = {};
  if (db.dialect === 'mysql') {
    const rows = (await db.knex.raw(
      'SELECT table_name AS t, column_name AS c, is_nullable AS n FROM information_schema.columns WHERE table_schema = DATABASE()',
    ))[0] as Array<{ t: string; c: string; n: string }>;
    for (const r of rows) (schema[r.t] ??= []).push(r.n === 'YES' ? `${r.c}?` : r.c);
  } else {
    const tables = (await db.knex.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) as Array<{ name: string }>;
    for (const { name } of tables) {
      const cols = (await db.knex.raw('SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?)', [name])) as Array<{ name: string; nn: number; pk: number }>;
      // SQLite reports an INTEGER PRIMARY KEY as nullable although it never holds NULL; MySQL says NOT NULL.
      schema[name] = cols.map((c) => (c.nn === 0 && c.pk === 0 ? `${c.name}?` : c.name));
    }
  }
  return Object.fromEntries(Object.keys(schema).sort().map((name) => [name, schema[name]!.sort()]));
}

// Migrations run three times here, twice in child processes: more than tap's default on a busy MariaDB (CI runs
// this beside a second suite; one fresh MariaDB schema took over two minutes there).
t.setTimeout(600_000);

t.test('migrating an empty database gives the committed schema snapshot', async (t) => {
  const { db, drop } = await freshDatabase({ migrate: true });
  t.teardown(drop);
  const actual = await describeSchema(db);
  const file = resolve(ROOT, `test/fixtures/schema/${db.dialect}.json`);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(resolve(ROOT, 'test/fixtures/schema'), { recursive: true });
    const body = Object.entries(actual).map(([name, cols]) => `  ${JSON.stringify(name)}: ${JSON.stringify(cols)}`).join(',\n');
    writeFileSync(file, `{\n${body}\n}\n`);
    t.comment(`wrote ${file}`);
  }
  t.ok(existsSync(file), `snapshot ${file} exists (create it with UPDATE_SNAPSHOTS=1 after adding a migration)`);
  if (!existsSync(file)) return;
  const expected = JSON.parse(readFileSync(file, 'utf8')) as Schema;
  t.same(Object.keys(actual), Object.keys(expected), 'the same tables');
  for (const name of Object.keys(expected)) t.same(actual[name], expected[name], `columns of ${name}`);
});

/** Every table's full definition, indexes and foreign keys included, as the database itself states it. */
async function definitions(db: Database): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (db.dialect === 'mysql') {
    const [tables] = (await db.knex.raw("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")) as [Array<{ t: string }>];
    for (const { t } of tables) {
      const [[row]] = (await db.knex.raw('SHOW CREATE TABLE ??', [t])) as [Array<Record<string, string>>];
      // The next AUTO_INCREMENT value follows the rows, not the schema.
      out[t] = row!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
    }
  } else {
    const rows = (await db.knex.raw("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")) as Array<{ type: string; name: string; sql: string }>;
    for (const r of rows) out[`${r.type} ${r.name}`] = r.sql;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

// The test helpers copy a template instead of migrating each test's database (test/helpers/db.ts): a copy that
// lost a foreign key or an index would let every other test run on a schema production never has.
t.test('a test database copied from the template is the migrated schema, indexes, keys and migration records included', async (t) => {
  const real = await freshDatabase({ migrate: true });
  t.teardown(real.drop);
  const copy = await freshDatabase();
  t.teardown(copy.drop);
  const [a, b] = [await definitions(real.db), await definitions(copy.db)];
  t.ok(Object.keys(a).length > 10, 'the migrated schema has its tables');
  t.same(Object.keys(b), Object.keys(a), 'the same tables (and, on SQLite, indexes and triggers)');
  for (const name of Object.keys(a)) t.equal(b[name], a[name], name);
  const applied = async (db: Database) => (await db.knex('knex_migrations').select('name').orderBy('name')).map((r: { name: string }) => r.name);
  t.same(await applied(copy.db), await applied(real.db), 'the migrations count as applied');
  t.same(await pendingMigrations(copy.db), [], 'nothing left to migrate');
});

t.test('both dialects have the same tables and columns', async (t) => {
  const read = (d: string) => {
    const file = resolve(ROOT, `test/fixtures/schema/${d}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Schema) : null;
  };
  const [sqlite, mysql] = [read('sqlite'), read('mysql')];
  t.ok(sqlite && mysql, 'both snapshots committed');
  if (!sqlite || !mysql) return;
  // Full-text search is a per-dialect port (DESIGN.md §9): SQLite's FTS5 tables have no MySQL counterpart
  // (MySQL keeps its FULLTEXT indexes on the tables' search_tokens columns).
  const portable = (s: Schema) => Object.fromEntries(Object.entries(s).filter(([name]) => !/fts/.test(name)));
  t.same(portable(sqlite), portable(mysql));
});

t.test('two processes migrating the same fresh database at once both succeed', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const results = await Promise.all([1, 2].map(() => run('scripts/manage.ts', ['migrate'], { DATABASE_URL: url }, 300_000)));
  for (const r of results) t.equal(r.code, 0, `exit 0; stderr: ${lines(r.stderr).join(' | ')}`);
  const db = createDatabase(url);
  t.teardown(() => db.close());
  const applied = (await db.knex('knex_migrations').select('name')).map((r: { name: string }) => r.name);
  t.equal(new Set(applied).size, applied.length, 'each migration recorded once');
  const { migrations } = await import('../../migrations/index.js');
  t.same(applied.sort(), migrations.map(([name]) => name).sort(), 'all migrations applied');
});
