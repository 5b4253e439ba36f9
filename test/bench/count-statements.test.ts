import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { ROOT } from '../helpers/spawn.js';

// The benchmarks' "statements per request" come from this preload (scripts/bench/count-statements.mjs): it must
// count each statement knex runs once, BEGIN and COMMIT included, and answer SIGUSR2 with the count.
t.test('the statement counter counts what knex runs on better-sqlite3 and reports it on SIGUSR2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-count-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
    const knex = require('knex')({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    await knex.raw('create table t (a integer)');
    await knex('t').insert({ a: 1 });
    await knex('t').select('a');
    await knex.transaction(async (trx) => { await trx('t').insert({ a: 2 }); });
    process.kill(process.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
    await knex.destroy();
  `;
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(ROOT, 'scripts/bench/count-statements.mjs')).href, '--input-type=module', '-e', script], {
    env: { ...process.env, SB_BENCH_STATEMENTS_DIR: dir, SB_BENCH_SERVER_ROOT: ROOT },
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(r.status, 0, r.stderr);
  // create, insert, select, then BEGIN, insert, COMMIT: six; asked once.
  t.equal(readFileSync(join(dir, String(r.pid)), 'utf8'), '1 6');
});
