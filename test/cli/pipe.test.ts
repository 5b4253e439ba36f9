import t from 'tap';
import { spawn } from 'node:child_process';
import { createTestContext } from '../helpers/context.js';
import { childEnv, collect, nodeArgs, ROOT } from '../helpers/spawn.js';
import { message } from '../helpers/smtp.js';

function pipe(raw: Buffer, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs('scripts/manage.ts'), 'pipe', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(raw);
  return collect(child);
}

t.test('manage pipe: one message from stdin through the same intake; 75 when the database is down', async (t) => {
  const { services, dbUrl } = await createTestContext(t);
  const raw = message({ from: 'Piper <piper@example.com>', to: 'support@helpdesk.test', subject: 'Piped in', body: 'via the MTA', messageId: 'pipe-1@example.com' });
  const env = { DATABASE_URL: dbUrl, MAIL_DOMAIN: 'helpdesk.test', PUBLIC_URL: 'http://helpdesk.test' };
  const first = await pipe(raw, env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /^ticket #\d+/);
  const again = await pipe(raw, env);
  t.equal(again.code, 0);
  t.match(again.stdout, /^duplicate/);
  t.equal(Number((await services.db.knex('tickets').count({ n: '*' }).first())!.n), 1);
  const ticket = await services.db.knex('tickets').first('source', 'mailbox_id');
  t.equal(ticket.source, 'email');

  const down = await pipe(raw, { ...env, DATABASE_URL: 'mysql://root@127.0.0.1:1/nowhere' });
  t.equal(down.code, 75, 'EX_TEMPFAIL: the MTA keeps the message and retries');
  t.equal((await pipe(raw, env, ['--mailbox', 'nope'])).code, 67, 'EX_NOUSER for an unknown mailbox');
});
