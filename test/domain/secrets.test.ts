import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { freshDatabase } from '../helpers/db.js';

t.test('the mail accounts\' key comes from the configuration when set, else is generated once and kept', async (t) => {
  const { db, drop } = await freshDatabase();
  t.teardown(drop);
  const settings = new SettingsRepository(db);
  const generated = await loadSecrets(settings);
  t.equal(generated.credentialKey.length, 32);
  t.same((await loadSecrets(settings)).credentialKey, generated.credentialKey, 'the same on every start and node');
  const configured = Buffer.alloc(32, 9).toString('base64');
  const fromConfig = await loadSecrets(settings, loadConfig({ CREDENTIAL_KEY: configured }, { databaseUrl: 'sqlite::memory:' }));
  t.same(fromConfig.credentialKey, Buffer.alloc(32, 9), 'CREDENTIAL_KEY wins');
  t.same(fromConfig.csrfKey, generated.csrfKey, 'the other keys are unchanged');
  t.throws(() => loadConfig({ CREDENTIAL_KEY: 'too-short' }, {}), { constructor: ConfigError, message: /credentialKey/ }, 'a key that is not 32 bytes of base64 is refused, named');
});
