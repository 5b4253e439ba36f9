import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import knexFactory, { type Knex } from 'knex';

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
