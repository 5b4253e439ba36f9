import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import type { Database } from '../../src/db/database.js';

/**
 * What the benchmarks share: argument checks, a scratch database, a seeded PRNG and latency percentiles.
 * The scripts' own output stays in each script: only the pieces that were copied between them live here.
 */

/**
 * Parses the command line with node:util parseArgs plus a `--help` flag that prints `help` and exits.
 * `int(name, min)` reads a whole-number option or exits with status 2, naming `program` (e.g. `bench:web`).
 */
export function parseBenchArgs<const O extends NonNullable<ParseArgsConfig['options']>>(program: string, help: string, options: O) {
  const { values } = parseArgs({ options: { ...options, help: { type: 'boolean', default: false } } as const });
  if ((values as { help?: boolean }).help) {
    process.stdout.write(help);
    process.exit(0);
  }
  const int = (name: keyof O & string, min: number): number => intArg(program, name, (values as Record<string, unknown>)[name] as string | undefined, min);
  return { values, int };
}

export function intArg(program: string, name: string, v: string | undefined, min: number): number {
  if (!v || !/^\d+$/.test(v) || Number(v) < min) {
    process.stderr.write(`${program}: --${name} must be a whole number >= ${min}\n`);
    process.exit(2);
  }
  return Number(v);
}

export interface ScratchDatabase {
  url: string;
  drop: () => Promise<void>;
}

/**
 * A database of its own for one run: on MySQL, `name` on the server at `mysqlUrl`, dropped first in case an
 * earlier run was interrupted (a fixed name, so that an interrupted run leaves one leftover, not one per run);
 * on SQLite, a file in a new temporary directory named after `name` (sb_bench_mail → switchboard-bench-mail-…).
 */
