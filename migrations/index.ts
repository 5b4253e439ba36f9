import type { Knex } from 'knex';
import * as core from './20261122_0001_core.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
  config?: { transaction?: boolean };
}

/** Every migration, in order. Forward-only: never edit one that has landed; add a new one at the end. */
export const migrations: Array<[name: string, migration: Migration]> = [['20261122_0001_core', core]];
