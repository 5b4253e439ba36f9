import t from 'tap';
import { spawn } from 'node:child_process';
import { createTestContext } from '../helpers/context.js';
import { message, send, startListener, waitFor } from '../helpers/smtp.js';
import { childEnv, nodeArgs, ROOT } from '../helpers/spawn.js';

t.test('killed mid-transaction: nothing half-written remains, and the sender’s retry succeeds', async (t) => {
  const { services, dbUrl } = await createTestContext(t);
  const child = spawn(process.execPath, nodeArgs('test/helpers/crash-intake-child.ts'), { cwd: ROOT, env: childEnv({ DATABASE_URL: dbUrl }), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise((r) => child.on('exit', r));

  const port = Number(await waitFor(() => /PORT (\d+)/.exec(stdout)?.[1], 60_000));
  const raw = message({ from: 'Kim <kim@example.com>', subject: 'Interrupted', body: 'Will this survive?', messageId: 'crash-1@example.com' });
  const attempt = send(port, raw, { from: 'kim@example.com', to: ['support@helpdesk.test'] });
  await waitFor(() => stdout.includes('MIDWAY'), 30_000);
  child.kill('SIGKILL');
  await exited;
  const failed = await attempt;
  t.notOk(failed.ok, 'the sender got no 250');

  const count = async (table: string) => Number((await services.db.knex(table).count({ n: '*' }).first())!.n);
  for (const table of ['inbound_messages', 'tickets', 'thread_entries', 'attachments', 'outbox', 'users']) {
    t.equal(await count(table), 0, `${table}: nothing half-written`);
  }

  const { port: restarted } = await startListener(t, services);
  const retry = await send(restarted, raw, { from: 'kim@example.com', to: ['support@helpdesk.test'] });
  t.same([retry.ok, retry.code], [true, 250], 'the retry succeeds');
  t.equal(await count('tickets'), 1);
  t.equal(await count('inbound_messages'), 1);
});
