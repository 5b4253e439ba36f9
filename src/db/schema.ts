import type { Knex } from 'knex';

/**
 * Column helpers for migrations where the two dialects differ. knex's `binary()` is a 64 KiB BLOB on MySQL
 * and `text()` a 64 KiB TEXT; attachments and mail bodies need the long variants.
 */
export function isMysql(knex: Knex): boolean {
  return knex.client.config.client === 'mysql2';
}

export function longBlob(knex: Knex, t: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return isMysql(knex) ? t.specificType(name, 'LONGBLOB') : t.binary(name);
}

export function longText(t: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return t.text(name, 'longtext');
}

export function timestamp(t: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return t.datetime(name, { precision: 3 });
}

/** MySQL tables: InnoDB, utf8mb4 so emoji and all of Unicode survive a round trip. */
export function tableOptions(knex: Knex, t: Knex.CreateTableBuilder): void {
  if (isMysql(knex)) {
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_unicode_ci');
  }
}

/** Idempotent create: DDL migrations run without a transaction (MySQL commits DDL implicitly). */
export async function createTable(
  knex: Knex,
  name: string,
  build: (t: Knex.CreateTableBuilder) => void,
): Promise<void> {
  if (await knex.schema.hasTable(name)) return;
  await knex.schema.createTable(name, (t) => {
    tableOptions(knex, t);
    build(t);
  });
}

/** Idempotent CREATE [UNIQUE] INDEX: SQLite has IF NOT EXISTS, MySQL needs a look at information_schema first. */
export async function addIndex(knex: Knex, table: string, name: string, columns: string[], opts: { unique?: boolean } = {}): Promise<void> {
  if (isMysql(knex)) {
    const [rows] = (await knex.raw('SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ? LIMIT 1', [table, name])) as [unknown[]];
    if (rows.length) return;
    await knex.schema.alterTable(table, (t) => (opts.unique ? t.unique(columns, { indexName: name }) : t.index(columns, name)));
    return;
  }
  await knex.raw(`CREATE ${opts.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ?? ON ?? (${columns.map(() => '??').join(', ')})`, [name, table, ...columns]);
}
