/**
 * A Switchboard node for the multi-process cache test (test/mail/directory-nodes.test.ts): its own services
 * and SMTP listener on the database named by INTAKE_NODE_DB. Prints {"port":N} once listening, then answers
 * one JSON line for each command line on stdin: administrator changes made through this node's services.
 */
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { createLogger } from '../../src/logger.js';
import { SmtpListener } from '../../src/mail/inbound/listener.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';

const url = process.env.INTAKE_NODE_DB!;
const db = createDatabase(url);
const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent', publicUrl: 'http://helpdesk.test', mailDomain: 'helpdesk.test' });
const log = createLogger('silent');
const services = createServices({ db, clock: systemClock, config, log, secrets: await loadSecrets(new SettingsRepository(db)) });
const listener = new SmtpListener(services.intake, services.mailboxes, services.bans, log, { ...config.smtp, host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: await listener.listen() })}\n`);

interface Command {
  op: 'ban' | 'deleteMailbox' | 'leaveDepartments';
  adminId: number;
  pattern?: string;
  localPart?: string;
  staffId?: number;
}

async function run(cmd: Command): Promise<Record<string, unknown>> {
  const admin = (await services.staff.principal(cmd.adminId))!;
  if (cmd.op === 'ban') await services.bans.add(admin, { pattern: cmd.pattern!, note: '' });
  else if (cmd.op === 'deleteMailbox') {
    const mailbox = (await services.mailboxes.list()).find((m) => m.localPart === cmd.localPart)!;
    await services.mailboxes.delete(admin, mailbox.id);
  } else {
    const s = await services.staff.get(cmd.staffId!);
    await services.staff.update(admin, s.id, { ...s, isActive: true, departments: [] });
  }
  // Committed when this line is written: the test's clock for the invalidation delay starts here.
  return { ok: true };
}

for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as Command))}\n`);
}
await listener.close();
await db.close();