export async function scratchDatabase(opts: { kind: 'mysql' | 'sqlite'; mysqlUrl: string; name: string }): Promise<ScratchDatabase> {
  const { name, mysqlUrl } = opts;
  if (opts.kind === 'mysql') {
    const withServer = async (fn: (k: Knex) => Promise<unknown>) => {
      const k = knexFactory({ client: 'mysql2', connection: { uri: mysqlUrl } as never, pool: { min: 0, max: 1 } });
      try {
        await fn(k);
      } finally {
        await k.destroy();
      }
    };
    await withServer(async (k) => {
      await k.raw('DROP DATABASE IF EXISTS ??', [name]);
      await k.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
    });
    const u = new URL(mysqlUrl);
    u.pathname = `/${name}`;
    return { url: u.toString(), drop: () => withServer((k) => k.raw('DROP DATABASE IF EXISTS ??', [name])) };
  }
  const dir = mkdtempSync(join(tmpdir(), `switchboard-${name.replace(/^sb_/, '').replace(/_/g, '-')}-`));
  return { url: `sqlite:${join(dir, 'bench.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bytes the search index takes on disk: the engine's own tables (FTS5's shadow tables on SQLite; on MySQL the
 * InnoDB FULLTEXT auxiliary tables, FTS_*, of tickets and thread_entries, which also keep the tokens in their
 * rows' search_tokens column, not counted here).
 */
export async function searchIndexBytes(db: Database): Promise<number> {
  if (db.dialect === 'mysql') {
    await db.knex.raw('ANALYZE TABLE tickets, thread_entries');
    const [rows] = (await db.knex.raw(
      "SELECT SUM(ALLOCATED_SIZE) AS n FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE CONCAT(DATABASE(), '/FTS\\_%')",
    )) as [Array<{ n: number | string | null }>];
    return Number(rows[0]?.n ?? 0);
  }
  const rows = (await db.knex.raw("SELECT SUM(pgsize) AS n FROM dbstat WHERE name LIKE 'ticket\\_fts%' ESCAPE '\\' OR name LIKE 'entry\\_fts%' ESCAPE '\\'")) as Array<{ n: number | null }>;
  return Number(rows[0]?.n ?? 0);
}

/** mulberry32: small, fast and good enough for benchmark data; the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const round = (n: number, decimals = 2): number => {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
};

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of the samples, rounded; NaN (null in JSON) when there are none. */
export function percentiles(samples: number[], decimals = 2): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);
  return {
    n: sorted.length,
    p50: round(at(0.5), decimals),
    p95: round(at(0.95), decimals),
    p99: round(at(0.99), decimals),
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN, decimals),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Server CPU from /proc: unlike latency and throughput, CPU time per request hardly moves when other work
// competes for the cores, so it is the figure that survives a noisy machine.

/** Clock ticks per second of /proc's utime and stime: 100 on every Linux this runs on (USER_HZ). */
const CLOCK_TICKS = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, milliseconds. */
  cpuMs: number;
}

/**
 * Parses one /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) line. The command name, field 2, is in
 * parentheses and may itself hold spaces and parentheses, so the fields are counted from the LAST ")".
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(line.slice(0, line.indexOf(' ')));
  // After ") ": state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
  const f = line.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (![pid, ppid, utime, stime].every(Number.isFinite)) return null;
  return { pid, ppid, cpuMs: ((utime + stime) * 1000) / CLOCK_TICKS };
}

function readStat(path: string): ProcStat | null {
  try {
    return parseProcStat(readFileSync(path, 'utf8'));
  } catch {
    return null; // the process (or thread) has gone
  }
}

/** User + system CPU milliseconds of a process so far (all its threads, ended ones included). */
export function procCpuMs(pid: number): number | null {
  return readStat(`/proc/${pid}/stat`)?.cpuMs ?? null;
}

/** Every process now running, by pid. */
export function allProcesses(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(`/proc/${name}/stat`);
    if (s) all.set(s.pid, s);
  }
  return all;
}

/** `root` and its descendants (node:cluster workers, esbuild's service), from the ppid links in `procs`. */
export function processTree(root: number, procs: Map<number, ProcStat>): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcStat[] = [];
  const queue = procs.has(root) ? [procs.get(root)!] : [];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/**
 * Peak resident memory (VmHWM) of `root` and its descendants, bytes: the largest single process and the sum
 * (with node:cluster workers each has its own heap).
 */
export function peakRss(root: number): { maxBytes: number; sumBytes: number } {
  let maxBytes = 0;
  let sumBytes = 0;
  for (const p of processTree(root, allProcesses())) {
    try {
      const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
      maxBytes = Math.max(maxBytes, kb * 1024);
      sumBytes += kb * 1024;
    } catch {
      // gone
    }
  }
  return { maxBytes, sumBytes };
}

/** Per-thread CPU of one process, by thread id (MariaDB runs one thread per connection). */
export function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (s) out.set(s.pid, s.cpuMs);
  }
  return out;
}

/**
 * CPU spent between two snapshots by the processes of either snapshot: a worker that started during the phase
 * counts from zero, one that ended counts up to the first snapshot only (its last moments are lost, which a
 * bench that keeps its server running does not meet).
 */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>, only?: Set<number>): number {
  let ms = 0;
  for (const [id, end] of after) {
    if (only && !only.has(id)) continue;
    ms += Math.max(0, end - (before.get(id) ?? 0));
  }
  return ms;
}

/** The MariaDB/MySQL server's pid on this machine: `pidof`, else a scan of /proc for the command name. */
export function databaseServerPid(): number | null {
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pid = Number(execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim());
      if (pid > 0) return pid;
    } catch {
      // not running under that name, or no pidof
    }
  }
  for (const p of allProcesses().values()) {
    try {
      if (/^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim())) return p.pid;
    } catch {
      // gone
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Formatting.

/** A per-request figure: `total / n`, rounded, or null when either is unknown. */
export function perRequest(total: number | null, n: number, decimals = 2): number | null {
  return total === null || !n ? null : round(total / n, decimals);
}

/** A number for a table cell: "-" for unknown. */
export function cell(v: number | null | undefined, decimals = 1, width = 9): string {
  return (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(decimals)).padStart(width);
}
