import { cpus, loadavg, totalmem } from 'node:os';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { cell, intArg, parseBenchArgs, peakRss, percentiles, prng, round, scratchDatabase, searchIndexBytes } from './common.js';
import { runLoad, type Target } from './load.js';
import { seedTickets } from './seed.js';
import { Meter, SERVER_HELP, SERVER_OPTIONS, costNotes, cpuProfArgs, perRequestCost, startServer, type PerRequestCost, type Server } from './server.js';
import { staffLogin, type Session } from './session.js';
import { LANGUAGES, VOCABULARY_SIZE, type Language } from './vocabulary.js';

const HELP = `npm run bench:search -- [options]

Seeds tickets in several languages (or reuses a seeded database), then measures the staff search page
(/scp/search) with concurrent keep-alive clients, signed in as an administrator and as a department agent, per
class of query drawn from the seeded vocabulary: per class and overall, throughput, latency, the server's CPU
per request (app and database apart), SQL statements per request; then the app's peak memory and the index's
size on disk. The server runs in a process of its own, the clients in another.

  --db sqlite|mysql         database (default sqlite: a temporary file; mysql: a fresh database
                            sb_bench_search on --mysql-url, dropped afterwards)
  --mysql-url URL           MySQL/MariaDB server for --db mysql (default mysql://root@127.0.0.1:3306/)
  --database-url URL        use this database instead (e.g. one seeded by bench:seed, or kept with --keep):
                            migrated, never dropped; with --tickets 0 nothing is added
  --tickets N               tickets to seed (default 100000)
  --entries-per-ticket N    thread entries per ticket on average (default 5)
  --concurrency N           concurrent clients (default 8)
  --duration S              seconds measured per class (default 10), after a 2 s warm-up
  --max-requests N          stop a class after N requests even if time remains (default 200000)
  --classes LIST            only these classes, comma-separated (default all): common, rare, prefix,
                            phrase, two-words, exclusion, filter-only, cjk
  --log-level LEVEL         server log level, written to /dev/null (default info)
${SERVER_HELP}  --keep                    keep the benchmark database
`;

const { values: args, int } = parseBenchArgs('bench:search', HELP, {
  db: { type: 'string', default: 'sqlite' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  'database-url': { type: 'string' },
  tickets: { type: 'string', default: '100000' },
  'entries-per-ticket': { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '8' },
  duration: { type: 'string', default: '10' },
  'max-requests': { type: 'string', default: '200000' },
  classes: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  ...SERVER_OPTIONS,
  keep: { type: 'boolean', default: false },
});

const TICKETS = int('tickets', 0);
const PER_TICKET = int('entries-per-ticket', 1);
const CONCURRENCY = int('concurrency', 1);
const DURATION_MS = int('duration', 1) * 1000;
const MAX_REQUESTS = int('max-requests', 1);
const WORKERS = args.workers === undefined ? undefined : intArg('bench:search', 'workers', args.workers, 1);
const CLASS_NAMES = ['common', 'rare', 'prefix', 'phrase', 'two-words', 'exclusion', 'filter-only', 'cjk'] as const;
type QueryClass = (typeof CLASS_NAMES)[number];
const CLASSES = args.classes ? args.classes.split(',').map((c) => c.trim()) : [...CLASS_NAMES];
for (const c of CLASSES) {
  if (!(CLASS_NAMES as readonly string[]).includes(c)) {
    process.stderr.write(`bench:search: --classes: no class "${c}" (classes: ${CLASS_NAMES.join(', ')})\n`);
    process.exit(2);
  }
}
if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:search: --db must be sqlite or mysql\n');
  process.exit(2);
}
const PASSWORD = 'bench-password-123';
/** Distinct queries per class: clients cycle through them, so no one query's pages stay hot. */
const QUERIES_PER_CLASS = 200;
const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * Queries of each class, from the vocabularies the seed drew its text from, by frequency rank: common words are
 * in a large share of the tickets, rare ones (the made-up tail) in a handful. `dept` is a department id for the
 * filter-only class.
 */
