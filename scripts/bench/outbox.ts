import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { systemClock, toDbTime } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { OutboxDelivery } from '../../src/mail/outbound/delivery.js';
import { OutboxRepository } from '../../src/mail/outbound/outbox-repository.js';
import { parseBenchArgs, round, scratchDatabase } from './common.js';

const HELP = `npm run bench:outbox -- [options]

The outbox on MariaDB, three figures:
  1. delivery rate (mails/s through a local SMTP sink, one node) with --sent rows already sent in the table,
     for each count in the list: the rate must not fall as sent mail piles up;
  2. scheduler failover: two server processes (src/main.ts) on one database, the lease holder killed with
     SIGKILL mid-drain; the time until the other node holds the lease;
  3. the time from that kill until every row the dead node had claimed has been sent by the other node.
Failover uses the shipped defaults (30 s lease and claim timeout, 5 s tick) unless --lease is given.

  --mysql-url URL   MySQL/MariaDB server (default mysql://root@127.0.0.1:3306/; databases sb_bench_outbox*)
  --sent LIST       comma-separated counts of sent rows for the rate runs (default 10000,500000)
  --mails N         mails delivered per rate run (default 1000)
  --rounds N        rate runs per count, taken in turns across the counts (default 5)
  --lease S         scheduler lease and claim timeout for the failover run, seconds (default 30)
  --skip-failover   only the delivery rates
`;

