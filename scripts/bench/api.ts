import { cpus, loadavg, totalmem } from 'node:os';
import { ApiKeyService } from '../../src/api-keys/api-key-service.js';
import { createDatabase } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { cell, intArg, parseBenchArgs, percentiles, prng, round, scratchDatabase } from './common.js';
import { runLoad, type Target } from './load.js';
import { Meter, SERVER_HELP, SERVER_OPTIONS, costNotes, cpuProfArgs, perRequestCost, startServer, type Server } from './server.js';

const HELP = `npm run bench:api -- [options]

Starts the product's server in its own process on a fresh database, makes an API key there, then opens
tickets through the JSON API (POST /api/tickets.json, as osTicket's API clients do) from a load process with
keep-alive connections. Reports throughput, latency, the server's CPU per ticket (app and database apart,
from /proc) and SQL statements per ticket, and checks that every 201 became exactly one ticket.

  --db sqlite|mysql     database for the server (default sqlite: a temporary file; mysql: a fresh
                        database sb_bench_api on --mysql-url, dropped afterwards)
  --mysql-url URL       MySQL/MariaDB server for --db mysql (default mysql://root@127.0.0.1:3306/)
  --requests N          tickets to open in the measured phase (default 2000), after 200 to warm up
  --concurrency N       requests in flight (default 4)
  --message-kb N        size of each message in KB (default 2)
  --log-level LEVEL     server log level, written to /dev/null (default info, as in production)
${SERVER_HELP}  --keep                keep the benchmark database
`;

const { values: args, int } = parseBenchArgs('bench:api', HELP, {
  db: { type: 'string', default: 'sqlite' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  requests: { type: 'string', default: '2000' },
  concurrency: { type: 'string', default: '4' },
  'message-kb': { type: 'string', default: '2' },
  'log-level': { type: 'string', default: 'info' },
  ...SERVER_OPTIONS,
  keep: { type: 'boolean', default: false },
});

const REQUESTS = int('requests', 1);
const CONCURRENCY = int('concurrency', 1);
const MESSAGE_BYTES = int('message-kb', 1) * 1024;
const WARM_UP = 200;
const WORKERS = args.workers === undefined ? undefined : intArg('bench:api', 'workers', args.workers, 1);
if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:api: --db must be sqlite or mysql\n');
  process.exit(2);
}
const DB = args.db;
const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * Request bodies: 97 senders (a prime, so that a client cycling through them meets every one) with subjects
 * and prose from a fixed seed; the load process cycles through them, each POST opening a new ticket.
 */
function bodies(url: string, key: string): Target[] {
  const rand = prng(20261129);
  const words = 'invoice login error refund export password order shipment upgrade dashboard browser payment account slow broken again please thanks'.split(' ');
  const prose = () => {
    let s = '';
    while (s.length < MESSAGE_BYTES) s += `${words[Math.floor(rand() * words.length)]}${rand() < 0.1 ? '.\n' : ' '}`;
    return s;
  };
  return Array.from({ length: 97 }, (_, i) => ({
    url,
    json: JSON.stringify({ name: `API Customer ${i}`, email: `api.customer${i}@example.com`, subject: `Order problem ${i}`, message: prose(), autorespond: true }),
    headers: { 'x-api-key': key },
    status: 201,
  }));
}

