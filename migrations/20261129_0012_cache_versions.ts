import type { Knex } from 'knex';

/**
 * One counter per in-memory cache, raised in the same transaction as every change to what the cache holds,
 * so that each node notices another node's change by reading one small row (src/directory/directory-cache.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cache_versions', (t) => {
    t.string('name', 40).primary();
    t.bigInteger('version').notNullable().defaultTo(0);
  });
  await knex('cache_versions').insert({ name: 'directory', version: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cache_versions');
}