const { values: args, int } = parseBenchArgs('bench:outbox', HELP, {
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  sent: { type: 'string', default: '10000,500000' },
  mails: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '5' },
  lease: { type: 'string', default: '30' },
  'skip-failover': { type: 'boolean', default: false },
});
const MAILS = int('mails', 1);
const ROUNDS = int('rounds', 1);
const LEASE_S = int('lease', 2);
const SENT = args.sent.split(',').map((s) => Number(s.trim()));
if (SENT.some((n) => !Number.isInteger(n) || n < 0)) {
  process.stderr.write('bench:outbox: --sent must be whole numbers separated by commas\n');
  process.exit(2);
}
const ROOT = resolve(import.meta.dirname, '../..');
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The relay: accepts everything, counts deliveries by Message-ID; `delayMs` per message slows a drain down. */
async function startSink(delayMs = 0) {
  const seen = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], hideSTARTTLS: true, disableReverseLookup: true, logger: false, closeTimeout: 50,
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 4096) head += c.toString('latin1');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '';
        setTimeout(() => {
          seen.set(id, (seen.get(id) ?? 0) + 1);
          cb();
        }, delayMs);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { url: `smtp://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** `n` outbox rows in one state, 2,000 to an INSERT. */
async function seed(db: Database, n: number, status: 'sent' | 'pending', prefix: string): Promise<void> {
  const at = toDbTime(new Date());
  for (let i = 0; i < n; i += 2000) {
    const rows = Array.from({ length: Math.min(2000, n - i) }, (_, j) => ({
      kind: 'bench', to_addresses: '["r@example.com"]', subject: 'Bench', body_text: 'A short notice, as most are.', headers: '{}',
      message_id: `${prefix}-${i + j}@bench.test`, status, attempts: status === 'sent' ? 1 : 0, next_attempt_at: at, created_at: at, sent_at: status === 'sent' ? at : null,
    }));
    await db.knex('outbox').insert(rows);
  }
}

const count = async (db: Database, status: string) => Number((await db.knex('outbox').where({ status }).count({ n: '*' }))[0]!.n);

/**
 * One database per count of sent rows, measured in turns (A, B, A, B, …) so that other load on the machine
 * falls on every count alike; the median run of each is reported.
 */
async function rates(): Promise<Array<{ alreadySent: number; mails: number; mailsPerSecond: number; runsPerSecond: number[] }>> {
  const sink = await startSink();
  const subjects = [];
  for (const target of SENT) {
    const scratch = await scratchDatabase({ kind: 'mysql', mysqlUrl: args['mysql-url'], name: `sb_bench_outbox_${target}` });
    const db = createDatabase(scratch.url);
    await migrateLatest(db);
    log(`seeding ${target} sent rows (multi-row inserts) ...`);
    await seed(db, target, 'sent', 'old');
    await db.knex.raw('ANALYZE TABLE outbox');
    const config = loadConfig({}, { databaseUrl: scratch.url, logLevel: 'silent' });
    const delivery = new OutboxDelivery(new OutboxRepository(db, systemClock), systemClock, createLogger('silent'), {
      ...config.outbox, outboundSmtpUrl: sink.url, helpdeskName: 'Bench', mailDomain: 'bench.test',
    });
    // A warm-up drain: relay connections, JIT and buffer pool then as warm for every measured run.
    await seed(db, 200, 'pending', 'warm');
    while ((await delivery.drain()).sent > 0);
    subjects.push({ target, db, scratch, delivery, runs: [] as number[] });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of subjects) {
      await seed(s.db, MAILS, 'pending', `new${round}`);
      const started = performance.now();
      while ((await s.delivery.drain()).sent > 0);
      s.runs.push(MAILS / ((performance.now() - started) / 1000));
      if ((await count(s.db, 'pending')) !== 0) throw new Error('mail left pending');
    }
  }
  const out = [];
  for (const s of subjects) {
    const median = [...s.runs].sort((a, b) => a - b)[Math.floor(s.runs.length / 2)]!;
    out.push({ alreadySent: s.target, mails: MAILS, mailsPerSecond: round(median, 1), runsPerSecond: s.runs.map((r) => round(r, 1)) });
    log(`  ${s.target} already sent: median ${round(median, 1)} mails/s (${s.runs.map((r) => round(r, 1)).join(', ')})`);
    s.delivery.close();
    await s.db.close();
    await s.scratch.drop();
  }
  await sink.close();
  return out;
}

const freePort = () =>
  new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => r(port));
    });
  });

async function failover(url: string) {
  const db = createDatabase(url);
  await migrateLatest(db);
  // 20 ms per message at the relay: a drain of 3,000 mails lasts about a minute, long enough to kill mid-way.
  const sink = await startSink(20);
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-outbox-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ scheduler: { tickSeconds: 5, leaseSeconds: LEASE_S }, outbox: { claimTimeoutSeconds: LEASE_S } }));
  const nodes: ChildProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const env = { ...process.env, DATABASE_URL: url, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(await freePort()), SMTP_HOST: '127.0.0.1', SMTP_PORT: String(await freePort()), OUTBOUND_SMTP_URL: sink.url, LOG_LEVEL: 'warn', SWITCHBOARD_CONFIG: configFile, MAIL_DOMAIN: 'bench.test', PUBLIC_URL: 'http://bench.test' };
    nodes.push(spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }));
  }
  try {
    await seed(db, 3000, 'pending', 'fail');
    // Not a multiple of the batch size: the kill lands inside a batch, with rows claimed.
    while (sink.seen.size < 310) await sleep(5);
    const holder = String((await db.knex('scheduler_leases').where({ name: 'scheduler' }).first('holder')).holder);
    const leader = nodes.find((n) => holder.includes(`:${n.pid}:`))!;
    const survivor = nodes.find((n) => n !== leader)!;
    leader.kill('SIGKILL');
    const killedAt = performance.now();
    const claimed = (await db.knex('outbox').where({ status: 'sending' }).pluck('message_id')) as string[];
    log(`killed the leader (pid ${leader.pid}) holding ${claimed.length} claimed rows; ${sink.seen.size} mails delivered so far`);
    let failoverMs = NaN;
    let claimsMs = NaN;
    while (Number.isNaN(failoverMs) || Number.isNaN(claimsMs)) {
      const now = performance.now() - killedAt;
      if (Number.isNaN(failoverMs)) {
        const h = String((await db.knex('scheduler_leases').where({ name: 'scheduler' }).first('holder'))?.holder ?? '');
        if (h.includes(`:${survivor.pid}:`)) failoverMs = now;
      }
      if (Number.isNaN(claimsMs) && claimed.every((id) => sink.seen.has(`<${id}>`))) claimsMs = now;
      if (now > 10 * 60_000) throw new Error('no failover within 10 minutes');
      await sleep(50);
    }
    while ((await count(db, 'pending')) + (await count(db, 'sending')) > 0) await sleep(200);
    const duplicates = [...sink.seen.values()].reduce((s, n) => s + n - 1, 0);
    return { leaseSeconds: LEASE_S, failoverSeconds: round(failoverMs / 1000), deadClaimsSentAfterSeconds: round(claimsMs / 1000), claimedAtKill: claimed.length, delivered: sink.seen.size, duplicates };
  } finally {
    for (const n of nodes) n.kill('SIGKILL');
    await sink.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const result: Record<string, unknown> = { rates: await rates() };
if (!args['skip-failover']) {
  const scratch = await scratchDatabase({ kind: 'mysql', mysqlUrl: args['mysql-url'], name: 'sb_bench_outbox' });
  try {
    log(`failover: two nodes, lease ${LEASE_S} s ...`);
    result.failover = await failover(scratch.url);
  } finally {
    await scratch.drop();
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
