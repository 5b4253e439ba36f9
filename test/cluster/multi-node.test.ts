import t from 'tap';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createDatabase } from '../../src/db/database.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { systemClock } from '../../src/db/time.js';
import { freshDatabaseUrl } from '../helpers/db.js';
import { createAgent } from '../helpers/context.js';
import { message, send, startSink, waitFor } from '../helpers/smtp.js';
import { start } from '../helpers/spawn.js';

/**
 * Two real Switchboard processes (src/main.ts) on one MariaDB database, with a 2 s scheduler lease and claim
 * timeout so that failover fits in a CI run: the first-run link, sessions, lock races, the same message to
 * both listeners, and the outbox through a kill -9 of the delivering node.
 */
const base = process.env.TEST_DATABASE_URL ?? '';
const skip = base.startsWith('mysql://') ? false : 'several processes need a shared database server (set TEST_DATABASE_URL to MariaDB); SQLite is one file on one host';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

interface Node {
  child: ChildProcess;
  http: string;
  smtp: number;
  out: () => string;
}

/** A fetch client keeping cookies and the page's CSRF token, like a browser on one node or another. */
class Client {
  private readonly cookies = new Map<string, string>();
  csrf = '';
  async req(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; body: string; location: string | null }> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': this.csrf };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ _csrf: this.csrf, ...init.form }).toString();
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1]!;
    return { status: res.status, body: text, location: res.headers.get('location') };
  }
}

