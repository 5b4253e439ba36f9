import type { Knex } from 'knex';
import type { Database } from './database.js';

/** The smallest string after every string that starts with `prefix`, by code point (SQLite's binary order). */
function successor(prefix: string): string {
  const points = Array.from(prefix);
  const last = points.pop()!.codePointAt(0)! + 1;
  // Past the high surrogates: a lone surrogate is not a string either engine stores.
  return points.join('') + String.fromCodePoint(last === 0xd800 ? 0xe000 : last);
}

/**
 * `column` starts with `prefix` (both already case-folded), as an index range on either engine. SQLite
 * compares bytes, so [prefix, successor) is the range; its LIKE would fold ASCII and skip the index. MySQL
 * compares by collation, where é sorts with e and such a range can be empty, and LIKE 'x%' is its own range
 * scan.
 */
export function wherePrefix(db: Database, query: Knex.QueryBuilder, column: string, prefix: string): Knex.QueryBuilder {
  if (db.dialect === 'mysql') return query.where(column, 'like', `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  return query.where(column, '>=', prefix).where(column, '<', successor(prefix));
}
