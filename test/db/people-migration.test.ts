import t from 'tap';
import { migrations } from '../../migrations/index.js';
import { databaseBefore } from '../helpers/db.js';

const PEOPLE = '20261130_0027_people';

// Users and organizations stored before migration 0027 must be found by the directory's prefix search.
t.test('migration 0027 gives existing users and organizations their search keys and name words', async (t) => {
  const db = await databaseBefore(t, PEOPLE);
  const k = db.knex;
  const at = '2026-11-29 10:00:00.000';
  const [orgId] = await k('organizations').insert({ name: 'Ørsted A/S', created_at: at });
  const [ann] = await k('users').insert({ name: 'Ann-Marie Østergård Bowman', organization_id: orgId, created_at: at });
  const [bob] = await k('users').insert({ name: 'BOB', created_at: at });

  await migrations.find(([name]) => name === PEOPLE)![1].up(k);
  t.same((await k('users').orderBy('id').pluck('name_key')), ['ann-marie østergård bowman', 'bob']);
  t.same(await k('organizations').pluck('name_key'), ['ørsted a/s']);
  t.same((await k('user_name_words').where('user_id', ann).orderBy('word').pluck('word')), ['bowman', 'marie', 'østergård']);
  t.same(await k('user_name_words').where('user_id', bob).pluck('word'), [], 'a one-word name has no later words');
});
