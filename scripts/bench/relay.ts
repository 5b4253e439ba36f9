import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { createDatabase } from '../../src/db/database.js';
import { parseBenchArgs, percentiles, round, scratchDatabase } from './common.js';

const HELP = `npm run bench:relay -- [options]

A burst of mail relayed by the local Postfix to the product's SMTP listener, as INSTALL.md recommends: all of
it arrives from one address, over as many connections as Postfix opens (20 per destination by default). For
each scenario it starts the server (src/main.ts) on a scratch database, submits the messages to Postfix on
127.0.0.1:25, and counts the tickets as they appear.

Needs a local Postfix (Debian: apt-get install postfix) that relays the bench domain to the listener on
loopback, and root (to delete what a scenario leaves in the Postfix queue). Setup, see INSTALL.md "Mail":
  postconf -e 'relay_domains = helpdesk.test' 'transport_maps = hash:/etc/postfix/transport'
  echo 'helpdesk.test smtp:[127.0.0.1]:16025' > /etc/postfix/transport && postmap /etc/postfix/transport
The listener takes the port named there. Mail only ever goes to 127.0.0.1.

  --messages N        messages per scenario (default 300)
  --wait S            give up on a scenario S seconds after the first submission (default 90)
  --scenarios LIST    comma-separated, from: old (cap 10, no trusted relay: the code before), old-trusted
                      (cap 10, 127.0.0.1 trusted), default (default cap, no trusted relay), trusted (default
                      cap, 127.0.0.1 trusted). Default: old,trusted
  --db sqlite|mysql   database for the server (default sqlite; mysql: sb_bench_relay on --mysql-url)
  --mysql-url URL     default mysql://root@127.0.0.1:3306/
`;

const { values: args, int } = parseBenchArgs('bench:relay', HELP, {
  messages: { type: 'string', default: '300' },
  wait: { type: 'string', default: '90' },
  scenarios: { type: 'string', default: 'old,trusted' },
  db: { type: 'string', default: 'sqlite' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
});

const MESSAGES = int('messages', 1);
const WAIT_MS = int('wait', 5) * 1000;
const DOMAIN = 'helpdesk.test';
const ROOT = resolve(import.meta.dirname, '../..');
const SCENARIOS: Record<string, { cap: number | null; trusted: string[] }> = {
  old: { cap: 10, trusted: [] },
  'old-trusted': { cap: 10, trusted: ['127.0.0.1'] },
  default: { cap: null, trusted: [] },
  trusted: { cap: null, trusted: ['127.0.0.1'] },
};

const log = (s: string) => process.stderr.write(`${s}\n`);
const fail = (s: string): never => {
  log(`bench:relay: ${s}`);
  process.exit(2);
};

if (args.db !== 'sqlite' && args.db !== 'mysql') fail('--db must be sqlite or mysql');
const chosen = String(args.scenarios).split(',').map((s) => s.trim());
for (const s of chosen) if (!SCENARIOS[s]) fail(`unknown scenario "${s}" (old, old-trusted, default, trusted)`);

// ---------------------------------------------------------------------------------------------------------
// The local Postfix: present, relaying the bench domain to a port on 127.0.0.1, and ours to clean up after.

const postconf = (name: string): string => execFileSync('postconf', ['-h', name], { encoding: 'utf8' }).trim();

function listenerPort(): number {
  if (spawnSync('postconf', ['mail_version'], { encoding: 'utf8' }).status !== 0) {
    fail('no local Postfix: install it (Debian: apt-get install postfix, "No configuration") and configure it as --help shows');
  }
  if (process.getuid?.() !== 0) fail('run as root: each scenario deletes the messages it left in the Postfix queue (postsuper -d)');
  for (const map of postconf('transport_maps').split(/[\s,]+/).filter(Boolean)) {
    const r = spawnSync('postmap', ['-q', DOMAIN, map], { encoding: 'utf8' });
    const m = /^smtp:\[127\.0\.0\.1\]:(\d+)$/.exec(r.stdout.trim());
    if (m) return Number(m[1]);
  }
  return fail(`Postfix has no transport "${DOMAIN} smtp:[127.0.0.1]:PORT" in transport_maps; see --help`);
}

/** Queue IDs still in the Postfix queue, from postqueue's JSON lines. */
function queued(): Set<string> {
  const out = execFileSync('postqueue', ['-j'], { encoding: 'utf8' });
  return new Set(out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { queue_id: string }).queue_id));
}

/**
 * Deletes our leftovers, then `postqueue -f`, which also makes the queue manager forget that the listener's
 * destination was "dead" (throttled after refused connections), so the next scenario starts as Postfix would.
 */
