import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import t, { type Test } from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { buildInstall, imageCommand, startIn, type Running } from '../helpers/production.js';
import { rawSession } from '../helpers/smtp.js';
import { ROOT, childEnv } from '../helpers/spawn.js';

/**
 * The production entry point as the image and `npm start` run it (compiled, no tsx): a stop by signal
 * finishes what is in flight and exits 0, with one worker and with two.
 */

const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const install = buildInstall();
t.teardown(install.remove);

const ENV = { HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', SMTP_HOST: '127.0.0.1', SMTP_PORT: '0', LOG_LEVEL: 'info', MAIL_DOMAIN: 'desk.test' };

async function started(t: Test, argv: string[], env: Record<string, string>): Promise<Running & { httpPort: number; smtpPort: number }> {
  const app = startIn(install.dir, argv, { ...ENV, ...env });
  t.teardown(() => void app.child.kill('SIGKILL'));
  const [, http] = await app.waitFor(/listening on [^\s]+:(\d+)\)/);
  const [, smtp] = await app.waitFor(/SMTP on [^\s]+:(\d+) /);
  return { ...app, httpPort: Number(http), smtpPort: Number(smtp) };
}

/** The HEALTHCHECK's command (exec form, possibly continued over several lines). */
function healthCommand(): string[] {
  const m = /^HEALTHCHECK(?:[^\n]*\\\n)*[^\n]*/m.exec(dockerfile);
  return JSON.parse(/CMD (\[.*\])/s.exec(m?.[0] ?? '')?.[1] ?? '[]') as string[];
}

/** Runs the health check in the installation as the container would, with `env`; resolves with its exit code. */
function runHealthCheck(env: Record<string, string>): Promise<number | null> {
  const [, ...args] = healthCommand();
  const child = spawn(process.execPath, args, { cwd: install.dir, env: childEnv(env), stdio: 'ignore' });
  return new Promise((res) => child.on('close', (code) => res(code)));
}

/** A form post whose body arrives in two parts; resolves with the status line once the whole response came. */
function slowPost(port: number): { sendRest(): void; response: Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1' });
  const body = 'a=1&b=2&c=3';
  socket.write(`POST /logout HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 4)}`);
  let data = '';
  socket.setEncoding('latin1').on('data', (d: string) => (data += d));
  const response = new Promise<string>((res) => socket.on('close', () => res(data.split('\r\n')[0] ?? '')));
  return { sendRest: () => void socket.write(body.slice(4)), response };
}

t.test('the Dockerfile runs node on the compiled entry point, and its health check asks the configured port', async (t) => {
  const cmd = imageCommand();
  t.equal(cmd[0], 'node', 'node itself is PID 1: SIGTERM reaches the app');
  t.notOk(cmd.some((a) => /npm|tsx|\bsh\b|bash/.test(a)), 'no npm, tsx or shell wrapper');
  t.match(cmd[cmd.length - 1], /^dist\/.+\.js$/, 'compiled JavaScript');
  t.ok(existsSync(resolve(install.dir, cmd[cmd.length - 1]!)), 'the entry point the build makes');
  t.equal(JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).scripts.start, `exec ${cmd.join(' ')}`, 'npm start runs the same command, exec-ing over its shell');

  const health = healthCommand();
  t.equal(health[0], 'node', 'exec form, run by node');
  t.notMatch(health.join(' '), /:\d{2,5}\b|\b8080\b/, 'no fixed port');
  t.match(health.join(' '), /HTTP_PORT/, 'the port from the environment');

  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  t.notMatch(runtime, /apt-get|npm (ci|install)|g\+\+/, 'no build tools installed in the runtime stage');
  t.notMatch(runtime, /COPY[^\n]*\b(src|test)\b/, 'no TypeScript sources or tests in the runtime stage');
  t.match(dockerfile, /npm prune --omit=dev/, 'only production dependencies reach the runtime stage');
});

t.test('compose.yaml: MariaDB in utf8mb4 on a named volume, the app waits for its health check, mail 25 -> 2525', async (t) => {
  const compose = readFileSync(resolve(ROOT, 'compose.yaml'), 'utf8');
  t.match(compose, /character-set-server=utf8mb4/);
  t.match(compose, /- db-data:\/var\/lib\/mysql[^]*\nvolumes:\n {2}db-data:/, 'a named volume');
  t.match(compose, /\n {2}db:[^]*healthcheck:[^]*\n {2}app:/, 'the database has a health check');
  t.match(compose, /depends_on:\s+db:\s+condition: service_healthy/, 'the app starts once it passes');
  t.match(compose, /"\$\{SMTP_PUBLISH:-25\}:2525"/);
  t.match(compose, /DATABASE_URL: mysql:\/\/switchboard:\$\{DB_PASSWORD[^}]*\}@db:3306\/switchboard/, 'the password from .env');
  t.match(compose, /docker compose exec -T db sh -c 'exec mariadb-dump --single-transaction/, 'the backup command');
});

