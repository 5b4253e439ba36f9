/**
 * Child process for test/mail/crash.test.ts: a listener on DATABASE_URL whose intake stops dead in the
 * middle of its transaction (ticket and entry written, nothing committed) and says so on stdout, so the
 * test can SIGKILL it there.
 */
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { SmtpListener } from '../../src/mail/inbound/listener.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';

const config = loadConfig({}, { databaseUrl: process.env.DATABASE_URL, logLevel: 'silent', mailDomain: 'helpdesk.test', publicUrl: 'http://helpdesk.test' });
const db = createDatabase(config.databaseUrl);
const log = createLogger('silent');
const services = createServices({ db, clock: systemClock, config, log, secrets: await loadSecrets(new SettingsRepository(db)) });
const create = services.tickets.create.bind(services.tickets);
services.tickets.create = async (...args) => {
  await create(...args);
  process.stdout.write('MIDWAY\n');
  return new Promise<never>(() => undefined);
};
const listener = new SmtpListener(services.intake, services.mailboxes, services.bans, log, { ...config.smtp, host: '127.0.0.1', port: 0 });
process.stdout.write(`PORT ${await listener.listen()}\n`);