function resetPostfix(ours: Set<string>): number {
  const left = [...queued()].filter((id) => ours.has(id));
  if (left.length) execFileSync('postsuper', ['-d', '-'], { input: `${left.join('\n')}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  execFileSync('postqueue', ['-f']);
  return left.length;
}

/** Postfix log lines written since `from` (a byte offset), when Postfix logs to a file. */
function postfixLogSince(file: string, from: number): string {
  if (!file) return '';
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}
const logSize = (file: string): number => {
  try {
    return file ? statSync(file).size : 0;
  } catch {
    return 0;
  }
};

// ---------------------------------------------------------------------------------------------------------
// The server under test, on a scratch database, on the port Postfix relays to.

async function startServer(databaseUrl: string, port: number, scenario: { cap: number | null; trusted: string[] }, dir: string): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const configFile = join(dir, 'bench-config.json');
  writeFileSync(configFile, JSON.stringify({
    databaseUrl, mailDomain: DOMAIN, logLevel: 'warn', http: { host: '127.0.0.1', port: 0 },
    smtp: { host: '127.0.0.1', port, trustedRelays: scenario.trusted, ...(scenario.cap ? { maxConnectionsPerClient: scenario.cap } : {}) },
  }));
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHBOARD_CONFIG: configFile };
  for (const k of ['DATABASE_URL', 'HTTP_HOST', 'HTTP_PORT', 'SMTP_HOST', 'SMTP_PORT', 'SMTP_TRUSTED_RELAYS', 'PUBLIC_URL', 'MAIL_DOMAIN', 'OUTBOUND_SMTP_URL', 'LOG_LEVEL']) delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const probe = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 2000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr.trim()}`);
    if (await probe.verify().then(() => true, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer SMTP on ${port} within 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  probe.close();
  return {
    child,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
      if (stderr.trim()) log(`server stderr: ${stderr.trim().slice(0, 2000)}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

interface Result {
  scenario: string;
  cap: number | null;
  trusted: string[];
  submitted: number;
  delivered: number;
  allInSeconds: number | null;
  latencySeconds: ReturnType<typeof percentiles>;
  refused421: number | null;
}

async function runScenario(name: string, port: number): Promise<Result> {
  const scenario = SCENARIOS[name]!;
  const db = await scratchDatabase({ kind: args.db as 'sqlite' | 'mysql', mysqlUrl: String(args['mysql-url']), name: 'sb_bench_relay' });
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-relay-'));
  const maillog = postconf('maillog_file');
  const logFrom = logSize(maillog);
  const server = await startServer(db.url, port, scenario, dir);
  const knex = createDatabase(db.url, { poolMax: 1 });
  const ours = new Set<string>();
  const submittedAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  try {
    const postfix = nodemailer.createTransport({ host: '127.0.0.1', port: 25, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, maxMessages: Infinity });
    const started = performance.now();
    const stamp = Date.now().toString(36);
    await Promise.all(Array.from({ length: MESSAGES }, async (_, i) => {
      const subject = `relay bench ${stamp} ${i}`;
      // Bounces, if any, go back through the same loopback transport: nothing leaves this machine.
      const info = (await postfix.sendMail({
        envelope: { from: `bench@${DOMAIN}`, to: [`support@${DOMAIN}`] },
        from: `Sender ${i} <sender${i}@example.com>`, to: `support@${DOMAIN}`, subject, text: `Message ${i} of a relayed burst.`,
      })) as { response: string };
      const id = /queued as ([0-9A-Za-z]+)/.exec(info.response)?.[1];
      if (id) ours.add(id);
      submittedAt.set(subject, performance.now());
    }));
    postfix.close();
    const submitSeconds = (performance.now() - started) / 1000;
    log(`${name}: ${MESSAGES} messages submitted to Postfix in ${round(submitSeconds, 1)} s`);
    let lastReport = 0;
    while (arrivedAt.size < MESSAGES && performance.now() - started < WAIT_MS) {
      const rows = (await knex.knex('tickets').select('subject')) as Array<{ subject: string }>;
      const now = performance.now();
      for (const r of rows) if (submittedAt.has(r.subject) && !arrivedAt.has(r.subject)) arrivedAt.set(r.subject, now);
      if (now - lastReport > 10_000) {
        lastReport = now;
        log(`${name}: ${arrivedAt.size}/${MESSAGES} tickets after ${round((now - started) / 1000, 0)} s`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const allIn = arrivedAt.size === MESSAGES ? (Math.max(...arrivedAt.values()) - started) / 1000 : null;
    const latencies = [...arrivedAt].map(([s, at]) => (at - submittedAt.get(s)!) / 1000);
    const refused = maillog ? (postfixLogSince(maillog, logFrom).match(/refused to talk to me: 421/g) ?? []).length : null;
    return {
      scenario: name, cap: scenario.cap, trusted: scenario.trusted, submitted: ours.size, delivered: arrivedAt.size,
      allInSeconds: allIn === null ? null : round(allIn, 1), latencySeconds: percentiles(latencies, 1), refused421: refused,
    };
  } finally {
    await knex.close();
    await server.stop();
    const left = resetPostfix(ours);
    if (left) log(`${name}: deleted ${left} undelivered messages from the Postfix queue`);
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

const port = listenerPort();
log(`bench:relay: Postfix ${postconf('mail_version')} relays ${DOMAIN} to 127.0.0.1:${port}; ${MESSAGES} messages per scenario, ${WAIT_MS / 1000} s each at most; ${args.db}; ${cpus().length} CPUs`);
resetPostfix(new Set());
const results: Result[] = [];
for (const name of chosen) {
  const r = await runScenario(name, port);
  results.push(r);
  const cap = r.cap ?? 'default';
  process.stdout.write(
    `${r.scenario.padEnd(12)} cap ${String(cap).padEnd(7)} trusted ${(r.trusted.join(',') || '-').padEnd(10)} ` +
      `${r.delivered}/${MESSAGES} tickets, ${r.allInSeconds === null ? `not all within ${WAIT_MS / 1000} s` : `all in ${r.allInSeconds} s`}; ` +
      `latency p50 ${r.latencySeconds.p50} s p95 ${r.latencySeconds.p95} s; Postfix saw 421 ${r.refused421 ?? '?'} times\n`,
  );
}
process.stdout.write(`${JSON.stringify({ bench: 'relay', messages: MESSAGES, waitSeconds: WAIT_MS / 1000, db: args.db, results })}\n`);
