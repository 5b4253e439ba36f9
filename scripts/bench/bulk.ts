import { cpus, loadavg, totalmem } from 'node:os';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { cell, intArg, parseBenchArgs, percentiles, round, scratchDatabase } from './common.js';
import { runLoad, type LoadResult } from './load.js';
import { seedTickets } from './seed.js';
import { Meter, SERVER_HELP, SERVER_OPTIONS, costNotes, cpuProfArgs, startServer, type Cost, type Server } from './server.js';
import { staffLogin } from './session.js';

const HELP = `npm run bench:bulk -- [options]

A bulk action through the staff panel, as an agent's browser posts it: one confirmed status change on N open
tickets (each ticket its own transaction, with its access, lock, audit and history), timed alone, then again
(back to open) while other clients load the Open queue, whose latency is measured before and during it.

  --db mysql|sqlite     database (default mysql: a fresh database sb_bench_bulk on --mysql-url, dropped
                        afterwards; sqlite: a temporary file)
  --mysql-url URL       MySQL/MariaDB server (default mysql://root@127.0.0.1:3306/)
  --tickets N           tickets to seed (default 20000)
  --bulk N              tickets in the bulk action (default 500, the most one request may carry)
  --concurrency N       clients loading the queue (default 4)
  --baseline S          seconds of queue load before the bulk action (default 5)
  --http-port N         the server's HTTP port (default: a free one)
  --smtp-port N         the server's SMTP port (default: a free one)
  --log-level LEVEL     server log level, written to /dev/null (default info)
${SERVER_HELP}  --keep                keep the benchmark database
`;

