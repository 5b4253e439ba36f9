import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { allProcesses, cpuDelta, databaseServerPid, perRequest, procCpuMs, processTree, threadCpu } from './common.js';

/**
 * The server under test, in a process of its own, from any checkout (`--server-root`), so that the code before
 * and after a change can be measured in the same run; and what it costs per phase of a benchmark: CPU of the
 * app's processes and of the database server, and SQL statements.
 */

const THIS_ROOT = resolve(import.meta.dirname, '../..');
const COMPILED = ['dist/main.js', 'dist/src/main.js'];
const COUNTER = pathToFileURL(join(import.meta.dirname, 'count-statements.mjs')).href;

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface ServerOptions {
  /** The checkout whose code runs (default: this one). */
  root?: string;
  databaseUrl: string;
  logLevel: string;
  /** SWITCHBOARD_WORKERS for the server; unset leaves the server's own default. */
  workers?: number;
  /** More settings for the configuration file (e.g. smtp limits). */
  config?: Record<string, unknown>;
  /** Node options before the entry point, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Ports to listen on (default: free ones the system picks). */
  httpPort?: number;
  smtpPort?: number;
}

export interface Server {
  child: ChildProcess;
  pid: number;
  root: string;
  /** What ran: dist/main.js (compiled) or src/main.ts (through tsx). */
  entry: string;
  httpPort: number;
  smtpPort: number;
  baseUrl: string;
  startMs: number;
  /** Where the statement counter in each server process answers (count-statements.mjs). */
  statementsDir: string;
  stop(): Promise<number | null>;
}

/** Ready when the SMTP port greets with 220 and the web server answers: both listeners are up. */
async function ready(httpPort: number, smtpPort: number): Promise<boolean> {
  const smtp = await new Promise<boolean>((r) => {
    const s = connect(smtpPort, '127.0.0.1');
    s.once('data', (d: Buffer) => {
      s.destroy();
      r(d.toString('latin1').startsWith('220'));
    });
    s.once('error', () => r(false));
  });
  if (!smtp) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/scp/login`);
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/**
 * Starts `node dist/main.js` (or dist/src/main.js) when the checkout has a compiled build, else
 * `node --import tsx src/main.ts` (one process either way: the tsx CLI would put a wrapper process between the
 * benchmark and the server), with the statement counter loaded and a configuration file that decides every
 * port and the database.
 */
export async function startServer(opts: ServerOptions): Promise<Server> {
  const root = resolve(opts.root ?? THIS_ROOT);
  // tsc's output keeps the source layout under dist/: dist/main.js with rootDir src, dist/src/main.js with rootDir
  // "." (when migrations/ is compiled too).
  const built = COMPILED.find((f) => existsSync(join(root, f)));
  const compiled = built !== undefined;
  const entry = built ?? 'src/main.ts';
  if (!compiled && !existsSync(join(root, entry))) throw new Error(`${root} has neither ${COMPILED.join(' nor ')} nor src/main.ts`);
  const [smtpPort, httpPort] = [opts.smtpPort ?? (await freePort()), opts.httpPort ?? (await freePort())];
  const scratch = mkdtempSync(join(tmpdir(), 'switchboard-bench-server-'));
  const configFile = join(scratch, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    databaseUrl: opts.databaseUrl, mailDomain: 'helpdesk.test', logLevel: opts.logLevel, publicUrl: `http://127.0.0.1:${httpPort}`,
    ...opts.config,
    http: { host: '127.0.0.1', port: httpPort },
    smtp: { host: '127.0.0.1', port: smtpPort, ...(opts.config?.smtp as object | undefined) },
  }));
  const statementsDir = join(scratch, 'statements');
  mkdirSync(statementsDir);
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHBOARD_CONFIG: configFile, SB_BENCH_STATEMENTS_DIR: statementsDir, SB_BENCH_SERVER_ROOT: root };
  // The configuration contract's variables would override the file: the benchmark decides what runs.
  for (const k of ['DATABASE_URL', 'HTTP_HOST', 'HTTP_PORT', 'SMTP_HOST', 'SMTP_PORT', 'PUBLIC_URL', 'MAIL_DOMAIN', 'OUTBOUND_SMTP_URL', 'LOG_LEVEL', 'SWITCHBOARD_WORKERS', 'NODE_OPTIONS']) delete env[k];
  if (opts.workers !== undefined) env.SWITCHBOARD_WORKERS = String(opts.workers);
  const args = [...(opts.nodeArgs ?? []), ...(compiled ? [] : ['--import', 'tsx']), '--import', COUNTER, entry];
  const started = performance.now();
  // Logs go to /dev/null (the server's own configuration): formatting them is part of the cost, a terminal is not.
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!(await ready(httpPort, smtpPort))) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer on ${httpPort}/${smtpPort} within 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const startMs = performance.now() - started;
  return {
    child,
    pid: child.pid!,
    root,
    entry,
    httpPort,
    smtpPort,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    startMs,
    statementsDir,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(scratch, { recursive: true, force: true });
      const noise = stderr.trim();
      if (noise) process.stderr.write(`server stderr: ${noise.slice(0, 2000)}\n`);
      return code;
    },
  };
}