async function main(): Promise<void> {
  const fresh = await scratchDatabase({ kind: DB, mysqlUrl: args['mysql-url']!, name: 'sb_bench_api' });
  const db = createDatabase(fresh.url, { poolMax: 2 });
  let server: Server | null = null;
  let meter: Meter | null = null;
  const loadBefore = loadavg()[0]!;
  try {
    log(`starting the server from ${args['server-root'] ?? 'this checkout'} on ${DB === 'mysql' ? fresh.url : 'a temporary SQLite file'} ...`);
    server = await startServer({ root: args['server-root'], databaseUrl: fresh.url, logLevel: args['log-level']!, workers: WORKERS, nodeArgs: cpuProfArgs(args['cpu-prof']) });
    meter = new Meter(server, fresh.url);
    // The key goes in through the product's service, on the database the server has migrated.
    const { key } = await new ApiKeyService(db, systemClock).create({ name: 'bench:api' });
    const targets = bodies(`${server.baseUrl}/api/tickets.json`, key);

    log(`warming up with ${WARM_UP} tickets ...`);
    const warm = await runLoad({ targets, concurrency: CONCURRENCY, durationMs: 120_000, maxRequests: WARM_UP });
    if (warm.errors) throw new Error(`warm-up: ${warm.errors} failed requests, first: ${warm.firstError}`);
    log(`opening ${REQUESTS} tickets through POST /api/tickets.json, ${CONCURRENCY} in flight ...`);
    await meter.begin();
    const r = await runLoad({ targets, concurrency: CONCURRENCY, durationMs: 600_000, maxRequests: REQUESTS });
    const cost = await meter.end();
    if (r.errors) log(`  ${r.errors} failed requests, first: ${r.firstError}`);
    const tickets = Number(((await db.q('tickets').count({ n: '*' }).first()) as { n: number | string }).n);
    const expected = WARM_UP + r.latenciesMs.length;
    const dbLabel = db.dialect === 'mysql'
      ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v}`
      : `SQLite ${((await db.knex.raw('select sqlite_version() as v')) as Array<{ v: string }>)[0]!.v} (WAL, better-sqlite3)`;
    const loadAfter = loadavg()[0]!;

    const lat = percentiles(r.latenciesMs);
    const rate = round((lat.n / r.elapsedMs) * 1000);
    const per = perRequestCost(cost, lat.n + r.errors);
    const ok = tickets === expected && r.errors === 0;
    const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
    const out: string[] = [''];
    out.push(`Switchboard bench:api — ${REQUESTS} tickets through POST /api/tickets.json (${MESSAGE_BYTES / 1024} KB messages), ${CONCURRENCY} in flight`);
    out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}; database: ${dbLabel}; server log level ${args['log-level']}; workers ${WORKERS ?? 'server default'}`);
    for (const note of costNotes(server, DB, cost.processes)) out.push(note);
    out.push('');
    out.push(`${'requests'.padStart(9)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}${'cpu app'.padStart(9)}${'cpu db'.padStart(9)}${'db proc'.padStart(9)}${'stmts'.padStart(8)}${'questions'.padStart(10)}   (CPU ms and statements per ticket)`);
    out.push(`${String(lat.n).padStart(9)}${cell(rate)}${cell(lat.p50)}${cell(lat.p95)}${cell(lat.p99)}${cell(lat.max)}${String(r.errors).padStart(8)}${cell(per.appCpuMs, 2)}${cell(per.dbCpuMs, 2)}${cell(per.dbProcessCpuMs, 2)}${cell(per.statements, 1, 8)}${cell(per.serverQuestions, 1, 10)}`);
    out.push('');
    out.push(`stored: ${tickets} tickets for ${expected} answers 201 (warm-up included): ${ok ? 'yes, one each' : 'NO'}`);
    out.push(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} — other work on this machine skews throughput and latency; CPU per ticket much less`);
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify({
      bench: 'api', database: dbLabel, server: { root: server.root, entry: server.entry, workers: WORKERS ?? null, processes: cost.processes, startMs: round(server.startMs) },
      loadAverage: [round(loadBefore), round(loadAfter)], requests: lat.n, concurrency: CONCURRENCY, messageKb: MESSAGE_BYTES / 1024, logLevel: args['log-level'], machine,
      requestsPerSecond: rate, elapsedMs: round(r.elapsedMs), errors: r.errors, latencyMs: { p50: lat.p50, p95: lat.p95, p99: lat.p99, max: lat.max },
      perTicket: per, stored: { tickets, expected, ok },
    })}\n`);
    if (!ok) process.exitCode = 1;
  } finally {
    await meter?.close();
    await server?.stop();
    await db.close();
    if (!args.keep) await fresh.drop();
    else log(`kept the benchmark database: ${fresh.url}`);
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`bench:api failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
