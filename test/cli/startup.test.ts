import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freshDatabaseUrl } from '../helpers/db.js';
import { collect, lines, run, start } from '../helpers/spawn.js';

t.test('an unreachable database stops start-up with one line and a non-zero exit', async (t) => {
  const r = await run('src/main.ts', [], { DATABASE_URL: 'mysql://root:hunter2@127.0.0.1:1/x', HTTP_PORT: '0', SMTP_PORT: '0' });
  t.not(r.code, 0);
  t.equal(lines(r.stderr).length, 1, r.stderr);
  t.match(r.stderr, /^switchboard: cannot connect to the database at mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/x: /);
  t.notMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  t.notMatch(r.stderr + r.stdout, 'hunter2', 'no password');
});

t.test('a SQLite directory it cannot write to (a read-only /data) stops start-up with one line', async (t) => {
  // root writes anywhere its mode bits forbid; sysfs refuses it too, as a read-only volume would.
  const dir = process.getuid?.() === 0 ? '/sys' : mkdtempSync(join(tmpdir(), 'switchboard-ro-'));
  if (dir !== '/sys') {
    chmodSync(dir, 0o555);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  }
  const env = { HTTP_PORT: '0', SMTP_PORT: '0', HTTP_HOST: '127.0.0.1', SMTP_HOST: '127.0.0.1' };
  const [file, subdir] = await Promise.all([
    run('src/main.ts', [], { ...env, DATABASE_URL: `sqlite:${dir}/switchboard.sqlite` }),
    run('src/main.ts', [], { ...env, DATABASE_URL: `sqlite:${dir}/data/switchboard.sqlite` }),
  ]);
  for (const r of [file, subdir]) {
    t.not(r.code, 0);
    t.equal(lines(r.stderr).length, 1, r.stderr);
    t.match(r.stderr, new RegExp(`^switchboard: cannot connect to the database at sqlite:${dir}/.*directory must be writable`));
    t.notMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  }
});

t.test('an invalid config value stops start-up with one line naming the key', async (t) => {
  const [port, level] = await Promise.all([
    run('src/main.ts', [], { HTTP_PORT: 'abc', DATABASE_URL: 'sqlite:/tmp/switchboard-never-created/x.sqlite' }),
    run('src/main.ts', [], { LOG_LEVEL: 'loud', DATABASE_URL: 'sqlite:/tmp/switchboard-never-created/x.sqlite' }),
  ]);
  for (const [r, key] of [[port, 'HTTP_PORT'], [level, 'LOG_LEVEL']] as const) {
    t.not(r.code, 0);
    t.equal(lines(r.stderr).length, 1, r.stderr);
    t.match(r.stderr, key);
    t.notMatch(r.stderr, /\n\s+at /);
  }
});

t.test('TRUST_PROXY=true is refused at start-up with one line saying why and what to write', async (t) => {
  const db = 'sqlite:/tmp/switchboard-never-created/x.sqlite';
  const [yes, junk] = await Promise.all([
    run('src/main.ts', [], { TRUST_PROXY: 'true', DATABASE_URL: db }),
    run('src/main.ts', [], { TRUST_PROXY: '10.0.0.0/24,proxy.example', DATABASE_URL: db }),
  ]);
  for (const r of [yes, junk]) {
    t.not(r.code, 0);
    t.equal(lines(r.stderr).length, 1, r.stderr);
    t.match(r.stderr, /TRUST_PROXY/);
    t.match(r.stderr, /TRUST_PROXY=127\.0\.0\.1/, 'says what to write instead');
    t.notMatch(r.stderr, /\n\s+at /);
  }
  t.match(yes.stderr, /any client claim any address/);
  t.match(junk.stderr, /proxy\.example/);
});

t.test('first run prints the setup link; SIGTERM stops cleanly', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const child = start('src/main.ts', [], { DATABASE_URL: url, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', SMTP_HOST: '127.0.0.1', SMTP_PORT: '0', PUBLIC_URL: 'http://desk.test' });
  const done = collect(child, 60_000);
  let out = '';
  child.stdout!.on('data', (d: string) => (out += d));
  const deadline = Date.now() + 45_000;
  while (!/scp\/setup\?token=/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.match(out, /http:\/\/desk\.test\/scp\/setup\?token=[A-Za-z0-9_-]{20,}/, 'one-time link to create the first administrator');
  child.kill('SIGTERM');
  const r = await done;
  t.equal(r.code, 0, `clean exit on SIGTERM; stderr: ${r.stderr}`);
});
