import { cpus, loadavg, totalmem } from 'node:os';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { systemClock } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { cell, intArg, parseBenchArgs, percentiles, round, scratchDatabase, searchIndexBytes } from './common.js';
import { runLoad, type Target } from './load.js';
import { seedBusyTickets, seedTickets } from './seed.js';
import { Session, staffLogin as login } from './session.js';
import { Meter, SERVER_HELP, SERVER_OPTIONS, costNotes, cpuProfArgs, perRequestCost, startServer, type PerRequestCost, type Server } from './server.js';

const HELP = `npm run bench:web -- [options]

Seeds tickets with threads, then measures staff and client pages with concurrent keep-alive clients: per
page, throughput, latency, the server's CPU per request (app and database apart, from /proc) and SQL
statements per request. The server runs in a process of its own, the clients in another.

  --db sqlite|mysql     database for the server (default sqlite: a temporary file;
                        mysql: a fresh database sb_bench on --mysql-url, dropped afterwards)
  --mysql-url URL       MySQL/MariaDB server for --db mysql (default mysql://root@127.0.0.1:3306/)
  --url URL             measure a running server instead (no CPU or statement figures then); needs
                        --database-url (its database) to seed and to create the benchmark's accounts
  --database-url URL    with --url: the server's database; without: a database to start the server on (e.g.
                        one seeded by bench:seed), migrated, never dropped
  --tickets N           tickets to seed (default 100000; 0 with --url or --database-url to use what is there)
  --concurrency N       concurrent clients (default 8)
  --duration S          seconds measured per page (default 10), after a 2 s warm-up
  --max-requests N      stop a page after N requests even if time remains (default 200000)
  --deep-page N         queue page to measure as the deep page (default 200)
  --pages LIST          only these pages, comma-separated (default all): queue-open-first, queue-open-deep,
                        queue-open-first-agent, queue-open-deep-agent, ticket, ticket-agent, ticket-busy
                        (20 tickets with 100 entries and 200 history events each), client-ticket, queue-closed-first
  --log-level LEVEL     server log level, written to /dev/null (default info, as in production)
${SERVER_HELP}  --keep                keep the benchmark database
`;

const { values: args, int } = parseBenchArgs('bench:web', HELP, {
  db: { type: 'string', default: 'sqlite' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  url: { type: 'string' },
  'database-url': { type: 'string' },
  tickets: { type: 'string', default: '100000' },
  concurrency: { type: 'string', default: '8' },
  duration: { type: 'string', default: '10' },
  'max-requests': { type: 'string', default: '200000' },
  'deep-page': { type: 'string', default: '200' },
  pages: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  ...SERVER_OPTIONS,
  keep: { type: 'boolean', default: false },
});

const TICKETS = int('tickets', 0);
const CONCURRENCY = int('concurrency', 1);
const DURATION_MS = int('duration', 1) * 1000;
const MAX_REQUESTS = int('max-requests', 1);
const DEEP_PAGE = int('deep-page', 2);
const PAGE_NAMES = ['queue-open-first', 'queue-open-deep', 'queue-open-first-agent', 'queue-open-deep-agent', 'ticket', 'ticket-agent', 'ticket-busy', 'client-ticket', 'queue-closed-first'];
const PAGES = args.pages ? new Set(args.pages.split(',').map((p) => p.trim())) : null;
for (const p of PAGES ?? []) {
  if (!PAGE_NAMES.includes(p)) {
    process.stderr.write(`bench:web: --pages: no page "${p}" (pages: ${PAGE_NAMES.join(', ')})\n`);
    process.exit(2);
  }
}
const WORKERS = args.workers === undefined ? undefined : intArg('bench:web', 'workers', args.workers, 1);
const PASSWORD = 'bench-password-123';
const staffLogin = (baseUrl: string, username: string) => login(baseUrl, username, PASSWORD);
/** Measured for information; the issue's goal names the Open queue, the ticket page and the client page. */
const GOAL_EXEMPT = new Set(['queue-closed-first']);

if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:web: --db must be sqlite or mysql\n');
  process.exit(2);
}
const DB = args.db;
if (args.url && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(args.url)) {
  process.stderr.write('bench:web: --url must be http://127.0.0.1:PORT (the benchmark only talks to this machine)\n');
  process.exit(2);
}
if (args.url && !args['database-url']) {
  process.stderr.write('bench:web: --url needs --database-url, the running server\'s database (to seed and create accounts)\n');
  process.exit(2);
}

