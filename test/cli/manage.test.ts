import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { systemClock } from '../../src/db/time.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { lines, run } from '../helpers/spawn.js';

const manage = (args: string[], env: Record<string, string>) => run('scripts/manage.ts', args, env);

/** Services on the database the CLI wrote to, to check its effects the way the product sees them. */
async function servicesOn(t: Test, url: string) {
  const db = createDatabase(url);
  t.teardown(() => db.close());
  const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent' });
  return createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });
}

t.test('help and usage errors', async (t) => {
  const env = { DATABASE_URL: 'mysql://root@127.0.0.1:1/never_used' };
  const [help, cmdHelp, none, unknown, missing, badOption] = await Promise.all([
    manage(['--help'], env),
    manage(['create-staff', '--help'], env),
    manage([], env),
    manage(['frobnicate'], env),
    manage(['create-staff', '--username', 'x'], env),
    manage(['create-api-key', '--colour', 'red'], env),
  ]);
  t.equal(help.code, 0);
  for (const c of ['migrate', 'create-staff', 'create-api-key']) t.match(help.stdout, c);
  t.equal(cmdHelp.code, 0);
  for (const o of ['--username', '--email', '--password', '--admin', '--department']) t.match(cmdHelp.stdout, o);
  t.equal(none.code, 2, 'no command is a usage error');
  t.match(none.stdout, 'Usage:');

  for (const [r, pattern] of [[unknown, /unknown command "frobnicate"/], [missing, /missing --email, --password/], [badOption, /--colour/]] as const) {
    t.equal(r.code, 2);
    t.equal(lines(r.stderr).length, 1, 'one line');
    t.match(r.stderr, pattern);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('migrate, create-staff and create-api-key on a fresh database', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const env = { DATABASE_URL: url };

  const first = await manage(['migrate'], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /Applied \d+ migration/);
  const again = await manage(['migrate'], env);
  t.equal(again.code, 0);
  t.match(again.stdout, 'up to date');

  const created = await manage(['create-staff', '--username', 'Admin', '--email', 'admin@example.com', '--password', 'a long password', '--admin', '--department', 'Sales', '--name', 'Ada Admin'], env);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /Created administrator "admin"/);

  const services = await servicesOn(t, url);
  const admin = await services.staff.authenticate('admin', 'a long password', '127.0.0.1');
  t.ok(admin.isAdmin);
  t.equal(admin.name, 'Ada Admin');
  t.same((await services.staff.get(admin.id)).departments.map((d) => d.name), ['Sales'], 'department created and joined');

  const [dup, weak] = await Promise.all([
    manage(['create-staff', '--username', 'admin', '--email', 'other@example.com', '--password', 'a long password'], env),
    manage(['create-staff', '--username', 'bob', '--email', 'not-an-address', '--password', 'short'], env),
  ]);
  t.equal(dup.code, 1);
  t.equal(lines(dup.stderr).length, 1);
  t.match(dup.stderr, /--username: .*already in use/);
  t.equal(weak.code, 1);
  t.equal(lines(weak.stderr).length, 1);
  t.match(weak.stderr, /--email: .*--password: /);
  t.equal((await services.staff.list()).length, 1, 'nothing else created');

  const key = await manage(['create-api-key', '--name', 'Web shop', '--ip', '10.0.0.9'], env);
  t.equal(key.code, 0, key.stderr);
  const keys = key.stdout.match(/sb_[A-Za-z0-9_-]+/g) ?? [];
  t.equal(keys.length, 1, 'the key is printed once');
  const principal = await services.apiKeys.authenticate(keys[0]!, '10.0.0.9');
  t.equal(principal.name, 'Web shop');
  await t.rejects(services.apiKeys.authenticate(keys[0]!, '10.0.0.10'), { code: 'API_KEY_IP_FORBIDDEN' }, 'bound to the address');

  const badIp = await manage(['create-api-key', '--ip', 'nowhere'], env);
  t.equal(badIp.code, 1);
  t.match(badIp.stderr, /--ip: .*not an IP address/);
});

t.test('an unreachable database or a bad config value is one line and a non-zero exit', async (t) => {
  const [down, badConfig] = await Promise.all([
    manage(['create-api-key'], { DATABASE_URL: 'mysql://root:secret@127.0.0.1:1/x' }),
    manage(['migrate'], { DATABASE_URL: 'sqlite:/tmp/never-created.sqlite', HTTP_PORT: 'abc' }),
  ]);
  t.equal(down.code, 1);
  t.equal(lines(down.stderr).length, 1, down.stderr);
  t.match(down.stderr, /cannot connect to the database at mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/x/);
  t.notMatch(down.stderr, 'secret', 'password not shown');
  t.notMatch(down.stderr, /\n\s+at /);
  t.equal(badConfig.code, 1);
  t.equal(lines(badConfig.stderr).length, 1);
  t.match(badConfig.stderr, 'HTTP_PORT');
});
