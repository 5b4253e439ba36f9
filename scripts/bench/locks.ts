import { cpus, loadavg, totalmem } from 'node:os';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { systemClock, toDbTime } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import type { StaffPrincipal } from '../../src/staff/staff.js';
import { parseBenchArgs, percentiles, round as roundTo, scratchDatabase } from './common.js';

const HELP = `npm run bench:locks -- [options]

Collision locks under load, measured through the service layer (LockService, TicketService) in one process
on one connection pool, as one node of a cluster would run them.

  --db mysql|sqlite     database (default mysql: a fresh database sb_bench_locks on --mysql-url, dropped
                        afterwards; sqlite: a temporary file)
  --mysql-url URL       MySQL/MariaDB server (default mysql://root@127.0.0.1:3306/)
  --owners N            agents each taking, renewing and releasing the lock of their own ticket (default 50)
  --contenders N        agents all contending for one ticket (default 10)
  --duration S          seconds of lock traffic (default 10)
  --think-ms N          mean pause between one agent's operations, jittered ±50% (default 100; 0 = flat out)
  --renewals N          renewals per lock held (default 3)
  --posts N             responses posted with and without the lock check, each (default 300)
`;

const { values: args, int } = parseBenchArgs('bench:locks', HELP, {
  db: { type: 'string', default: 'mysql' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  owners: { type: 'string', default: '50' },
  contenders: { type: 'string', default: '10' },
  duration: { type: 'string', default: '10' },
  'think-ms': { type: 'string', default: '100' },
  renewals: { type: 'string', default: '3' },
  posts: { type: 'string', default: '300' },
});

const OWNERS = int('owners', 1);
const CONTENDERS = int('contenders', 0);
const DURATION_MS = int('duration', 1) * 1000;
const THINK_MS = int('think-ms', 0);
const RENEWALS = int('renewals', 0);
const POSTS = int('posts', 1);
if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:locks: --db must be mysql or sqlite\n');
  process.exit(2);
}
const DB = args.db;

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => (ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
// Agents do not act in step: each pause is drawn from 0.5–1.5 × the think time, and each agent starts at a
// random point of its first pause, so the load is spread instead of arriving in bursts of 60.
const think = (ms = THINK_MS) => sleep(ms * (0.5 + Math.random()));
const round = (n: number) => roundTo(n, 3);

interface Figures {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function summarise(ms: number[]): Figures {
  const { n, p50, p99, max } = percentiles(ms, 3);
  return { n, p50, p99, max };
}

async function timed<T>(into: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  into.push(performance.now() - t0);
  return r;
}

/**
 * Agents written straight into the staff tables: the product's password hashing would dominate set-up time
 * and is not under test. Everything measured goes through the services.
 */
async function createAgents(services: Services, from: number, n: number, departmentId: number): Promise<StaffPrincipal[]> {
  const out: StaffPrincipal[] = [];
  const now = toDbTime(new Date());
  for (let i = from; i < from + n; i++) {
    const [id] = await services.db.q('staff').insert({ username: `bench${i}`, email: `bench${i}@bench.example`, name: `Bench Agent ${i}`, password_hash: '!', is_admin: false, is_active: true, timezone: 'UTC', created_at: now });
    await services.db.q('staff_departments').insert({ staff_id: Number(id), department_id: departmentId, is_manager: false });
    out.push((await services.staff.principal(Number(id)))!);
  }
  return out;
}

async function newTicket(services: Services, i: number): Promise<string> {
  const { ticket } = await services.tickets.create(null, { name: `Requester ${i}`, email: `req${i}@bench.example`, subject: `Bench ticket ${i}`, message: 'Help', source: 'web', notifyRequester: false });
  return ticket.number;
}

async function main(): Promise<void> {
  // Other work on the machine shows up in every figure; the 1-minute load average says how much there was.
  const loadAtStart = loadavg()[0]!;
  const fresh = await scratchDatabase({ kind: DB, mysqlUrl: args['mysql-url']!, name: 'sb_bench_locks' });
  const config = loadConfig({}, { databaseUrl: fresh.url, logLevel: 'silent', publicUrl: 'http://127.0.0.1' });
  const db = createDatabase(config.databaseUrl);
  let result: Record<string, unknown> = {};
  try {
    await migrateLatest(db);
    const secrets = await loadSecrets(new SettingsRepository(db));
    const services = createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets });
    await services.setup.ensureDefaults();
    const dbLabel = db.dialect === 'mysql'
      ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v} (pool of 10)`
      : `SQLite ${((await db.knex.raw('select sqlite_version() as v')) as Array<{ v: string }>)[0]!.v} (WAL, better-sqlite3, one connection)`;
    const support = (await services.departments.list())[0]!;
    log(`setting up ${OWNERS + CONTENDERS} agents and ${OWNERS + 1} tickets on ${dbLabel} ...`);
    const owners = await createAgents(services, 0, OWNERS, support.id);
    const contenders = await createAgents(services, OWNERS, CONTENDERS, support.id);
    const ownTickets: string[] = [];
    for (let i = 0; i < OWNERS; i++) ownTickets.push(await newTicket(services, i));
    const shared = await newTicket(services, OWNERS);

    const lat = { acquire: [] as number[], renew: [] as number[], release: [] as number[], contendedAcquire: [] as number[] };
    let lost = 0;
    let doubleHeld = 0;
    let contendedWins = 0;
    let errors = 0;
    let firstError: string | null = null;
    // Who holds the shared ticket, as the agents themselves believe. Set after a won acquire, cleared before
    // the release is sent: a second winner while it is set means two agents held the lock at once.
    let sharedHolder: number | null = null;
    const deadline = performance.now() + DURATION_MS;

    const owner = async (p: StaffPrincipal, number: string) => {
      await sleep(Math.random() * THINK_MS);
      while (performance.now() < deadline) {
        try {
          const got = await timed(lat.acquire, () => services.locks.acquire(p, number));
          if (!got.mine) lost++;
          for (let r = 0; r < RENEWALS; r++) {
            await think();
            if (!(await timed(lat.renew, () => services.locks.renew(p, number))).mine) lost++;
          }
          await think();
          await timed(lat.release, () => services.locks.release(p, number, got.lock?.token));
          await think();
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    };

    const contender = async (p: StaffPrincipal) => {
      await sleep(Math.random() * THINK_MS);
      while (performance.now() < deadline) {
        try {
          const got = await timed(lat.contendedAcquire, () => services.locks.acquire(p, shared));
          if (got.mine) {
            contendedWins++;
            if (sharedHolder !== null && sharedHolder !== p.staffId) doubleHeld++;
            sharedHolder = p.staffId;
            for (let r = 0; r < RENEWALS; r++) {
              await think();
              if (!(await timed(lat.renew, () => services.locks.renew(p, shared))).mine) lost++;
            }
            await think();
            sharedHolder = null;
            await timed(lat.release, () => services.locks.release(p, shared, got.lock?.token));
          }
          await think();
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    };

    // The floor for any durable write on this database: one single-row autocommit UPDATE, nothing else.
    const floor: number[] = [];
    for (let i = 0; i < 200; i++) await timed(floor, () => db.q('tickets').where('number', shared).update({ priority: 2 + (i % 2) }));

    // A running server's pool is already open; opening its connections (with their session setup) inside the
    // measured window would put connection set-up, not locking, in the first acquires' figures.
    await Promise.all(Array.from({ length: 10 }, () => db.q.raw('select 1')));

    log(`lock traffic: ${OWNERS} owners + ${CONTENDERS} contenders for ${DURATION_MS / 1000} s, think ${THINK_MS} ms, ${RENEWALS} renewals per hold ...`);
    const started = performance.now();
    await Promise.all([...owners.map((p, i) => owner(p, ownTickets[i]!)), ...contenders.map((p) => contender(p))]);
    const elapsed = performance.now() - started;
    const leftOver = await db.q('ticket_locks').where('expires_at', '>=', toDbTime(new Date())).count({ n: '*' }).first();
    const liveAfter = Number((leftOver as { n: number } | undefined)?.n ?? 0);
    const ops = lat.acquire.length + lat.renew.length + lat.release.length + lat.contendedAcquire.length;

    // The lock check on posting: the same responses with and without it (LockService.assertMayAct, the
    // release after posting and the draft clean-up), alternating so drift hits both sides alike.
    log(`posting ${POSTS} responses with and ${POSTS} without the lock check ...`);
    const poster = owners[0]!;
    const postTickets: string[] = [];
    for (let i = 0; i < 20; i++) postTickets.push(await newTicket(services, 1000 + i));
    const withCheck: number[] = [];
    const withoutCheck: number[] = [];
    const checkOnly: number[] = [];
    const real = { assert: services.locks.assertMayAct, release: services.locks.releaseAfterPost, discard: services.drafts.discard };
    const setChecks = (on: boolean) => {
      services.locks.assertMayAct = on ? real.assert : async () => null;
      services.locks.releaseAfterPost = on ? real.release : async () => undefined;
      services.drafts.discard = on ? real.discard : async () => undefined;
    };
    const ticketIds = new Map<string, number>();
    for (const n of postTickets) ticketIds.set(n, (await services.tickets.get(poster, n)).id);
    for (let i = 0; i < POSTS * 2 + 20; i++) {
      const number = postTickets[i % postTickets.length]!;
      const on = i % 2 === 0;
      setChecks(on);
      const t0 = performance.now();
      await services.tickets.respond(poster, number, `Response ${i}`);
      const ms = performance.now() - t0;
      // The first rounds warm the pool and statement caches on both sides.
      if (i >= 20) (on ? withCheck : withoutCheck).push(ms);
      if (on && i >= 20) await timed(checkOnly, () => real.assert.call(services.locks, poster, ticketIds.get(number)!, 'respond'));
    }
    setChecks(true);

    const figures = {
      acquire: summarise(lat.acquire),
      renew: summarise(lat.renew),
      release: summarise(lat.release),
      contendedAcquire: summarise(lat.contendedAcquire),
    };
    const post = { withCheck: summarise(withCheck), withoutCheck: summarise(withoutCheck), checkAlone: summarise(checkOnly) };
    const added = { p50: round(post.withCheck.p50 - post.withoutCheck.p50), p99: round(post.withCheck.p99 - post.withoutCheck.p99) };
    const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAvgAtStart: round(loadAtStart) };
    const goal = figures.acquire.p99 < 10 && figures.renew.p99 < 10 && figures.contendedAcquire.p99 < 10 && lost === 0 && doubleHeld === 0;

    const out: string[] = [''];
    out.push(`Switchboard bench:locks — service layer, ${OWNERS} owners + ${CONTENDERS} contenders, ${DURATION_MS / 1000} s, think ${THINK_MS} ms, ${RENEWALS} renewals per hold`);
    out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}, load average ${machine.loadAvgAtStart} at start; database: ${dbLabel}`);
    out.push('');
    out.push(`${'operation'.padEnd(22)}${'count'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`);
    const row = (name: string, f: Figures) => out.push(`${name.padEnd(22)}${String(f.n).padStart(8)}${f.p50.toFixed(2).padStart(9)}${f.p99.toFixed(2).padStart(9)}${f.max.toFixed(2).padStart(9)}`);
    for (const [name, f] of Object.entries(figures)) row(name, f);
    row('respond, with check', post.withCheck);
    row('respond, without', post.withoutCheck);
    row('lock check alone', post.checkAlone);
    row('bare UPDATE commit', summarise(floor));
    out.push('');
    out.push(`${ops} lock operations in ${(elapsed / 1000).toFixed(1)} s (${Math.round((ops / elapsed) * 1000)}/s); contended acquires won: ${contendedWins} of ${lat.contendedAcquire.length}`);
    out.push(`lost locks: ${lost}; double-held: ${doubleHeld}; live locks left after release: ${liveAfter}; errors: ${errors}${firstError ? ` (first: ${firstError})` : ''}`);
    out.push(`added latency of the lock check on posting: p50 ${added.p50} ms, p99 ${added.p99} ms`);
    out.push(`goal p99 < 10 ms for acquire and renew, nothing lost or double-held: ${goal ? 'met' : 'MISSED'}`);
    process.stdout.write(`${out.join('\n')}\n`);
    result = {
      bench: 'locks', layer: 'service', database: dbLabel, owners: OWNERS, contenders: CONTENDERS, durationS: DURATION_MS / 1000, thinkMs: THINK_MS, renewals: RENEWALS,
      opsPerSecond: Math.round((ops / elapsed) * 1000), ...figures, contendedWins, lost, doubleHeld, liveAfter, errors,
      post: { ...post, addedP50: added.p50, addedP99: added.p99 }, bareCommit: summarise(floor), goalMet: goal, machine,
    };
  } finally {
    await db.close();
    await fresh.drop();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:locks failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
