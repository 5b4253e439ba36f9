import t from 'tap';
import { API_KEY_REFRESH_MS, ApiKeyService } from '../../src/api-keys/api-key-service.js';
import { FrozenClock, createTestContext } from '../helpers/context.js';
import { countQueries } from '../helpers/query-count.js';

/**
 * Each node keeps the API keys it has seen active for API_KEY_REFRESH_MS, so an integration's requests do not
 * read the key row each. Two services on one database stand for two nodes: a key deactivated on one is refused
 * there at once and on the other once its copy is that old, never later.
 */
t.test('a deactivated key is refused at once where it was changed and within the delay everywhere else', async (t) => {
  const clock = new FrozenClock();
  const ctx = await createTestContext(t, {}, clock);
  const { db } = ctx.services;
  const here = new ApiKeyService(db, clock);
  const there = new ApiKeyService(db, clock);
  const { key, apiKey } = await here.create({ name: 'CRM' });

  t.equal((await there.authenticate(key, '10.0.0.1')).keyId, apiKey.id);
  const again = await countQueries(db, async () => t.equal((await there.authenticate(key, '10.0.0.1')).keyId, apiKey.id));
  t.equal(again.count, 0, 'a key used a moment ago costs no statement');

  await here.setActive(apiKey.id, false);
  await t.rejects(here.authenticate(key, '10.0.0.1'), { code: 'API_KEY_INVALID' }, 'refused at once on the node that deactivated it');
  clock.advance(API_KEY_REFRESH_MS - 1);
  t.equal((await there.authenticate(key, '10.0.0.1')).keyId, apiKey.id, 'the other node still trusts its copy inside the delay');
  clock.advance(1);
  await t.rejects(there.authenticate(key, '10.0.0.1'), { code: 'API_KEY_INVALID' }, 'and refuses it once the delay has passed');

  await here.setActive(apiKey.id, true);
  t.equal((await there.authenticate(key, '10.0.0.1')).keyId, apiKey.id, 'a refused key is not remembered: re-activated, it works at once');
});

t.test('the kept copy still checks the address a key is bound to, and a wrong key is read every time', async (t) => {
  const clock = new FrozenClock();
  const ctx = await createTestContext(t, {}, clock);
  const { db } = ctx.services;
  const keys = new ApiKeyService(db, clock);
  const { key } = await keys.create({ name: 'Bound', allowedIp: '10.0.0.5' });
  await keys.authenticate(key, '::ffff:10.0.0.5');
  await t.rejects(keys.authenticate(key, '10.0.0.6'), { code: 'API_KEY_IP_FORBIDDEN' });
  for (let i = 0; i < 2; i++) {
    const wrong = await countQueries(db, () => t.rejects(keys.authenticate(`${key}x`, '10.0.0.5'), { code: 'API_KEY_INVALID' }));
    t.equal(wrong.count, 1, 'an unknown key is looked up, not remembered');
  }
});
