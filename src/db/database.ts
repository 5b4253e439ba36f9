import { AsyncLocalStorage } from 'node:async_hooks';
import { isUtf8 } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { normaliseDbError } from './errors.js';

export type Dialect = 'mysql' | 'sqlite';

const DEADLOCK_ATTEMPTS = 3;

/** The driver's deadlock, as thrown or as normalised on its way out of `run` (RetryableConflict with it as cause). */
function isDeadlock(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.cause?.code === 'ER_LOCK_DEADLOCK';
}

/** Stands in for a parameter of a `select` shape while knex builds it: text no caller passes (it leads with NUL). */
const PARAM = '\u0000sb-param:';

/** A SELECT built once (`Database.select`): run it with the values of its named parameters. */
export type PreparedSelect<P> = (params: P) => Promise<Array<Record<string, unknown>>>;

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

  /**
   * Runs `fn` in a transaction, reusing the outer one when already inside one. Driver errors come out normalised.
   *
   * InnoDB ends a deadlock by rolling back one of the two transactions, at random as far as a caller can tell:
   * two agents' concurrent changes, two API calls creating a first ticket for one address. The victim's whole
   * transaction is undone, so the outermost transaction runs `fn` again (up to DEADLOCK_ATTEMPTS times) rather
   * than show its user an error and lose what they typed. `fn` may therefore run more than once: everything it
   * does must be SQL on `trx` or harmless to repeat. A lock wait timeout is not retried: it already waited.
   */
  async transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const outer = this.als.getStore();
    for (let attempt = 1; ; attempt++) {
      try {
        return outer ? await fn(outer) : await this.knex.transaction((trx) => this.als.run(trx, () => fn(trx)));
      } catch (err) {
        if (outer || attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(err)) throw normaliseDbError(err);
        // A little apart, so the two do not meet at the same rows again at once.
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
      }
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
   * A SELECT whose SQL knex builds once, run with new values each time as raw SQL with the same placeholders:
   * for the statements every page or API call runs, where knex building and compiling the same text again cost
   * about half as much CPU as the driver's whole round trip (bench:web profile). `build` gets a stand-in for
   * each named parameter; it must pass them as plain values (where, join conditions, raw bindings), never in a
   * list (whereIn) or branch on them, which would change the SQL. The rows are the driver's, as the builder
   * returns them from a select.
   */
  select<P extends Record<string, unknown>>(build: (q: Knex, params: P) => Knex.QueryBuilder): PreparedSelect<P> {
    const stand = new Proxy({}, { get: (_t, name) => `${PARAM}${String(name)}` }) as P;
    const { sql, bindings } = build(this.knex, stand).toSQL();
    if (sql.includes(PARAM)) throw new Error('Database.select: a parameter was written into the SQL text instead of bound');
    const slots = bindings.map((b) => (typeof b === 'string' && b.startsWith(PARAM) ? b.slice(PARAM.length) : null));
    return async (params) => {
      const values = bindings.map((b, i) => (slots[i] === null ? b : params[slots[i]!])) as Knex.RawBinding[];
      const result = await this.run((q) => q.raw(sql, values));
      // mysql2 answers [rows, fields]; better-sqlite3 the rows.
      return (this.dialect === 'mysql' ? (result as [unknown])[0] : result) as Array<Record<string, unknown>>;
    };
  }

  /**
   * A one-row INSERT into `table` whose SQL knex builds once per set of columns and runs again as raw SQL with
   * the row's values; answers the new row's id. For the rows every message or API ticket writes (an entry, its
   * inbound row, a ticket), where knex compiling the same statement again was part of the per-message cost
   * (bench:mail profile). Values may be a `blob` (a raw fragment that binds its own value).
   */
  inserter<R extends Record<string, unknown>>(table: string): (row: R) => Promise<number> {
    const built = new Map<string, { sql: string; columns: string[] }>();
    const build = (columns: string[]) => {
      const { sql, bindings } = this.knex(table).insert(Object.fromEntries(columns.map((c) => [c, `${PARAM}${c}`]))).toSQL();
      return { sql, columns: bindings.map((b) => String(b).slice(PARAM.length)) };
    };
    return async (row) => {
      const key = Object.keys(row).join(',');
      let statement = built.get(key);
      if (!statement) built.set(key, (statement = build(Object.keys(row))));
      const result = await this.run((q) => q.raw(statement.sql, statement.columns.map((c) => row[c]) as Knex.RawBinding[]));
      // mysql2 answers [ResultSetHeader, fields]; better-sqlite3 { changes, lastInsertRowid }.
      return Number(this.dialect === 'mysql' ? (result as [{ insertId: number }])[0].insertId : (result as { lastInsertRowid: number | bigint }).lastInsertRowid);
    };
  }

  /**
   * Inserts the rows, leaving as it is any row whose unique `key` is stored already. MySQL gets an ON DUPLICATE
   * KEY UPDATE that changes nothing, not INSERT IGNORE, which would also turn real errors (a value too long) into
   * warnings; SQLite gets DO NOTHING, where an update would write the stored row again.
   */
  async insertOrKeep(table: string, rows: Array<Record<string, unknown>>, key: string): Promise<void> {
    await this.run((q) => {
      const insert = q(table).insert(rows).onConflict(key);
      return this.dialect === 'mysql' ? insert.merge([key]) : insert.ignore();
    });
  }

  /**
   * A value for a BLOB column. mysql2 writes a Buffer into the SQL text as hex, twice its size (bench:mail: the
   * raw messages were 60% of the bytes sent to MariaDB). Valid UTF-8, which mail nearly always is, goes as a
   * `_binary` string literal instead, whose bytes the server stores unchanged. SQLite binds the Buffer as it is.
   */
  blob(data: Buffer): Buffer | Knex.Raw {
    return this.dialect === 'mysql' && isUtf8(data) ? this.q.raw('_binary ?', [data.toString('utf8')]) : data;
  }

  /**
   * SQL for a scalar subquery: the rows of `table` (aliased `a`) matching `where`, ordered by `orderBy`, as a
   * JSON array of objects keyed by `columns`; read it back with `jsonRows`. Lets a list of children come with
   * each parent row in one query. MariaDB orders inside the aggregate; SQLite aggregates in the order its
   * subquery yields. Arguments are SQL written by repositories, never input.
   */
  jsonArray(table: string, columns: readonly string[], where: string, orderBy: string): string {
    const object = `JSON_OBJECT(${columns.map((c) => `'${c}', a.${c}`).join(', ')})`;
    return this.dialect === 'mysql'
      ? `(SELECT JSON_ARRAYAGG(${object} ORDER BY ${orderBy}) FROM ${table} AS a WHERE ${where})`
      : `(SELECT json_group_array(${object}) FROM (SELECT * FROM ${table} AS a WHERE ${where} ORDER BY ${orderBy}) AS a)`;
  }

  /** The rows in a value of a `jsonArray` column (NULL on MariaDB when there are none). */
  jsonRows(value: unknown): Array<Record<string, unknown>> {
    if (value === null || value === undefined) return [];
    return (typeof value === 'string' ? JSON.parse(value) : value) as Array<Record<string, unknown>>;
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

type Mysql2Callback = (err: (Error & { code?: string }) | null, ...rest: unknown[]) => void;
interface Mysql2Connection {
  query(opts: { sql: string; timeout?: number }, values?: unknown, cb?: Mysql2Callback): unknown;
  destroy(): void;
}

/**
 * Gives every statement on this connection a time limit. A server that hangs instead of refusing (paused,
 * swapping, a stalled network) otherwise keeps a query, and with it an SMTP sender, waiting forever: no error
 * ever comes for the listener to answer 451. mysql2 reports the timeout but leaves the connection waiting for
 * the lost reply, so the connection is destroyed too, and the pool (validateConnection) drops it.
 */
function boundQueries(conn: Mysql2Connection, timeoutMs: number): void {
  const query = conn.query.bind(conn);
  conn.query = (opts, values, cb) => {
    if (typeof cb !== 'function' || typeof opts !== 'object') return query(opts, values, cb);
    return query({ timeout: timeoutMs, ...opts }, values, (err, ...rest) => {
      if (err?.code === 'PROTOCOL_SEQUENCE_TIMEOUT') conn.destroy();
      cb(err, ...rest);
    });
  };
}

export interface DatabaseOptions {
  poolMax?: number;
  log?: DbLog;
  /**
   * Longest wait for a connection, a statement (MySQL) or a busy SQLite writer. Unset: knex's and the drivers'
   * defaults, with no statement limit (migrations, whose DDL may take long on big tables).
   */
  timeoutMs?: number;
}

/** One knex per dialect with its per-connection setup (DESIGN.md §9 "setup"). */
export function createDatabase(url: string, opts: DatabaseOptions = {}): Database {
  const dialect = dialectOf(url);
  const log = opts.log ? knexLog(opts.log) : {};
  const timeoutMs = opts.timeoutMs;
  if (dialect === 'mysql') {
    // A row lock given up before the statement's own limit, so the server, not a destroyed connection, ends the wait.
    const lockWait = timeoutMs ? `, innodb_lock_wait_timeout = ${Math.max(1, Math.floor(timeoutMs / 2000))}` : '';
    const knex = knexFactory({
      client: 'mysql2',
      connection: {
        uri: url,
        charset: 'utf8mb4',
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        connectTimeout: Math.min(timeoutMs ?? 5000, 5000),
      } as Knex.MySql2ConnectionConfig,
      pool: {
        min: 0,
        max: opts.poolMax ?? 10,
        afterCreate(conn: Mysql2Connection, done: (err: Error | null, c: unknown) => void) {
          if (timeoutMs) boundQueries(conn, timeoutMs);
          conn.query({ sql: `SET time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci${lockWait}` }, undefined, (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: timeoutMs ?? 5000,
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
          // A writer in another process holding the lock: SQLITE_BUSY after this long (retried by mail intake).
          conn.pragma(`busy_timeout = ${Math.min(timeoutMs ?? 5000, 5000)}`);
          conn.pragma('synchronous = NORMAL');
          cacheStatements(conn);
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
    acquireConnectionTimeout: timeoutMs ?? 10000,
    ...log,
  });
  return new Database(knex, dialect);
}
