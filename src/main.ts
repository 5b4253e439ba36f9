import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDatabase, type Database } from './db/database.js';
import { migrateLatest } from './db/migrate.js';
import { systemClock } from './db/time.js';
import { createLogger } from './logger.js';
import { createServices } from './services.js';
import { loadSecrets } from './settings/secrets.js';
import { SettingsRepository } from './settings/settings-repository.js';

/** The database URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(mysql:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

function fail(message: string): never {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(1);
}

/** Connects and migrates, or stops start-up with one line that says what is wrong. */
async function openDatabase(config: Config): Promise<Database> {
  const db = createDatabase(config.databaseUrl);
  try {
    await db.ping();
  } catch (err) {
    await db.close().catch(() => undefined);
    fail(`cannot connect to the database at ${redactUrl(config.databaseUrl)}: ${(err as Error).message}`);
  }
  try {
    await migrateLatest(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    fail(`database migration failed: ${(err as Error).message}`);
  }
  return db;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const log = createLogger(config.logLevel);
  const db = await openDatabase(config);
  const secrets = await loadSecrets(new SettingsRepository(db));
  const services = createServices({ db, clock: systemClock, config, log, secrets });
  await services.setup.ensureDefaults();

  const app = await buildApp(services);
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await db.close();
    fail(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Stop accepting, let in-flight requests finish, then close the pool.
    await app.close();
    await db.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const lines = [
    '',
    `  Switchboard is running at ${config.publicUrl}/ (listening on ${config.http.host}:${config.http.port})`,
    `  Staff panel: ${config.publicUrl}/scp/    Database: ${redactUrl(config.databaseUrl)}`,
  ];
  const token = await services.setup.issueToken();
  if (token) {
    lines.push(
      '',
      '  No staff account exists yet. Create the first administrator here (one-time link, valid 24 hours):',
      `    ${config.publicUrl}/scp/setup?token=${token}`,
      '  or from a shell: npm run manage -- create-staff --username admin --email you@example.com --password ... --admin',
    );
  } else {
    lines.push(`  Sign in at ${config.publicUrl}/scp/login with your staff account.`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((err) => {
  process.stderr.write(`switchboard: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
