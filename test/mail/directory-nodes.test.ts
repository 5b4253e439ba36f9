import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { message, send } from '../helpers/smtp.js';
import { jsonLineChild } from '../helpers/spawn.js';

/** One Switchboard node in a process of its own (test/helpers/intake-node.ts), with its SMTP port. */
async function node(t: Test, dbUrl: string): Promise<{ port: number; ask(cmd: Record<string, unknown>): Promise<void> }> {
  const child = jsonLineChild(t, 'test/helpers/intake-node.ts', { INTAKE_NODE_DB: dbUrl });
  const { port } = (await child.next()) as { port: number };
  return {
    port,
    async ask(cmd) {
      t.same(await child.ask(cmd), { ok: true }, `node did ${String(cmd.op)}`);
    },
  };
}

const mail = (from: string, to: string, n: string) => message({ from, to, subject: `Hello ${n}`, body: 'Hi', messageId: `${n}@example.com` });

t.test('an administrator’s change on one node holds on another within the invalidation delay', async (t) => {
  const { services, dbUrl } = await createTestContext(t);
  const admin = await createAgent(services, { admin: true });
  const member = await createAgent(services, { departments: ['Support'] });
  const [a, b] = [await node(t, dbUrl), await node(t, dbUrl)];
  await services.mailboxes.create(admin.principal, { localPart: 'sales', departmentId: member.principal.departmentIds[0]!, topicId: null, defaultPriority: 2, autoResponse: false });

  // Node B has read the directory since these were created: the sender may write, both mailboxes exist, and
  // the member is alerted of new tickets. Node B's copy is at most one interval old from here on.
  await sleep(DIRECTORY_REFRESH_MS);
  t.equal((await send(b.port, mail('spam@spam.example', 'support@helpdesk.test', 'b1'), { from: 'spam@spam.example', to: ['support@helpdesk.test'] })).code, 250);
  t.equal((await send(b.port, mail('ann@example.com', 'sales@helpdesk.test', 'b2'), { from: 'ann@example.com', to: ['sales@helpdesk.test'] })).code, 250);
  const alerted = async (messageId: string) => {
    const row = await services.db.knex('inbound_messages').where({ message_id: messageId }).first('ticket_id');
    return (await services.outbox.forTicket(Number(row.ticket_id))).some((m) => m.kind === 'alert_new_ticket' && m.to[0] === `${member.username}@staff.test`);
  };
  t.ok(await alerted('b1@example.com'), 'the member is alerted');

  await a.ask({ op: 'ban', adminId: admin.principal.staffId, pattern: 'spam.example' });
  await a.ask({ op: 'deleteMailbox', adminId: admin.principal.staffId, localPart: 'sales' });
  await a.ask({ op: 'leaveDepartments', adminId: admin.principal.staffId, staffId: member.principal.staffId });
  // The delay, counted from the commits (a timer may fire a millisecond early).
  await sleep(DIRECTORY_REFRESH_MS + 20);

  const banned = await send(b.port, mail('spam@spam.example', 'support@helpdesk.test', 'b3'), { from: 'spam@spam.example', to: ['support@helpdesk.test'] });
  t.same([banned.ok, banned.code], [false, 550], 'node B refuses the sender banned on node A');
  const gone = await send(b.port, mail('ann@example.com', 'sales@helpdesk.test', 'b4'), { from: 'ann@example.com', to: ['sales@helpdesk.test'] });
  t.same([gone.ok, gone.code], [false, 550], 'node B refuses the mailbox deleted on node A');
  t.equal((await send(b.port, mail('ann@example.com', 'support@helpdesk.test', 'b5'), { from: 'ann@example.com', to: ['support@helpdesk.test'] })).code, 250);
  t.notOk(await alerted('b5@example.com'), 'node B no longer alerts the agent removed from the department on node A');
});
