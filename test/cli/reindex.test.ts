import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { systemClock } from '../../src/db/time.js';
import type { StaffPrincipal } from '../../src/staff/staff.js';
import { freshDatabase } from '../helpers/db.js';
import { emptySearchIndex } from '../helpers/search.js';
import { lines, run } from '../helpers/spawn.js';

const manage = (args: string[], env: Record<string, string>) => run('scripts/manage.ts', args, env);

t.test('manage reindex rebuilds the search index in batches, resumes, and starts over with --restart', async (t) => {
  const { db, url, drop } = await freshDatabase();
  t.teardown(drop);
  const env = { DATABASE_URL: url };
  const config = loadConfig({}, { databaseUrl: url, logLevel: 'silent' });
  const services = createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });
  await services.setup.ensureDefaults();
  for (const word of ['apricot', 'blueberry', 'cranberry']) await services.tickets.create(null, { name: 'R', email: `${word}@example.com`, subject: word, message: 'text', source: 'web' });
  await emptySearchIndex(db);
  const admin: StaffPrincipal = { kind: 'staff', staffId: 0, name: 'CLI', isAdmin: true, timezone: 'UTC', language: null, departmentIds: [], managedDepartmentIds: [] };
  const found = async (word: string) => (await services.search.search(admin, { words: word, filters: {}, limit: 5 })).rows.length;

  const first = await manage(['reindex', '--batch', '2'], env);
  t.equal(first.code, 0, first.stderr);
  t.match(lines(first.stdout), [/^Indexed 2 ticket\(s\), up to id 2; 1 to go/, /^Indexed 3 ticket\(s\), up to id 3; 0 to go/, /^Done: 3 ticket\(s\) indexed/], 'progress per batch');
  t.equal(await found('cranberry'), 1);
  t.match((await manage(['reindex'], env)).stdout, /Nothing to do/, 'a finished run has nothing to resume');
  await emptySearchIndex(db);
  t.equal((await manage(['reindex', '--restart'], env)).code, 0);
  t.equal(await found('apricot'), 1, '--restart rebuilds from the first ticket');
});