function queries(kind: QueryClass, departmentIds: number[]): string[] {
  const rnd = prng(7);
  const latin = LANGUAGES.filter((l) => !l.cjk);
  const cjk = LANGUAGES.filter((l) => l.cjk);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Ranks from..to, words long enough to be no stop word (a query of stop words alone searches nothing).
  const word = (ls: Language[], from: number, to: number, minChars = 4): string => {
    for (;;) {
      const w = pick(ls).words[from + Math.floor(rnd() * (to - from))]!;
      if ([...w].length >= minChars) return w;
    }
  };
  const q = (s: string) => `q=${encodeURIComponent(s)}`;
  return Array.from({ length: QUERIES_PER_CLASS }, () => {
    switch (kind) {
      case 'common': return q(word(latin, 0, 40));
      case 'rare': return q(word(latin, VOCABULARY_SIZE / 4, VOCABULARY_SIZE));
      case 'prefix': return q([...word(latin, 40, 2000, 6)].slice(0, 4).join(''));
      case 'phrase': return q(`"${pick(pick(latin).phrases)}"`);
      case 'two-words': {
        const l = pick(latin);
        return q(`${word([l], 0, 400)} ${word([l], 0, 400)}`);
      }
      case 'exclusion': {
        const l = pick(latin);
        return q(`${word([l], 0, 100)} -${word([l], 0, 100)}`);
      }
      case 'filter-only': {
        const filters = [`status=${pick(['open', 'resolved', 'closed'])}`, `dept=${pick(departmentIds)}`, `assignee=${pick(['me', 'unassigned', 'someone'])}`, `prio=${1 + Math.floor(rnd() * 4)}`];
        return filters.filter(() => rnd() < 0.6).join('&') || filters[0]!;
      }
      case 'cjk': return q(rnd() < 0.3 ? pick(pick(cjk).phrases) : word(cjk, 0, 3000, 2));
    }
  });
}

interface Figures extends Partial<PerRequestCost> {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
}

