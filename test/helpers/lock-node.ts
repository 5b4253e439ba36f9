/**
 * A second Switchboard process for the multi-process lock test: its own pool and services on the database
 * named by LOCK_NODE_DB, driven by one JSON command per line on stdin, answering one JSON line each.
 */
import { createInterface } from 'node:readline';
import { createDatabase } from '../../src/db/database.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { systemClock } from '../../src/db/time.js';
import { AppError } from '../../src/errors.js';

const url = process.env.LOCK_NODE_DB!;
const db = createDatabase(url);
const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent', publicUrl: 'http://helpdesk.test', mailDomain: 'helpdesk.test' });
const services = createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });

interface Command {
  op: 'ping' | 'acquire' | 'respond';
  staffId?: number;
  number?: string;
  message?: string;
}

async function run(cmd: Command): Promise<Record<string, unknown>> {
  if (cmd.op === 'ping') return { ok: true };
  const actor = (await services.staff.principal(cmd.staffId!))!;
  try {
    if (cmd.op === 'acquire') {
      const s = await services.locks.acquire(actor, cmd.number!);
      return { mine: s.mine, holderId: s.lock?.staffId ?? null };
    }
    return { entryId: await services.tickets.respond(actor, cmd.number!, cmd.message!) };
  } catch (err) {
    if (err instanceof AppError) return { error: err.code, ...err.details };
    throw err;
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as Command))}\n`);
}
await db.close();
