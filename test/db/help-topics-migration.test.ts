import t from 'tap';
import { migrations } from '../../migrations/index.js';
import { databaseBefore } from '../helpers/db.js';

const HELP_TOPICS = '20261130_0031_help_topics';

// Topics stored before migration 0031 stay at the top level, keep their order and get the key that makes names
// unique among siblings, in place of the unique index on the name alone.
t.test('migration 0031 keys existing help topics and lets siblings of different parents share a name', async (t) => {
  const db = await databaseBefore(t, HELP_TOPICS);
  const k = db.knex;
  const [deptId] = await k('departments').insert({ name: 'Support', name_key: 'support', signature: '', created_at: '2026-11-29 10:00:00.000' });
  await k('help_topics').insert({ name: 'Ørsted Hardware', department_id: deptId, default_priority: 3, is_public: true, is_active: true });
  await k('help_topics').insert({ name: 'Software', department_id: deptId, default_priority: 2, is_public: false, is_active: true });

  await migrations.find(([name]) => name === HELP_TOPICS)![1].up(k);
  const rows = await k('help_topics').orderBy('id').select('name_key', 'parent_id', 'position', 'auto_response', 'assign_staff_id');
  t.same(rows.map((r) => [r.name_key, r.parent_id, Number(r.position), Boolean(r.auto_response), r.assign_staff_id]), [
    ['0/ørsted hardware', null, 0, true, null],
    ['0/software', null, 0, true, null],
  ]);
  const [hw, sw] = (await k('help_topics').orderBy('id').pluck('id')) as number[];
  await k('help_topics').insert({ name: 'Other', name_key: `${hw}/other`, parent_id: hw, department_id: deptId });
  await k('help_topics').insert({ name: 'Other', name_key: `${sw}/other`, parent_id: sw, department_id: deptId });
  await t.rejects(k('help_topics').insert({ name: 'OTHER', name_key: `${sw}/other`, parent_id: sw, department_id: deptId }), 'the key refuses a sibling of the same name');
  await migrations.find(([name]) => name === HELP_TOPICS)![1].up(k);
  t.pass('running it again changes nothing');
});
