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
  newTicket: { work: 6, total: 8 },
  reply: { work: 4, total: 6 },
  /** Beside the message's own: the bytes (new or already stored alike) and the links, whatever the number of files. */
  files: 2,
  /** The user and address inserts, inside a savepoint (SAVEPOINT, RELEASE) so a lost race leaves the transaction usable. */
  newSender: 4,
};

/** A message with two files: one with bytes no message sent before (`fresh`), and one always the same. */
function withFiles(from: string, subject: string, messageId: string, fresh: string): Buffer {
  const b = 'sb-budget-boundary';
  const part = (name: string, content: string) => [`--${b}`, `Content-Type: application/octet-stream; name="${name}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${name}"`, '', Buffer.from(content).toString('base64')];
  const lines = [
    `From: ${from}`, `To: ${TO[0]}`, `Subject: ${subject}`, `Message-ID: <${messageId}>`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${b}"`, '',
    `--${b}`, 'Content-Type: text/plain; charset=utf-8', '', 'The logs are attached.',
    ...part('fresh.log', fresh), ...part('logo.png', 'the same bytes every time'), `--${b}--`, '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

const TO = ['support@helpdesk.test'];

t.test('mail intake stays within its statement budget', async (t) => {
  const clock = new FrozenClock();
  // Room for every message here to have its auto-reply: one past the budget costs a read more.
  const { services } = await createTestContext(t, { mail: { autoRepliesPerHour: 20 } }, clock);
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

  // Files cost the same two statements whether their bytes are new or stored already, and are stored once.
  const blobs = async () => Number((await services.db.knex('attachment_blobs').count({ n: '*' }).first())!.n);
  for (const [i, fresh] of ['first log', 'second log'].entries()) {
    const withTwo = await countQueries(services.db, async () => {
      const r = await send(port, withFiles('Ann <ann@example.com>', `Logs ${i}`, `logs-${i}@example.com`, fresh), { from: 'ann@example.com', to: TO });
      t.equal(r.code, 250, `logs ${i}: accepted`);
    });
    t.equal(withTwo.count, created.count + BUDGET.files, `a new ticket with two files (${i ? 'one' : 'none'} of them stored before): ${BUDGET.files} statements more`, { sql: withTwo.sql });
  }
  t.equal(await blobs(), 3, 'three distinct files stored, the repeated one once');
  const linked = await services.db.knex('attachments as a').join('attachment_blobs as b', 'b.sha256', 'a.sha256').orderBy('a.id').select('a.filename', 'b.data');
  t.same(linked.map((r) => [r.filename, Buffer.from(r.data).toString()]), [['fresh.log', 'first log'], ['logo.png', 'the same bytes every time'], ['fresh.log', 'second log'], ['logo.png', 'the same bytes every time']], 'each file links to its own bytes');

  // A new sender costs their user row and their address, and nothing around them (no savepoint).
  const stranger = await deliver('Bea <bea@example.com>', 'Hello', 'bea-1@example.com');
  t.equal(stranger.count, created.count + BUDGET.newSender, `a new sender: ${BUDGET.newSender} statements more`, { sql: stranger.sql });
});