const { values: args, int } = parseBenchArgs('bench:bulk', HELP, {
  db: { type: 'string', default: 'mysql' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  tickets: { type: 'string', default: '20000' },
  bulk: { type: 'string', default: '500' },
  concurrency: { type: 'string', default: '4' },
  baseline: { type: 'string', default: '5' },
  'http-port': { type: 'string' },
  'smtp-port': { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  ...SERVER_OPTIONS,
  keep: { type: 'boolean', default: false },
});

const TICKETS = int('tickets', 1);
const BULK = int('bulk', 1);
const CONCURRENCY = int('concurrency', 1);
const BASELINE_MS = int('baseline', 1) * 1000;
const port = (name: 'http-port' | 'smtp-port') => (args[name] === undefined ? undefined : intArg('bench:bulk', name, args[name], 1));
const WORKERS = args.workers === undefined ? undefined : intArg('bench:bulk', 'workers', args.workers, 1);
if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:bulk: --db must be mysql or sqlite\n');
  process.exit(2);
}
const DB = args.db;
const PASSWORD = 'bench-password-123';
const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * Queue latency until `done` resolves: a first round as long as the action took alone, then short rounds, so
 * the load covers the bulk action and little after it (each round is a process of its own, see load.ts).
 */
async function loadUntil(done: Promise<unknown>, url: string, cookie: string, firstMs: number): Promise<LoadResult> {
  let finished = false;
  void done.finally(() => (finished = true));
  const all: LoadResult = { latenciesMs: [], elapsedMs: 0, errors: 0, firstError: null };
  for (let i = 0; !finished; i++) {
    const r = await runLoad({ targets: [{ url, cookie }], concurrency: CONCURRENCY, durationMs: i ? 300 : Math.max(300, firstMs), maxRequests: 1_000_000 });
    all.latenciesMs.push(...r.latenciesMs);
    all.elapsedMs += r.elapsedMs;
    all.errors += r.errors;
    all.firstError ??= r.firstError;
  }
  return all;
}

async function main(): Promise<void> {
  const fresh = await scratchDatabase({ kind: DB, mysqlUrl: args['mysql-url']!, name: 'sb_bench_bulk' });
  const start = () => startServer({ root: args['server-root'], databaseUrl: fresh.url, logLevel: args['log-level']!, workers: WORKERS, nodeArgs: cpuProfArgs(args['cpu-prof']), httpPort: port('http-port'), smtpPort: port('smtp-port') });
  let server: Server = await start();
  const config = loadConfig({}, { databaseUrl: fresh.url, logLevel: args['log-level'], publicUrl: server.baseUrl });
  const db = createDatabase(config.databaseUrl);
  const services = createServices({ db, clock: systemClock, config, log: createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: true }) as unknown as NodeJS.WritableStream), secrets: await loadSecrets(new SettingsRepository(db)) });
  let meter: Meter | null = null;
  const loadBefore = loadavg()[0]!;
  try {
    await services.setup.ensureDefaults();
    log(`seeding ${TICKETS.toLocaleString('en')} tickets ...`);
    const seeded = await seedTickets(db, { tickets: TICKETS });
    const username = `bench.bulk.${Date.now().toString(36)}`;
    await services.staff.create(null, { username, email: `${username}@bench.example`, name: 'Bench Admin', password: PASSWORD, isAdmin: true, departments: [] });
    // The server starts on the seeded data, as a real one would.
    await server.stop();
    server = await start();
    meter = new Meter(server, fresh.url);
    const agent = await staffLogin(server.baseUrl, username, PASSWORD);
    const watcher = await staffLogin(server.baseUrl, username, PASSWORD);
    const queue = `${server.baseUrl}/scp/tickets?queue=open`;
    const numbers = (await db.q('tickets').where('status', 'open').orderBy('id').limit(BULK).pluck('number')) as string[];
    if (numbers.length < BULK) throw new Error(`only ${numbers.length} open tickets; seed more (--tickets)`);

    const bulk = async (action: string): Promise<{ ms: number; cost: Cost }> => {
      await agent.get('/scp/tickets');
      await meter!.begin();
      const t0 = performance.now();
      const res = await agent.post('/scp/tickets/bulk/confirm', { tickets: numbers, action });
      const ms = performance.now() - t0;
      const cost = await meter!.end();
      const changed = /(\d+) tickets changed/.exec(res.body)?.[1];
      if (res.status !== 200 || Number(changed) !== BULK) throw new Error(`bulk ${action}: HTTP ${res.status}, ${changed ?? 'no'} tickets changed`);
      return { ms, cost };
    };

    log(`queue load alone, ${BASELINE_MS / 1000} s ...`);
    await runLoad({ targets: [{ url: queue, cookie: watcher.cookie }], concurrency: CONCURRENCY, durationMs: 1000, maxRequests: 1_000_000 });
    const baseline = await runLoad({ targets: [{ url: queue, cookie: watcher.cookie }], concurrency: CONCURRENCY, durationMs: BASELINE_MS, maxRequests: 1_000_000 });
    log(`bulk status change on ${BULK} tickets, alone ...`);
    const alone = await bulk('status:closed');
    log(`bulk status change on ${BULK} tickets, under queue load ...`);
    const running = bulk('status:open');
    const during = await loadUntil(running, queue, watcher.cookie, alone.ms);
    const loaded = await running;

    const q = (r: LoadResult) => ({ ...percentiles(r.latenciesMs), errors: r.errors });
    const figures = {
      bulkAloneMs: round(alone.ms), bulkUnderLoadMs: round(loaded.ms), perTicketMs: round(alone.ms / BULK, 3),
      statementsPerTicket: alone.cost.statements === null ? null : round(alone.cost.statements / BULK, 1),
      appCpuMs: round(alone.cost.appCpuMs), dbCpuMs: alone.cost.dbCpuMs === null ? null : round(alone.cost.dbCpuMs),
      queueBefore: q(baseline), queueDuring: q(during),
    };
    const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
    const dbLabel = db.dialect === 'mysql' ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v}` : 'SQLite (WAL, better-sqlite3)';
    const out = [
      '',
      `Switchboard bench:bulk — a status change on ${BULK} of ${seeded.tickets.toLocaleString('en')} tickets, through POST /scp/tickets/bulk/confirm`,
      `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}; database: ${dbLabel}; ${CONCURRENCY} clients on the Open queue`,
      ...costNotes(server, db.dialect, alone.cost.processes),
      '',
      `bulk action alone:        ${(alone.ms / 1000).toFixed(2)} s (${figures.perTicketMs} ms per ticket, ${figures.statementsPerTicket ?? '?'} statements per ticket; CPU app ${figures.appCpuMs} ms, db ${figures.dbCpuMs ?? '-'} ms)`,
      `bulk action, queue busy:  ${(loaded.ms / 1000).toFixed(2)} s`,
      `${'Open queue'.padEnd(26)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}`,
      `${'  before'.padEnd(26)}${cell((baseline.latenciesMs.length / baseline.elapsedMs) * 1000)}${cell(figures.queueBefore.p50)}${cell(figures.queueBefore.p99)}${cell(figures.queueBefore.max)}${String(baseline.errors).padStart(8)}`,
      `${'  during the bulk action'.padEnd(26)}${cell((during.latenciesMs.length / during.elapsedMs) * 1000)}${cell(figures.queueDuring.p50)}${cell(figures.queueDuring.p99)}${cell(figures.queueDuring.max)}${String(during.errors).padStart(8)}`,
      `load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify({ bench: 'bulk', database: dbLabel, tickets: seeded.tickets, bulk: BULK, concurrency: CONCURRENCY, loadAverage: [round(loadBefore), round(loadavg()[0]!)], machine, ...figures })}\n`);
  } finally {
    await meter?.close();
    await server.stop();
    await db.close();
    if (!args.keep) await fresh.drop();
    else log(`kept the benchmark database: ${fresh.url}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:bulk failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