t.test('SIGTERM to the image command: the SMTP transaction and the request in flight finish, idle SMTP gets 421, exit 0', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const app = await started(t, imageCommand(), { DATABASE_URL: url });
  t.equal(await runHealthCheck({ HTTP_PORT: String(app.httpPort) }), 0, 'healthy on the port the app was given');
  t.equal(await runHealthCheck({ HTTP_PORT: '1' }), 1, 'and unhealthy on another port');

  const idle = await rawSession(app.smtpPort);
  await idle.say('EHLO idle.test');
  const mail = await rawSession(app.smtpPort);
  await mail.say('EHLO sender.test');
  t.match(await mail.say('MAIL FROM:<someone@example.org>'), /^250/);
  t.match(await mail.say('RCPT TO:<support@desk.test>'), /^250/);
  t.match(await mail.say('DATA'), /^354/);
  mail.write('From: someone@example.org\r\nTo: support@desk.test\r\nSubject: sent while stopping\r\n\r\nfirst half,');
  const post = slowPost(app.httpPort);
  await new Promise((r) => setTimeout(r, 300));

  app.child.kill('SIGTERM');
  t.match(await idle.reply(), /^421 /, 'a session between transactions is turned away politely');
  await app.waitFor(/shutting down/);
  mail.write(' second half\r\n');
  const verdict = await mail.say('.');
  post.sendRest();
  t.match(await post.response, /^HTTP\/1\.1 [1-4]\d\d /, 'the request in flight got its answer');

  const { code } = await app.exited;
  t.equal(code, 0, 'exit 0', { output: app.output() });
  t.match(app.output(), /"msg":"stopped"/);
  // Finished within the grace period, so accepted; at its end it would have been a 421 and a retry.
  t.match(verdict, /^250 /, 'the transaction in flight was accepted');
  const db = createDatabase(url);
  const tickets = await db.knex('tickets').where({ subject: 'sent while stopping' }).count({ n: '*' });
  await db.close();
  t.equal(Number(tickets[0]!.n), verdict.startsWith('250') ? 1 : 0, `nothing lost or doubled (${verdict})`);
  if (url.startsWith('sqlite:')) {
    const wal = `${url.slice('sqlite:'.length)}-wal`;
    t.ok(!existsSync(wal) || statSync(wal).size === 0, 'the WAL was checkpointed into the database file');
  }
});

t.test('npm start passes SIGTERM and Ctrl-C (SIGINT) on to the app, which stops cleanly', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const app = await started(t, ['npm', 'start'], { DATABASE_URL: url });
    const idle = await rawSession(app.smtpPort);
    app.child.kill(signal);
    t.match(await idle.reply(), /^421 /);
    const { code } = await app.exited;
    t.equal(code, 0, `${signal}: exit 0`, { output: app.output() });
    t.match(app.output(), new RegExp(`"signal":"${signal}".*"msg":"shutting down"[^]*"msg":"stopped"`));
  }
});

t.test('two workers share the ports, a crashed one is replaced, SIGTERM stops them all with exit 0', async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const app = await started(t, imageCommand(), { DATABASE_URL: url, SWITCHBOARD_WORKERS: '2' });
  const listening = () => [...app.output().matchAll(/"pid":(\d+),[^\n]*"msg":"Server listening/g)].map((m) => Number(m[1]));
  await app.waitFor(/"pid":\d+,[^\n]*"msg":"Server listening[^]*"pid":\d+,[^\n]*"msg":"Server listening/);
  const [first, second] = listening();
  t.not(first, second, 'two worker processes listen');
  t.not(first, app.child.pid, 'the primary does not serve');
  t.equal(app.output().match(/scp\/setup\?token=/g)?.length, 1, 'the setup link is printed once');

  for (let i = 0; i < 4; i++) {
    const r = await fetch(`http://127.0.0.1:${app.httpPort}/healthz`, { headers: { connection: 'close' } });
    t.equal(r.status, 200);
  }
  t.match((await rawSession(app.smtpPort)).greeting, /^220 /);

  process.kill(first!, 'SIGKILL');
  await app.waitFor(/"msg":"a worker exited; restarting it"/);
  const deadline = Date.now() + 30_000;
  while (listening().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(listening().length, 3, 'a new worker took its place');

  app.child.kill('SIGTERM');
  const { code } = await app.exited;
  t.equal(code, 0, 'exit 0', { output: app.output() });
  t.equal(app.output().match(/"msg":"stopped"/g)?.length, 3, 'both workers and the primary');
});