/** "<request number> <count>" files of the statement counter, by pid. */
function readCounters(dir: string): Map<number, { asked: number; count: number }> {
  const out = new Map<number, { asked: number; count: number }>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const [asked, count] = readFileSync(join(dir, name), 'utf8').split(' ').map(Number);
      if (Number.isFinite(asked) && Number.isFinite(count)) out.set(Number(name), { asked: asked!, count: count! });
    } catch {
      // being rewritten: read again on the next poll
    }
  }
  return out;
}

/** Asks every live counting process of the server for its count and sums the answers. */
async function countStatements(dir: string, pids: number[]): Promise<number | null> {
  const before = readCounters(dir);
  const asked = pids.filter((pid) => before.has(pid));
  if (!asked.length) return null;
  for (const pid of asked) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = readCounters(dir);
    if (asked.every((pid) => (now.get(pid)?.asked ?? 0) > before.get(pid)!.asked)) return asked.reduce((n, pid) => n + now.get(pid)!.count, 0);
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Cost {
  /** CPU of the server's processes (primary and workers), ms. With SQLite this includes the database's work. */
  appCpuMs: number;
  /** CPU of the MariaDB threads serving the server's connections, ms; null on SQLite (a library in the app). */
  dbCpuMs: number | null;
  /** CPU of the whole MariaDB process, ms: background threads too, and any other client of that server. */
  dbProcessCpuMs: number | null;
  /** SQL statements the server's processes sent to their driver. */
  statements: number | null;
  /** MariaDB's global Questions, less the benchmark's own: every client of that server counts. */
  serverQuestions: number | null;
  /** How many server processes were measured (1 + workers). */
  processes: number;
}

interface Snapshot {
  app: Map<number, number>;
  dbThreads: Map<number, number>;
  dbProcess: number | null;
  statements: number | null;
  tids: Set<number>;
  questions: number | null;
  ownQuestions: number | null;
}

/**
 * Measures what a phase of a benchmark costs the server: `begin()` before the measured requests, `end()` after.
 * On MariaDB a connection of its own reads the server's status and which threads serve the benchmarked
 * database (information_schema.PROCESSLIST.TID, one thread per connection).
 */
export class Meter {
  private readonly dbPid: number | null;
  private readonly admin: Knex | null;
  private readonly database: string | null;
  private start: Snapshot | null = null;

  constructor(private readonly server: Server, databaseUrl: string) {
    const mysql = databaseUrl.startsWith('mysql://');
    this.dbPid = mysql ? databaseServerPid() : null;
    this.database = mysql ? decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) : null;
    this.admin = mysql ? knexFactory({ client: 'mysql2', connection: { uri: databaseUrl } as never, pool: { min: 1, max: 1 } }) : null;
  }

  private async status(scope: 'GLOBAL' | 'SESSION'): Promise<number | null> {
    if (!this.admin) return null;
    const [rows] = (await this.admin.raw(`SHOW ${scope} STATUS LIKE 'Questions'`)) as [Array<{ Value: string }>];
    return rows[0] ? Number(rows[0].Value) : null;
  }

  private async tids(): Promise<Set<number>> {
    if (!this.admin) return new Set();
    const [rows] = (await this.admin.raw('SELECT TID AS tid FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [this.database])) as [Array<{ tid: number }>];
    return new Set(rows.map((r) => Number(r.tid)));
  }

  private async snapshot(): Promise<Snapshot> {
    const ownQuestions = await this.status('SESSION');
    const questions = await this.status('GLOBAL');
    const tids = await this.tids();
    const tree = processTree(this.server.pid, allProcesses());
    const statements = await countStatements(this.server.statementsDir, tree.map((p) => p.pid));
    // CPU last, right after the count: the signal round-trip costs the server next to nothing.
    const app = new Map(processTree(this.server.pid, allProcesses()).map((p) => [p.pid, p.cpuMs]));
    const dbThreads = this.dbPid ? threadCpu(this.dbPid) : new Map<number, number>();
    const dbProcess = this.dbPid ? procCpuMs(this.dbPid) : null;
    return { app, dbThreads, dbProcess, statements, tids, questions, ownQuestions };
  }

  async begin(): Promise<void> {
    this.start = await this.snapshot();
  }

  async end(): Promise<Cost> {
    const a = this.start!;
    const b = await this.snapshot();
    const ours = new Set([...a.tids, ...b.tids]);
    const diff = (x: number | null, y: number | null) => (x === null || y === null ? null : y - x);
    const own = diff(a.ownQuestions, b.ownQuestions);
    const global = diff(a.questions, b.questions);
    return {
      appCpuMs: cpuDelta(a.app, b.app),
      dbCpuMs: this.dbPid ? cpuDelta(a.dbThreads, b.dbThreads, ours) : null,
      dbProcessCpuMs: diff(a.dbProcess, b.dbProcess),
      statements: diff(a.statements, b.statements),
      serverQuestions: global === null || own === null ? null : global - own,
      processes: b.app.size,
    };
  }

  async close(): Promise<void> {
    await this.admin?.destroy();
  }
}

/** Per-request figures of a phase's cost, as the benchmarks print and write them. */
export function perRequestCost(cost: Cost, n: number) {
  return {
    appCpuMs: perRequest(cost.appCpuMs, n),
    dbCpuMs: perRequest(cost.dbCpuMs, n),
    dbProcessCpuMs: perRequest(cost.dbProcessCpuMs, n),
    statements: perRequest(cost.statements, n, 1),
    serverQuestions: perRequest(cost.serverQuestions, n, 1),
    processes: cost.processes,
  };
}
export type PerRequestCost = ReturnType<typeof perRequestCost>;

/** The options every benchmark that starts the server takes. */
export const SERVER_OPTIONS = {
  'server-root': { type: 'string' },
  workers: { type: 'string' },
  'cpu-prof': { type: 'string' },
} as const;

/** Node options for `--cpu-prof DIR`: each server process writes its V8 profile there when it exits. */
export function cpuProfArgs(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', '--cpu-prof-dir', resolve(dir)] : [];
}

export const SERVER_HELP = `  --server-root DIR     run the server from this checkout (default: this one): its compiled
                        dist/main.js (or dist/src/main.js) when built, else src/main.ts through tsx
  --workers N           SWITCHBOARD_WORKERS=N for the server (default: unset, the server's default);
                        CPU is summed over the server process and all its children
  --cpu-prof DIR        write a V8 CPU profile of each server process to DIR (Chrome DevTools, or
                        scripts/bench/profile-summary.mjs DIR)
`;

/** How the cost was measured, for the summary: what CPU "db" means on this database. */
export function costNotes(server: Server, dialect: 'mysql' | 'sqlite', processes: number | undefined): string[] {
  return [
    `server: ${server.root}/${server.entry}${server.entry.endsWith('.ts') ? ' (tsx)' : ''}, ${processes ?? '?'} process${processes === 1 ? '' : 'es'} measured, started in ${(server.startMs / 1000).toFixed(2)} s`,
    dialect === 'mysql'
      ? 'CPU db = the MariaDB threads serving the server\'s connections (PROCESSLIST.TID); db (process) = all of mariadbd, other clients included; statements = counted at the driver; questions = MariaDB\'s global Questions less the bench\'s own (any other client of that server inflates it)'
      : 'SQLite runs inside the app process: CPU app includes the database\'s work, and there is no db figure; statements = counted at the driver (better-sqlite3)',
  ];
}
