import { AsyncLocalStorage } from 'node:async_hooks';
import { isUtf8 } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { normaliseDbError } from './errors.js';

export type Dialect = 'mysql' | 'sqlite';

/**
 * The one entry point to SQL. `q` is the current transaction when inside `transaction()` and the pool
 * otherwise, so repositories never reach past an open transaction to the root knex: on SQLite, with its
 * single connection, that would wait for the acquire timeout (DESIGN.md §9 "transactions").
 */
export class Database {
  private readonly als = new AsyncLocalStorage<Knex.Transaction>();

  constructor(
    readonly knex: Knex,
    readonly dialect: Dialect,
  ) {}

  get q(): Knex {
    return this.als.getStore() ?? this.knex;
  }

  get inTransaction(): boolean {
    return this.als.getStore() !== undefined;
  }

  /** Runs `fn` in a transaction, reusing the outer one when already inside one. Driver errors come out normalised. */
  async transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const outer = this.als.getStore();
    try {
      return outer ? await fn(outer) : await this.knex.transaction((trx) => this.als.run(trx, () => fn(trx)));
    } catch (err) {
      throw normaliseDbError(err);
    }
  }

  /**
   * Runs `fn` so that its failure undoes only its own writes: a SAVEPOINT inside an open transaction (knex's
   * nested transaction, on both dialects), a transaction of its own otherwise. For "insert under a unique key,
   * on a violation read the winner" inside a larger transaction: without it, MySQL and SQLite keep the outer
   * transaction going after the failed statement, but the rows `fn` wrote before it would stay.
   */
  async savepoint<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const outer = this.als.getStore();
    if (!outer) return this.transaction(fn);
    try {
      return await outer.transaction((inner) => this.als.run(inner, () => fn(inner)));
    } catch (err) {
      throw normaliseDbError(err);
    }
  }

  /** Runs a statement on the current transaction, or the pool outside one, with driver errors normalised. */
  async run<T>(fn: (q: Knex) => Promise<T>): Promise<T> {
    try {
      return await fn(this.q);
    } catch (err) {
      throw normaliseDbError(err);
    }
  }

  /**
   * A value for a BLOB column. mysql2 writes a Buffer into the SQL text as hex, twice its size (bench:mail: the
   * raw messages were 60% of the bytes sent to MariaDB). Valid UTF-8, which mail nearly always is, goes as a
   * `_binary` string literal instead, whose bytes the server stores unchanged. SQLite binds the Buffer as it is.
   */
  blob(data: Buffer): Buffer | Knex.Raw {
    return this.dialect === 'mysql' && isUtf8(data) ? this.q.raw('_binary ?', [data.toString('utf8')]) : data;
  }

  async ping(): Promise<void> {
    await this.run((q) => q.raw('select 1'));
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}

export function dialectOf(url: string): Dialect {
  return url.startsWith('mysql://') ? 'mysql' : 'sqlite';
}

/** Where knex's own messages go; without one, knex prints them (with stacks) to the console. */
export interface DbLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Connection errors are reported by whoever awaits the query (start-up prints one line for them), so knex's
 * copy with its stack only goes to debug.
 */
function knexLog(log: DbLog): { log: Knex.Logger } {
  const first = (m: unknown) => String(m).split('\n')[0]!;
  return {
    log: {
      debug: () => undefined,
      warn: (m: unknown) => log.debug({ component: 'knex' }, first(m)),
      error: (m: unknown) => log.error({ component: 'knex' }, first(m)),
      deprecate: (m: unknown) => log.warn({ component: 'knex' }, String(m)),
    },
  };
}

/**
 * knex prepares every query anew, and on a page of a dozen small queries SQLite spent as long compiling SQL
 * as running it (bench:web profile). Statements are reused per SQL text instead: knex only calls `all` or
 * `run` on them, which finish before the next query on this single connection starts. Least recently used
 * first out, so generated SQL (IN lists of varying length) cannot grow the cache without bound.
 */
function cacheStatements(conn: { prepare: (sql: string) => unknown }, max = 500): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement) cache.delete(sql);
    else statement = prepare(sql);
    cache.set(sql, statement);
    if (cache.size > max) cache.delete(cache.keys().next().value!);
    return statement;
  };
}

/** One knex per dialect with its per-connection setup (DESIGN.md §9 "setup"). */
export function createDatabase(url: string, opts: { poolMax?: number; log?: DbLog } = {}): Database {
  const dialect = dialectOf(url);
  const log = opts.log ? knexLog(opts.log) : {};
  if (dialect === 'mysql') {
    const knex = knexFactory({
      client: 'mysql2',
      connection: {
        uri: url,
        charset: 'utf8mb4',
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        connectTimeout: 5000,
      } as Knex.MySql2ConnectionConfig,
      pool: {
        min: 0,
        max: opts.poolMax ?? 10,
        afterCreate(conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, c: unknown) => void) {
          conn.query("SET time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 5000,
      ...log,
    });
    return new Database(knex, dialect);
  }
  const file = url.slice('sqlite:'.length) || './data/switchboard.sqlite';
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma: (s: string) => unknown; prepare: (sql: string) => unknown }, done: (err: Error | null, c: unknown) => void) {
        try {
          conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          cacheStatements(conn);
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
    acquireConnectionTimeout: 10000,
    ...log,
  });
  return new Database(knex, dialect);
}