const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------------------
// The server under test: a process of its own on a fresh database (server.ts), or a running one.

interface Setup {
  baseUrl: string;
  db: Database;
  services: Services;
  dbLabel: string;
  /** The server this benchmark started and its meter; null for --url. */
  server: Server | null;
  meter: Meter | null;
  /** Restarts the server: after seeding, so that it starts on the data as a real one would. */
  restart: () => Promise<void>;
  teardown: () => Promise<void>;
}

async function startBenchServer(databaseUrl: string): Promise<Server> {
  return startServer({ root: args['server-root'], databaseUrl, logLevel: args['log-level']!, workers: WORKERS, nodeArgs: cpuProfArgs(args['cpu-prof']) });
}

/**
 * The server migrates the database its own way (its checkout's migrations) and creates the first-run defaults;
 * this process then seeds and creates accounts through its own services, and restarts the server.
 */
async function setUp(): Promise<Setup> {
  const external = args.url;
  const fresh = args['database-url'] ? { url: args['database-url'], drop: async () => undefined } : await scratchDatabase({ kind: DB, mysqlUrl: args['mysql-url']!, name: 'sb_bench' });
  let server = external ? null : await startBenchServer(fresh.url);
  const config = loadConfig({}, { databaseUrl: fresh.url, logLevel: args['log-level'], publicUrl: external ? external.replace(/\/$/, '') : server!.baseUrl });
  const logger = createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: true }) as unknown as NodeJS.WritableStream);
  const db = createDatabase(config.databaseUrl);
  if (external) await migrateLatest(db);
  const secrets = await loadSecrets(new SettingsRepository(db));
  const services = createServices({ db, clock: systemClock, config, log: logger, secrets });
  await services.setup.ensureDefaults();
  const version = db.dialect === 'mysql'
    ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v}`
    : `SQLite ${((await db.knex.raw('select sqlite_version() as v')) as Array<{ v: string }>)[0]!.v} (WAL, better-sqlite3)`;
  const setup: Setup = {
    baseUrl: external?.replace(/\/$/, '') ?? server!.baseUrl,
    db,
    services,
    dbLabel: version,
    server,
    meter: null,
    restart: async () => {
      if (external) return;
      await server!.stop();
      server = await startBenchServer(fresh.url);
      setup.server = server;
      setup.baseUrl = server.baseUrl;
      setup.meter = new Meter(server, fresh.url);
    },
    teardown: async () => {
      await setup.meter?.close();
      await server?.stop();
      await db.close();
      if (!args.keep) await fresh.drop();
      else if (!args['database-url']) log(`kept the benchmark database: ${fresh.url}`);
    },
  };
  return setup;
}

const unescapeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');

/** Follows the queue's "Next page" links up to page `depth` (or the last page) and returns that page's URL. */
async function deepQueueUrl(s: Session, first: string, depth: number): Promise<{ path: string; page: number }> {
  let path = first;
  let page = 1;
  while (page < depth) {
    const res = await s.get(path);
    if (res.status !== 200) throw new Error(`queue page ${page} answered HTTP ${res.status}`);
    const next = /<a href="([^"]+)" rel="next"/.exec(res.body);
    if (!next) break;
    path = unescapeHtml(next[1]!);
    page++;
  }
  return { path, page };
}

// ---------------------------------------------------------------------------------------------------------
// Measuring.

interface Figures extends Partial<PerRequestCost> {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  note?: string;
}

function summarise(latencies: number[], elapsedMs: number, errors: number): Figures {
  const { n, p50, p95, p99, max } = percentiles(latencies);
  return { requests: n, rps: round((n / elapsedMs) * 1000), p50, p95, p99, max, errors };
}

async function measure(meter: Meter | null, name: string, targets: Target[]): Promise<Figures> {
  log(`measuring ${name} (${targets.length} URL${targets.length > 1 ? 's' : ''}, e.g. ${targets[0]!.url.slice(0, 110)})`);
  await runLoad({ targets, concurrency: CONCURRENCY, durationMs: 2000, maxRequests: MAX_REQUESTS });
  await meter?.begin();
  const r = await runLoad({ targets, concurrency: CONCURRENCY, durationMs: DURATION_MS, maxRequests: MAX_REQUESTS });
  const cost = await meter?.end();
  if (r.errors) log(`  ${r.errors} failed requests, first: ${r.firstError}`);
  const f = summarise(r.latenciesMs, r.elapsedMs, r.errors);
  // Failed requests cost the server too: per request sent, not per success.
  return cost ? { ...f, ...perRequestCost(cost, f.requests + f.errors) } : f;
}

async function main(): Promise<void> {
  const setup = await setUp();
  const { db, services } = setup;
  const figures: Record<string, Figures> = {};
  const loadBefore = loadavg()[0]!;
  let seedMs = 0;
  let seeded: Awaited<ReturnType<typeof seedTickets>> | null = null;
  try {
    if (TICKETS > 0) {
      log(`seeding ${TICKETS.toLocaleString('en')} tickets into ${setup.dbLabel} ...`);
      seeded = await seedTickets(db, { tickets: TICKETS, onProgress: (done, total) => done % 20_000 === 0 && log(`  ${done}/${total}`) });
      seedMs = seeded.ms;
      log(`seeded ${seeded.tickets} tickets, ${seeded.entries} thread entries, ${seeded.users} requesters in ${(seedMs / 1000).toFixed(1)} s`);
      log(`search index (written by the seed): ${(await searchIndexBytes(db) / 1048576).toFixed(1)} MiB on disk`);
    }

    // Accounts through the product's own service: an administrator and an agent of the busiest department.
    const tag = Date.now().toString(36);
    const support = (await services.departments.list()).find((d) => d.name === 'Support')!;
    await services.staff.create(null, { username: `bench.admin.${tag}`, email: `admin.${tag}@bench.example`, name: 'Bench Admin', password: PASSWORD, isAdmin: true, departments: [{ departmentId: support.id, isManager: true }] });
    await services.staff.create(null, { username: `bench.support.${tag}`, email: `support.${tag}@bench.example`, name: 'Bench Agent', password: PASSWORD, isAdmin: false, departments: [{ departmentId: support.id, isManager: false }] });
    await setup.restart();
    const { baseUrl, meter } = setup;
    const admin = await staffLogin(baseUrl, `bench.admin.${tag}`);
    const agent = await staffLogin(baseUrl, `bench.support.${tag}`);

    const first = '/scp/tickets?queue=open';
    const t = (s: Session, path: string): Target => ({ url: baseUrl + path, cookie: s.cookie });
    const wanted = (name: string) => !PAGES || PAGES.has(name);

    // Tickets to open: a spread over the whole table, so the ticket page is not one cached row.
    const numbers = (await db.q('tickets').select('number').whereRaw('id % 197 = 0').limit(500)).map((r: { number: string }) => r.number);
    const supportNumbers = (await db.q('tickets').select('number').where('department_id', support.id).whereRaw('id % 97 = 0').limit(500)).map((r: { number: string }) => r.number);

    if (wanted('queue-open-first')) figures['queue-open-first'] = await measure(meter, 'staff Open queue, first page (admin)', [t(admin, first)]);
    if (wanted('queue-open-deep')) {
      const deep = await deepQueueUrl(admin, first, DEEP_PAGE);
      figures['queue-open-deep'] = { ...(await measure(meter, `staff Open queue, page ${deep.page} (admin)`, [t(admin, deep.path)])), note: `page ${deep.page}` };
    }
    if (wanted('queue-open-first-agent')) figures['queue-open-first-agent'] = await measure(meter, 'staff Open queue, first page (department agent)', [t(agent, first)]);
    if (wanted('queue-open-deep-agent')) {
      const deep = await deepQueueUrl(agent, first, DEEP_PAGE);
      figures['queue-open-deep-agent'] = { ...(await measure(meter, `staff Open queue, page ${deep.page} (department agent)`, [t(agent, deep.path)])), note: `page ${deep.page}` };
    }
    if (wanted('ticket')) figures['ticket'] = await measure(meter, 'staff ticket page (admin)', numbers.map((n) => t(admin, `/scp/tickets/${n}`)));
    if (wanted('ticket-agent')) figures['ticket-agent'] = await measure(meter, 'staff ticket page (department agent)', supportNumbers.map((n) => t(agent, `/scp/tickets/${n}`)));
    if (wanted('ticket-busy')) {
      const busy = await seedBusyTickets(db, { count: 20, entries: 100, events: 200 });
      figures['ticket-busy'] = { ...(await measure(meter, 'staff ticket page, 100 entries and 200 events (admin)', busy.map((n) => t(admin, `/scp/tickets/${n}`)))), note: '100 entries, 200 events' };
    }
    if (wanted('client-ticket')) {
      const client = await clientTargets(baseUrl, db);
      if (client.length) figures['client-ticket'] = await measure(meter, 'client ticket page after the status form', client);
      else log('client portal: no status form at /tickets/status yet, skipped');
    }
    if (wanted('queue-closed-first')) figures['queue-closed-first'] = { ...(await measure(meter, 'staff Closed queue, first page (admin)', [t(admin, '/scp/tickets?queue=closed')])), note: 'not in the goal' };
  } catch (err) {
    await setup.teardown();
    throw err;
  }
  const server = setup.server;
  await setup.teardown();

  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
  const out: string[] = [];
  out.push('');
  out.push(`Switchboard bench:web — ${TICKETS.toLocaleString('en')} tickets${seeded ? ` (${seeded.entries.toLocaleString('en')} entries; ${seeded.byStatus.open} open, ${seeded.openUnanswered} unanswered), seeded in ${(seedMs / 1000).toFixed(1)} s` : ''}`);
  out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}; database: ${setup.dbLabel}; ${CONCURRENCY} clients, ${DURATION_MS / 1000} s per page, log level ${args['log-level']}; workers ${WORKERS ?? 'server default'}`);
  if (server) for (const note of costNotes(server, db.dialect, Object.values(figures)[0]?.processes)) out.push(note);
  out.push('');
  out.push(`${'page'.padEnd(24)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}${'cpu app'.padStart(9)}${'cpu db'.padStart(9)}${'db proc'.padStart(9)}${'stmts'.padStart(8)}  note   (CPU ms and statements per request)`);
  for (const [name, f] of Object.entries(figures)) {
    out.push(`${name.padEnd(24)}${cell(f.rps)}${cell(f.p50)}${cell(f.p95)}${cell(f.p99)}${cell(f.max)}${String(f.errors).padStart(8)}${cell(f.appCpuMs, 2)}${cell(f.dbCpuMs, 2)}${cell(f.dbProcessCpuMs, 2)}${cell(f.statements, 1, 8)}  ${f.note ?? ''}`);
  }
  out.push(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0]!.toFixed(2)} — other work on this machine skews throughput and latency; CPU per request much less`);
  const goalPages = Object.entries(figures).filter(([name]) => !GOAL_EXEMPT.has(name));
  const worst = goalPages.length ? Math.max(...goalPages.map(([, f]) => f.p99)) : NaN;
  const deepRatio = (a?: Figures, b?: Figures) => (a && b ? round(a.p50 / b.p50) : null);
  out.push('');
  out.push(`goal p99 < 50 ms on every page: ${worst < 50 ? 'met' : 'MISSED'} (worst p99 ${worst.toFixed(1)} ms)`);
  out.push(`deep/first p50 ratio: admin ${deepRatio(figures['queue-open-deep'], figures['queue-open-first'])}, agent ${deepRatio(figures['queue-open-deep-agent'], figures['queue-open-first-agent'])}`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({
    bench: 'web', database: setup.dbLabel, server: server ? { root: server.root, entry: server.entry, workers: WORKERS ?? null, startMs: round(server.startMs) } : { url: args.url },
    loadAverage: [round(loadBefore), round(loadavg()[0]!)], tickets: TICKETS, entries: seeded?.entries ?? null, seedMs: Math.round(seedMs), concurrency: CONCURRENCY, durationS: DURATION_MS / 1000, logLevel: args['log-level'], machine, pages: figures,
  })}\n`);
}

/**
 * Client sessions through the portal's status form (e-mail + ticket number), one per concurrent client, each on
 * its own ticket. Empty when the portal has no status form.
 */
async function clientTargets(baseUrl: string, db: Database): Promise<Target[]> {
  const probe = await fetch(`${baseUrl}/tickets/status`);
  await probe.text();
  if (probe.status !== 200) return [];
  const rows = await db.q('tickets as t')
    .join('user_emails as ue', (j) => j.on('ue.user_id', 't.user_id').andOn('ue.is_primary', db.q.raw('?', [true])))
    .select('t.number', 'ue.address')
    .whereRaw('t.id % 101 = 0')
    .limit(CONCURRENCY);
  const targets: Target[] = [];
  for (const r of rows as Array<{ number: string; address: string }>) {
    const s = new Session(baseUrl);
    await s.get('/tickets/status');
    const res = await s.post('/tickets/status', { email: r.address, number: r.number });
    if (res.status !== 302 || !s.cookie.includes('sb_client=')) throw new Error(`client status form for #${r.number} failed: HTTP ${res.status}`);
    const path = new URL(res.location!, baseUrl).pathname;
    targets.push({ url: baseUrl + path, cookie: s.cookie });
  }
  return targets;
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:web failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