async function main(): Promise<void> {
  const given = args['database-url'];
  const fresh = given ? { url: given, drop: async () => undefined } : await scratchDatabase({ kind: args.db as 'sqlite' | 'mysql', mysqlUrl: args['mysql-url']!, name: 'sb_bench_search' });
  const start = (): Promise<Server> => startServer({ root: args['server-root'], databaseUrl: fresh.url, logLevel: args['log-level']!, workers: WORKERS, nodeArgs: cpuProfArgs(args['cpu-prof']) });
  // The server migrates the database its own way (its checkout's migrations) before this process seeds.
  let server = await start();
  const config = loadConfig({}, { databaseUrl: fresh.url, logLevel: args['log-level'], publicUrl: server.baseUrl });
  const logger = createLogger(config.logLevel, pino.destination({ dest: '/dev/null', sync: true }) as unknown as NodeJS.WritableStream);
  const db = createDatabase(config.databaseUrl);
  const services = createServices({ db, clock: systemClock, config, log: logger, secrets: await loadSecrets(new SettingsRepository(db)) });
  await services.setup.ensureDefaults();
  const dbLabel = db.dialect === 'mysql'
    ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v}`
    : `SQLite ${((await db.knex.raw('select sqlite_version() as v')) as Array<{ v: string }>)[0]!.v} (WAL, better-sqlite3)`;
  let meter: Meter | null = null;
  const loadBefore = loadavg()[0]!;
  const figures: Partial<Record<QueryClass, Figures>> = {};
  const all: number[] = [];
  let allMs = 0;
  let seedMs = 0;
  let indexBytes = 0;
  let rss = { maxBytes: 0, sumBytes: 0 };
  try {
    if (TICKETS > 0) {
      log(`seeding ${TICKETS.toLocaleString('en')} tickets (${PER_TICKET} entries each on average) into ${dbLabel} ...`);
      const seeded = await seedTickets(db, { tickets: TICKETS, entriesPerTicket: PER_TICKET, onProgress: (done, total) => done % 50_000 === 0 && log(`  ${done}/${total}`) });
      seedMs = seeded.ms;
      log(`seeded ${seeded.tickets} tickets, ${seeded.entries} entries, ${seeded.attachments} attachments and their index in ${(seedMs / 1000).toFixed(1)} s`);
    }
    indexBytes = await searchIndexBytes(db);
    const tickets = Number((await db.q('tickets').count({ n: '*' }).first())!.n);
    const entries = Number((await db.q('thread_entries').count({ n: '*' }).first())!.n);
    log(`${tickets} tickets, ${entries} entries; search index ${(indexBytes / 1048576).toFixed(1)} MiB on disk`);

    const tag = Date.now().toString(36);
    const support = (await services.departments.list()).find((d) => d.name === 'Support')!;
    const departmentIds = (await services.departments.list()).map((d) => d.id);
    await services.staff.create(null, { username: `bench.admin.${tag}`, email: `admin.${tag}@bench.example`, name: 'Bench Admin', password: PASSWORD, isAdmin: true, departments: [{ departmentId: support.id, isManager: true }] });
    await services.staff.create(null, { username: `bench.support.${tag}`, email: `support.${tag}@bench.example`, name: 'Bench Agent', password: PASSWORD, isAdmin: false, departments: [{ departmentId: support.id, isManager: false }] });
    // Restarted on the seeded data, as a real server would start on it.
    await server.stop();
    server = await start();
    meter = new Meter(server, fresh.url);
    const sessions: Session[] = [await staffLogin(server.baseUrl, `bench.admin.${tag}`, PASSWORD), await staffLogin(server.baseUrl, `bench.support.${tag}`, PASSWORD)];

    for (const kind of CLASSES as QueryClass[]) {
      // Admin and agent alternate: the agent's searches carry the department filter of access rules.
      const targets: Target[] = queries(kind, departmentIds).map((qs, i) => ({ url: `${server.baseUrl}/scp/search?${qs}`, cookie: sessions[i % 2]!.cookie }));
      log(`measuring ${kind} (${targets.length} queries, e.g. ${decodeURIComponent(targets[0]!.url.split('?')[1]!)})`);
      await runLoad({ targets, concurrency: CONCURRENCY, durationMs: 2000, maxRequests: MAX_REQUESTS });
      await meter.begin();
      const r = await runLoad({ targets, concurrency: CONCURRENCY, durationMs: DURATION_MS, maxRequests: MAX_REQUESTS });
      const cost = await meter.end();
      if (r.errors) log(`  ${r.errors} failed requests, first: ${r.firstError}`);
      const p = percentiles(r.latenciesMs);
      all.push(...r.latenciesMs);
      allMs += r.elapsedMs;
      figures[kind] = { requests: p.n, rps: round((p.n / r.elapsedMs) * 1000), p50: p.p50, p95: p.p95, p99: p.p99, max: p.max, errors: r.errors, ...perRequestCost(cost, p.n + r.errors) };
    }
    rss = peakRss(server.pid);
  } finally {
    await meter?.close();
    await server.stop();
    await db.close();
    if (!args.keep && !given) await fresh.drop();
    else if (!given) log(`kept the benchmark database: ${fresh.url}`);
  }

  const o = percentiles(all);
  const overall = { requests: o.n, rps: round((o.n / allMs) * 1000), p50: o.p50, p95: o.p95, p99: o.p99, max: o.max };
  const loadAfter = loadavg()[0]!;
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const out: string[] = [''];
  out.push(`Switchboard bench:search — ${TICKETS ? `${TICKETS.toLocaleString('en')} tickets seeded in ${(seedMs / 1000).toFixed(1)} s` : `database ${fresh.url}`}; search index ${(indexBytes / 1048576).toFixed(1)} MiB on disk`);
  out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}; database: ${dbLabel}; ${CONCURRENCY} clients (admin and agent alternating), ${DURATION_MS / 1000} s per class`);
  for (const note of costNotes(server, db.dialect, Object.values(figures)[0]?.processes)) out.push(note);
  out.push('');
  out.push(`${'class'.padEnd(14)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'errors'.padStart(8)}${'cpu app'.padStart(9)}${'cpu db'.padStart(9)}${'stmts'.padStart(8)}   (CPU ms and statements per request)`);
  for (const [name, f] of Object.entries(figures)) {
    out.push(`${name.padEnd(14)}${cell(f.rps)}${cell(f.p50)}${cell(f.p95)}${cell(f.p99)}${cell(f.max)}${String(f.errors).padStart(8)}${cell(f.appCpuMs, 2)}${cell(f.dbCpuMs, 2)}${cell(f.statements, 1, 8)}`);
  }
  out.push(`${'overall'.padEnd(14)}${cell(overall.rps)}${cell(overall.p50)}${cell(overall.p95)}${cell(overall.p99)}${cell(overall.max)}`);
  out.push(`app peak RSS: ${(rss.maxBytes / 1048576).toFixed(0)} MiB (largest process), ${(rss.sumBytes / 1048576).toFixed(0)} MiB (all server processes)`);
  out.push(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} — other work on this machine skews throughput and latency; CPU per request much less`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({
    bench: 'search', database: dbLabel, server: { root: server.root, entry: server.entry, workers: WORKERS ?? null }, loadAverage: [round(loadBefore), round(loadAfter)],
    tickets: TICKETS, seedMs: Math.round(seedMs), indexBytes, peakRssBytes: rss, concurrency: CONCURRENCY, durationS: DURATION_MS / 1000, machine, classes: figures, overall,
  })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:search failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
