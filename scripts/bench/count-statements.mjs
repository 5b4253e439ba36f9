// Loaded into the server under test by the benchmarks (`node --import <this file> …`), never by the product:
// counts the SQL statements the server sends to its database driver, so that a benchmark can report statements
// per request on any checkout's code, including one from before this counter existed (a counter inside
// src/db/database.ts would not be there in the "before" checkout, and would sit on the production path).
//
// It wraps the drivers' own entry points, so it counts what knex (or anything else) really runs:
//   better-sqlite3: Statement#run/get/all/iterate and Database#exec (knex prepares, then runs or reads);
//   mysql2: Connection#query/execute (knex sends every statement, BEGIN and COMMIT included, through query).
// The drivers are resolved from the server's checkout (SB_BENCH_SERVER_ROOT), so the wrapped module is the one
// the server loads. Plain JavaScript: a compiled server (dist/main.js) runs without tsx.
//
// The count leaves the process on SIGUSR2: it is written, with the number of requests so far, to
// $SB_BENCH_STATEMENTS_DIR/<pid> as "<request number> <count>". The file exists from start-up on, so the
// benchmark signals only processes that carry this counter (every node:cluster worker inherits it).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dir = process.env.SB_BENCH_STATEMENTS_DIR;
const root = process.env.SB_BENCH_SERVER_ROOT ?? process.cwd();

if (dir) {
  let count = 0;
  let asked = 0;
  const require = createRequire(join(root, 'package.json'));
  const wrap = (proto, names) => {
    for (const name of names) {
      const original = proto[name];
      if (typeof original !== 'function') continue;
      proto[name] = function counted(...args) {
        count++;
        return original.apply(this, args);
      };
    }
  };
  try {
    const Sqlite = require('better-sqlite3');
    const probe = new Sqlite(':memory:');
    wrap(Object.getPrototypeOf(probe.prepare('select 1')), ['run', 'get', 'all', 'iterate']);
    probe.close();
    wrap(Sqlite.prototype, ['exec']);
  } catch {
    // not installed in that checkout: nothing of it to count
  }
  try {
    const mysql = require('mysql2');
    // query and execute live on the base class that Connection (and PoolConnection) extend.
    let proto = mysql.Connection.prototype;
    while (proto && !Object.prototype.hasOwnProperty.call(proto, 'query')) proto = Object.getPrototypeOf(proto);
    if (proto) wrap(proto, ['query', 'execute']);
  } catch {
    // not installed
  }
  const file = join(dir, String(process.pid));
  const report = () => writeFileSync(file, `${asked} ${count}`);
  report();
  process.on('SIGUSR2', () => {
    asked++;
    report();
  });
}
