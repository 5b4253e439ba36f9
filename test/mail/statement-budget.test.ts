import t from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { FrozenClock, createAgent, createTestContext } from '../helpers/context.js';
import { countQueries, isTransactionControl } from '../helpers/query-count.js';
import { message, send, startListener } from '../helpers/smtp.js';

/**
 * SQL statements per incoming message, over a whole SMTP conversation (MAIL FROM, RCPT TO, DATA), with an
 * agent in the department so that the alerts are written too. BEGIN and COMMIT are counted apart: knex sends
 * each as a statement of its own, and every one is a round trip.
 */
const BUDGET = {
  // Each includes the one INSERT of the search index's rows (search/search-index.ts).
  newTicket: { work: 7, total: 9 },
  reply: { work: 5, total: 7 },
};

const TO = ['support@helpdesk.test'];

t.test('mail intake stays within its statement budget', async (t) => {
  const clock = new FrozenClock();
  const { services } = await createTestContext(t, {}, clock);
  await createAgent(services, { departments: ['Support'] });
  const { port } = await startListener(t, services);
  const deliver = (from: string, subject: string, messageId: string, headers: Record<string, string> = {}) =>
    countQueries(services.db, async () => {
      const r = await send(port, message({ from, subject, body: 'The printer is on fire.', messageId, headers }), { from: from.replace(/^.*<|>$/g, ''), to: TO });
      t.equal(r.code, 250, `${subject}: accepted`);
    });

  // The sender is known (an earlier ticket), and the directory cache is warm and past this process's own changes.
  await deliver('Ann <ann@example.com>', 'First', 'first@example.com');
  clock.advance(DIRECTORY_REFRESH_MS * 2);
  await deliver('Ann <ann@example.com>', 'Warm-up', 'warm@example.com');

  const created = await deliver('Ann <ann@example.com>', 'Printer', 'printer@example.com');
  const ticketId = Number((await services.db.knex('inbound_messages').where({ message_id: 'printer@example.com' }).first('ticket_id')).ticket_id);
  const notice = (await services.outbox.forTicket(ticketId)).find((m) => m.kind === 'ticket_created')!;
  t.ok((await services.outbox.forTicket(ticketId)).some((m) => m.kind === 'alert_new_ticket'), 'the agent was alerted');
  const replied = await deliver('Ann <ann@example.com>', 'Re: Printer', 'printer-2@example.com', { 'In-Reply-To': `<${notice.messageId}>` });
  const replyAlerted = async () => (await services.outbox.forTicket(ticketId)).some((m) => m.kind === 'alert_new_message');
  t.notOk(await replyAlerted(), "the reply's alert is not written while the sender waits");
  await services.pendingAlerts.relay();
  t.ok(await replyAlerted(), 'the outbox job writes it after the 250');
  // Nothing reads for a duplicate first: the entry's unique Message-ID refuses it, and the 250 still comes.
  const entries = async () => Number((await services.db.knex('thread_entries').count({ n: '*' }).first())!.n);
  const before = await entries();
  await deliver('Ann <ann@example.com>', 'Re: Printer', 'printer-2@example.com', { 'In-Reply-To': `<${notice.messageId}>` });
  t.equal(await entries(), before, 'a reply delivered again adds no entry');

  for (const [name, counted, budget] of [['new ticket', created, BUDGET.newTicket], ['reply', replied, BUDGET.reply]] as const) {
    const work = counted.sql.filter((s) => !isTransactionControl(s));
    t.ok(work.length <= budget.work, `${name}: ${work.length} statements besides BEGIN/COMMIT, at most ${budget.work}`, { sql: work });
    t.ok(counted.count <= budget.total, `${name}: ${counted.count} statements in all, at most ${budget.total}`);
    t.notOk(counted.sql.some((s) => /from `(banned_senders|mailboxes|staff|staff_departments)`/.test(s)), `${name}: bans, mailboxes and agents come from the cache`);
  }

  // Once per interval, one message pays for the version check; nothing is reloaded when nothing changed.
  clock.advance(DIRECTORY_REFRESH_MS);
  const checked = await deliver('Ann <ann@example.com>', 'Later', 'later@example.com');
  t.equal(checked.sql.filter((s) => /cache_versions/.test(s)).length, 1, 'one version read after the interval');
  t.equal(checked.count, created.count + 1, 'and nothing else');
});
