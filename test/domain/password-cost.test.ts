import t from 'tap';
import argon2 from 'argon2';
import { loadConfig, ConfigError } from '../../src/config.js';
import { createDatabase } from '../../src/db/database.js';
import { DirectoryVersion } from '../../src/directory/directory-version.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { StaffRepository } from '../../src/staff/staff-repository.js';
import { TEST_PASSWORD_COST, createAgent, createTestContext } from '../helpers/context.js';

const RAISED = { ...TEST_PASSWORD_COST, timeCost: TEST_PASSWORD_COST.timeCost + 1 };

t.test('a hash made at an older cost is replaced at the next sign-in, and the password still works', async (t) => {
  const ctx = await createTestContext(t);
  const agent = await createAgent(ctx.services);
  const repo = new StaffRepository(ctx.services.db, ctx.clock, new DirectoryVersion(ctx.services.db, ctx.clock));
  const before = (await repo.getWithPasswordHash(agent.principal.staffId))!.passwordHash;
  t.match(before, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/, 'made at the configured cost');

  // A second node of the same site after the administrator raised the cost.
  const db = createDatabase(ctx.dbUrl);
  t.teardown(() => db.close());
  const config = loadConfig({}, { databaseUrl: ctx.dbUrl, logLevel: 'silent', passwordHashing: RAISED });
  const raised = createServices({ db, clock: ctx.clock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });

  await raised.staff.authenticate(agent.username, agent.password, '192.0.2.1');
  const after = (await repo.getWithPasswordHash(agent.principal.staffId))!.passwordHash;
  t.match(after, /^\$argon2id\$v=19\$m=19456,p=1,t=3\$/, 'rehashed at the new cost');
  t.ok(await argon2.verify(after, agent.password), 'the new hash is of the same password');

  await raised.staff.authenticate(agent.username, agent.password, '192.0.2.1');
  t.equal((await repo.getWithPasswordHash(agent.principal.staffId))!.passwordHash, after, 'a current hash is left alone');
  await t.rejects(raised.staff.authenticate(agent.username, 'wrong password', '192.0.2.1'), { code: 'LOGIN_FAILED' });
  t.equal((await repo.getWithPasswordHash(agent.principal.staffId))!.passwordHash, after, 'a failed sign-in changes nothing');
});

t.test('a cost below OWASP’s floor is refused with the key named', async (t) => {
  t.throws(() => loadConfig({}, { passwordHashing: { memoryKiB: 4096, timeCost: 2, parallelism: 1 } }), { constructor: ConfigError, message: /passwordHashing\.memoryKiB/ });
  t.throws(() => loadConfig({}, { passwordHashing: { memoryKiB: 19_456, timeCost: 1, parallelism: 1 } }), { constructor: ConfigError, message: /passwordHashing\.timeCost/ });
});
