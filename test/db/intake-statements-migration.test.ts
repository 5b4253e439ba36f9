import t from 'tap';
import { messageIdHash } from '../../src/mail/message-id.js';
import { migrations } from '../../migrations/index.js';
import { databaseBefore } from '../helpers/db.js';

const FOLD = '20261129_0017_intake_statements';

// The fold of thread_message_ids into thread_entries must survive what older versions could store: the same
// Message-ID on two entries (a message delivered to two mailboxes at once) and two rows for one entry.
t.test('migration 0017 moves each stored Message-ID onto its entry, the latest entry keeping a duplicate', async (t) => {
  const db = await databaseBefore(t, FOLD);
  const k = db.knex;
  const at = '2026-11-29 10:00:00.000';
  const [departmentId] = await k('departments').insert({ name: 'Support', signature: '', created_at: at });
  const [userId] = await k('users').insert({ name: 'Ann', created_at: at });
  const [ticketId] = await k('tickets').insert({
    number: '100001', subject: 'Printer', user_id: userId, department_id: departmentId, status: 'open', is_answered: false,
    priority: 2, source: 'email', created_at: at, updated_at: at, access_epoch: 0,
  });
  const entry = async () => Number((await k('thread_entries').insert({ ticket_id: ticketId, type: 'message', author_name: 'Ann', body_text: 'x', source: 'email', created_at: at, from_non_participant: false }))[0]);
  const [first, second, third] = [await entry(), await entry(), await entry()];
  const row = (entryId: number, id: string) => ({ ticket_id: ticketId, entry_id: entryId, message_id: id, message_id_hash: messageIdHash(id), created_at: at });
  await k('thread_message_ids').insert([row(first, 'a@example.com'), row(second, 'a@example.com'), row(second, 'b@example.com'), row(third, 'c@example.com'), row(third, 'd@example.com')]);

  const fold = migrations.find(([name]) => name === FOLD)![1];
  await fold.up(k);
  const entries = await k('thread_entries').orderBy('id').select('id', 'message_id', 'message_id_hash');
  t.same(
    entries.map((e: Record<string, unknown>) => [Number(e.id), e.message_id, e.message_id_hash]),
    [
      [first, null, null],
      [second, 'a@example.com', messageIdHash('a@example.com')],
      [third, 'c@example.com', messageIdHash('c@example.com')],
    ],
    'one Message-ID per entry; a duplicate stays with the latest entry, where threading found it',
  );
  t.notOk(await k.schema.hasTable('thread_message_ids'), 'the old table is gone');
  await t.rejects(k('thread_entries').where({ id: first }).update({ message_id_hash: messageIdHash('a@example.com') }), 'a Message-ID can be on one entry only');
  await fold.up(k);
  t.pass('running it again (after an interruption) does nothing');
});
