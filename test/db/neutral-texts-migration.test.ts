import t from 'tap';
import { migrations } from '../../migrations/index.js';
import { databaseBefore } from '../helpers/db.js';

const NEUTRAL = '20261130_0025_neutral_system_texts';

// Rows written by mail intake before it stored language-neutral forms, next to look-alikes it did not write.
t.test('migration 0025 turns the English texts intake stored into neutral forms, and only those', async (t) => {
  const db = await databaseBefore(t, NEUTRAL);
  const k = db.knex;
  const at = '2026-11-29 10:00:00.000';
  const [departmentId] = await k('departments').insert({ name: 'Support', signature: '', created_at: at });
  const [userId] = await k('users').insert({ name: 'Ann', created_at: at });
  const ticket = async (number: string, subject: string, source: string) =>
    Number((await k('tickets').insert({ number, subject, user_id: userId, department_id: departmentId, status: 'open', is_answered: false, priority: 2, source, created_at: at, updated_at: at, access_epoch: 0 }))[0]);
  const mailed = await ticket('100001', '(no subject)', 'email');
  const typed = await ticket('100002', '(no subject)', 'web');
  const entry = async (e: { type?: string; author?: string; body: string; source?: string; ticketId?: number }) =>
    Number((await k('thread_entries').insert({ ticket_id: e.ticketId ?? mailed, type: e.type ?? 'message', author_name: e.author ?? 'Ann', body_text: e.body, source: e.source ?? 'email', created_at: at, from_non_participant: false }))[0]);
  const shortened = '\n\n[The message was shortened here; the original is kept in full.]';
  const ids = {
    files: await entry({ body: '(no text; see the attachments)' }),
    empty: await entry({ body: '(empty message)' }),
    long: await entry({ body: `Start of a long text${shortened}` }),
    bounce: await entry({ type: 'note', author: 'Mail delivery system', body: 'A message about this ticket could not be delivered.\n\n550 5.1.1 User unknown' }),
    typedEmpty: await entry({ body: '(empty message)', source: 'web', ticketId: typed }),
    quoted: await entry({ body: `Someone wrote ${shortened} in the middle of it.` }),
  };

  const up = migrations.find(([name]) => name === NEUTRAL)![1];
  await up.up(k);
  const subjects = await k('tickets').orderBy('id').pluck('subject');
  t.same(subjects, ['', '(no subject)'], 'the subject intake made up is empty; one a person typed in the portal stays');
  const rows = new Map<number, Record<string, unknown>>((await k('thread_entries').select('id', 'author_name', 'body_text', 'system_kind', 'body_truncated')).map((r: Record<string, unknown>) => [Number(r.id), r]));
  const row = (id: number) => rows.get(id)!;
  t.equal(row(ids.files).body_text, '', 'a mail with only files: empty text');
  t.equal(row(ids.empty).body_text, '', 'an empty mail: empty text');
  t.same([row(ids.long).body_text, Boolean(row(ids.long).body_truncated)], ['Start of a long text', true], 'the marker becomes a flag');
  t.same([row(ids.bounce).author_name, row(ids.bounce).body_text, row(ids.bounce).system_kind], ['', '550 5.1.1 User unknown', 'bounce'], 'a bounce: its kind, and the report alone');
  t.equal(row(ids.typedEmpty).body_text, '(empty message)', 'what a person typed on the web stays');
  t.same([row(ids.quoted).body_text, Boolean(row(ids.quoted).body_truncated)], [`Someone wrote ${shortened} in the middle of it.`, false], 'the marker only where it ends the text');
  t.same([row(ids.files).system_kind, Boolean(row(ids.files).body_truncated)], [null, false], 'other entries get neither mark');

  await up.up(k);
  const again = new Map<number, Record<string, unknown>>((await k('thread_entries').select('id', 'author_name', 'body_text', 'system_kind', 'body_truncated')).map((r: Record<string, unknown>) => [Number(r.id), r]));
  t.same([...again.values()].map((r) => ({ ...r, body_truncated: Boolean(r.body_truncated) })), [...rows.values()].map((r) => ({ ...r, body_truncated: Boolean(r.body_truncated) })), 'running it again changes nothing');
});