t.test('two nodes on one database', { skip }, async (t) => {
  const { url, drop } = await freshDatabaseUrl();
  t.teardown(drop);
  const sink = await startSink(t);
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-nodes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ scheduler: { tickSeconds: 1, leaseSeconds: 2 }, outbox: { claimTimeoutSeconds: 2, batchSize: 10 } }));

  const nodes: Node[] = [];
  const startNode = async (): Promise<Node> => {
    const [http, smtp] = [await freePort(), await freePort()];
    const child = start('src/main.ts', [], {
      DATABASE_URL: url, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(http), SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp),
      PUBLIC_URL: 'http://desk.test', MAIL_DOMAIN: 'helpdesk.test', OUTBOUND_SMTP_URL: sink.url, SWITCHBOARD_CONFIG: configFile,
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    t.teardown(() => void child.kill('SIGKILL'));
    const node = { child, http: `http://127.0.0.1:${http}`, smtp, out: () => out };
    nodes.push(node);
    return node;
  };
  const [a, b] = await Promise.all([startNode(), startNode()]);
  // A node that never prints its link says why: its own output goes into the failure.
  const link = (n: Node) =>
    waitFor(() => /\/scp\/setup\?token=([A-Za-z0-9_-]+)/.exec(n.out())?.[1], 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; the node printed: ${n.out().slice(-3000)}`);
    });

  // Both nodes start on an empty database at once: one link, and it works on either node.
  const [tokenA, tokenB] = await Promise.all([link(a), link(b)]);
  t.equal(tokenA, tokenB, 'both nodes print the same setup link');

  // The link printed by A, used on B; the session B starts is honoured by A.
  const admin = new Client();
  t.equal((await admin.req(`${b.http}/scp/setup?token=${tokenA}`)).status, 200, 'the link works on the other node');
  const made = await admin.req(`${b.http}/scp/setup`, { form: { token: tokenA, username: 'admin', email: 'admin@example.com', name: 'Ada Admin', timezone: 'UTC', password: 'correct horse battery', password2: 'correct horse battery' } });
  t.equal(made.status, 302, 'administrator created on B');
  const home = await admin.req(`${a.http}/scp/tickets`);
  t.equal(home.status, 200, 'signed in on B, recognised on A: sessions live in the database');

  // Services of the test itself, on the same database, to prepare agents and tickets.
  const db = createDatabase(url);
  t.teardown(() => db.close());
  const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent', publicUrl: 'http://desk.test', mailDomain: 'helpdesk.test' });
  const services = createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });
  const other = await createAgent(services, { name: 'Bo Other' });
  const agent = new Client();
  await agent.req(`${a.http}/scp/login`);
  t.equal((await agent.req(`${a.http}/scp/login`, { form: { login: other.username, password: other.password, next: '/scp/' } })).status, 302, 'the agent signs in on A');
  t.equal((await agent.req(`${b.http}/scp/tickets`)).status, 200, 'and is recognised on B');

  // Lock races: the administrator on A and the agent on B open the same tickets at the same instant.
  const numbers: string[] = [];
  for (let i = 0; i < 6; i++) numbers.push((await services.tickets.create(null, { name: 'R', email: `r${i}@example.com`, subject: `Race ${i}`, message: 'm', source: 'web' })).ticket.number);
  await admin.req(`${a.http}/scp/tickets`);
  for (const number of numbers) {
    const [x, y] = await Promise.all([admin.req(`${a.http}/scp/tickets/${number}/lock`, { method: 'POST' }), agent.req(`${b.http}/scp/tickets/${number}/lock`, { method: 'POST' })]);
    const mine = [x, y].map((r) => (JSON.parse(r.body) as { mine: boolean }).mine);
    t.equal(mine.filter(Boolean).length, 1, `one winner for ticket ${number}`);
  }

  // The same message handed to both listeners at the same instant is stored once, as one ticket.
  const raw = message({ from: 'dup@example.com', subject: 'Twice at once', body: 'Hello', messageId: 'same-instant@example.com' });
  const answers = await Promise.all([a, b].map((n) => send(n.smtp, raw, { from: 'dup@example.com', to: ['support@helpdesk.test'] })));
  t.same(answers.map((r) => r.code), [250, 250], 'both nodes accept it');
  t.equal(Number((await db.knex('inbound_messages').where('message_id', 'like', '%same-instant%').count({ n: '*' }))[0]!.n), 1, 'stored once');
  t.equal(Number((await db.knex('tickets').where('subject', 'Twice at once').count({ n: '*' }))[0]!.n), 1, 'one ticket');

  // The outbox: 200 mails, the delivering node killed mid-drain; the other node finishes.
  await waitFor(async () => Number((await db.knex('outbox').whereNot('status', 'sent').count({ n: '*' }))[0]!.n) === 0, 30_000);
  const before = sink.messages.length;
  const rows = Array.from({ length: 200 }, (_, i) => ({ ticketId: null, entryId: null, kind: 'test', to: [`bulk${i}@example.com`], subject: `Bulk ${i}`, bodyText: 'x', bodyHtml: null, headers: {}, messageId: `bulk-${i}@helpdesk.test` }));
  await services.outbox.enqueueMany(rows);
  await waitFor(() => sink.messages.length - before >= 40 || undefined, 30_000);
  const holder = (await db.knex('scheduler_leases').where({ name: 'scheduler' }).first('holder')) as { holder: string };
  const leader = nodes.find((n) => holder.holder.includes(`:${n.child.pid}:`))!;
  t.ok(leader, 'the delivering node holds the scheduler lease');
  leader.child.kill('SIGKILL');
  const killedAt = Date.now();
  const survivor = nodes.find((n) => n !== leader)!;
  await waitFor(async () => {
    const h = (await db.knex('scheduler_leases').where({ name: 'scheduler' }).first('holder')) as { holder: string };
    return h.holder.includes(`:${survivor.child.pid}:`);
  }, 30_000);
  t.comment(`scheduler failover after kill -9: ${Date.now() - killedAt} ms`);
  await waitFor(async () => Number((await db.knex('outbox').where('kind', 'test').whereNot('status', 'sent').count({ n: '*' }))[0]!.n) === 0, 30_000);
  t.comment(`all mail sent ${Date.now() - killedAt} ms after the kill`);
  const counts = new Map<string, number>();
  for (const m of sink.messages.slice(before)) counts.set(m.parsed.messageId!, (counts.get(m.parsed.messageId!) ?? 0) + 1);
  t.equal([...counts.keys()].filter((id) => id.startsWith('<bulk-')).length, 200, 'every mail delivered');
  const duplicates = [...counts.values()].reduce((s, n) => s + n - 1, 0);
  t.ok(duplicates <= 1, `at most the one mail in flight at the kill is sent twice (${duplicates})`);

  survivor.child.kill('SIGTERM');
  await new Promise((r) => survivor.child.once('exit', r));
});
