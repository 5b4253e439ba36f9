import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase, dialectOf, type Database } from './db/database.js';
import { migrateLatest } from './db/migrate.js';
import { systemClock } from './db/time.js';
import { createLogger, type Logger } from './logger.js';
import type { Services } from './services.js';
import { loadSecrets } from './settings/secrets.js';
import { SettingsRepository } from './settings/settings-repository.js';

/**
 * Start-up steps shared by the server (src/main.ts) and the management CLI (scripts/manage.ts), so both read
 * the configuration, reach the database and migrate it the same way.
 */

/** A start-up failure the operator can act on: its message is one line, printed without a stack. */
export class StartupError extends Error {}

/** The database URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

export function loadConfigOrFail(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.message);
    throw err;
  }
}

/** Connects and migrates (under knex's migration lock, so nodes starting together do not race). */
export async function openDatabase(config: Config, log?: Logger): Promise<{ db: Database; applied: string[] }> {
  let db: Database | undefined;
  try {
    // Creating a SQLite database's directory may fail here already (a read-only volume).
    db = createDatabase(config.databaseUrl, { ...(log ? { log } : {}), timeoutMs: config.databaseTimeoutSeconds * 1000 });
    await db.ping();
  } catch (err) {
    await db?.close().catch(() => undefined);
    const hint = dialectOf(config.databaseUrl) === 'sqlite' ? ' (the SQLite file\'s directory must be writable by this user: the database keeps its journal beside it)' : '';
    throw new StartupError(`cannot connect to the database at ${redactUrl(config.databaseUrl)}: ${oneLine(err)}${hint}`);
  }
  try {
    // On a pool of its own without the statement time limit: DDL on a big table may take minutes.
    const untimed = createDatabase(config.databaseUrl, log ? { log } : {});
    try {
      return { db, applied: await migrateLatest(untimed) };
    } finally {
      await untimed.close();
    }
  } catch (err) {
    await db.close().catch(() => undefined);
    throw new StartupError(`database migration failed: ${oneLine(err)}`);
  }
}

/** Secrets, services and the first-run defaults (a department and a help topic) on an open database. */
export async function startServices(config: Config, db: Database, log: Logger): Promise<Services> {
  const secrets = await loadSecrets(new SettingsRepository(db), config);
  // Loaded here, not at the top: the cluster primary opens the database through this module and serves nothing.
  const { createServices } = await import('./services.js');
  const services = createServices({ db, clock: systemClock, config, log, secrets });
  await services.setup.ensureDefaults();
  return services;
}

/** Everything up to the services: config, logger, migrated database. */
export async function bootstrap(opts: { logDestination?: NodeJS.WritableStream } = {}): Promise<Services> {
  const config = loadConfigOrFail();
  const log = createLogger(config.logLevel, opts.logDestination);
  const { db } = await openDatabase(config, log);
  try {
    return await startServices(config, db, log);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  return message.split('\n')[0]!.trim();
}
