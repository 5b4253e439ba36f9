import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildApp } from '../../src/app.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { createServices } from '../../src/services.js';
import { createLogger } from '../../src/logger.js';
import { createTestContext } from '../helpers/context.js';

/**
 * The database goes away under a running app and comes back: portal pages answer a 503 page, the API a 503
 * JSON error, /readyz 503; afterwards everything answers again without a restart.
 *
 * MySQL: the app connects as its own account; the outage rotates that account's password and kills its
 * connections, so every reconnect is refused (ER_ACCESS_DENIED_ERROR) until the password is restored, like a
 * server that refuses logins. SQLite: better-sqlite3 keeps the file open, so an unlinked or unreadable file goes
 * unnoticed (and root ignores permissions); the outage closes the app's connection pool (as after a crash of the
 * connection) while the data directory is moved away and a directory stands where the file was, so reopening
 * fails with SQLITE_CANTOPEN until the directory is put back.
 */
t.test('database outage while running: 503 page, 503 JSON, /readyz 503, recovery without restart', async (t) => {
  const ctx = await createTestContext(t);
  const { key } = await ctx.services.apiKeys.create({ name: 'outage' });
  const { number } = (await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web' })).ticket;

  let db: Database;
  let goDown: () => Promise<void>;
  let comeBack: () => Promise<void>;
  if (ctx.dbUrl.startsWith('mysql://')) {
    const user = `sbo_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const root = ctx.services.db.knex;
    await root.raw('CREATE USER ??@? IDENTIFIED BY ?', [user, '%', password]);
    t.teardown(() => root.raw('DROP USER IF EXISTS ??@?', [user, '%']).then(() => undefined, () => undefined));
    const url = new URL(ctx.dbUrl);
    await root.raw('GRANT ALL ON ??.* TO ??@?', [url.pathname.slice(1), user, '%']);
    url.username = user;
    url.password = password;
    db = createDatabase(url.toString());
    goDown = async () => {
      await root.raw('ALTER USER ??@? IDENTIFIED BY ?', [user, '%', randomBytes(12).toString('hex')]);
      const [rows] = await root.raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
      for (const r of rows as Array<{ id: number }>) await root.raw(`KILL ${Number(r.id)}`).catch(() => undefined);
    };
    comeBack = async () => {
      await root.raw('ALTER USER ??@? IDENTIFIED BY ?', [user, '%', password]);
    };
  } else {
    const file = ctx.dbUrl.slice('sqlite:'.length);
    const dir = dirname(file);
    db = createDatabase(ctx.dbUrl);
    goDown = async () => {
      await db.knex.destroy();
      renameSync(dir, `${dir}.away`);
      mkdirSync(file, { recursive: true });
      db.knex.initialize();
    };
    comeBack = async () => {
      rmSync(dir, { recursive: true, force: true });
      renameSync(`${dir}.away`, dir);
    };
    t.teardown(() => {
      try {
        renameSync(`${dir}.away`, dir);
      } catch {
        // Already back in place.
      }
    });
  }
  t.teardown(() => db.close().catch(() => undefined));

  const services = createServices({ db, clock: ctx.clock, config: ctx.config, log: createLogger('silent'), secrets: ctx.services.secrets });
  const app = await buildApp(services);
  await app.ready();
  t.teardown(() => app.close());

  const portal = () => app.inject({ method: 'GET', url: '/tickets/new' });
  const api = () => app.inject({ method: 'GET', url: `/api/v1/tickets/${number}`, headers: { 'x-api-key': key } });
  const ready = () => app.inject({ method: 'GET', url: '/readyz' });

  t.equal((await portal()).statusCode, 200, 'up');
  t.equal((await api()).statusCode, 200);
  t.equal((await ready()).statusCode, 200);

  await goDown();

  const page = await portal();
  t.equal(page.statusCode, 503);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.body, /Temporarily unavailable/);
  t.match(page.body, /cannot reach its database/);
  t.equal(page.headers['retry-after'], '30');
  const json = await api();
  t.equal(json.statusCode, 503);
  t.equal(json.json().error.code, 'DATABASE_UNAVAILABLE');
  const probe = await ready();
  t.equal(probe.statusCode, 503);
  t.equal(probe.json().status, 'database unreachable');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process itself is alive');

  await comeBack();

  // A connection killed during the outage may still be handed out once; poll for a bounded number of tries.
  let status = 0;
  for (let i = 0; i < 5 && status !== 200; i++) status = (await portal()).statusCode;
  t.equal(status, 200, 'portal recovered');
  t.equal((await api()).statusCode, 200, 'API recovered');
  t.equal((await ready()).statusCode, 200, '/readyz recovered');
});

t.test('a conflict the database gave up on (a lock wait timed out) is a 503 that says try again, never a 500', async (t) => {
  const { mapError } = await import('../../src/web/plugins/errors.js');
  const warned: unknown[] = [];
  const request = { log: { warn: (o: unknown) => warned.push(o), error: () => t.fail('logged as an error') } } as never;
  const timeout = Object.assign(new Error('Lock wait timeout exceeded; try restarting transaction'), { code: 'ER_LOCK_WAIT_TIMEOUT' });
  t.match(mapError(timeout, request), { status: 503, code: 'DATABASE_BUSY', message: 'errors.database_busy' });
  t.equal(warned.length, 1, 'logged');
});
