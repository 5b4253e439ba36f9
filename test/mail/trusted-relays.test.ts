import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestContext } from '../helpers/context.js';
import { message, rawSession, startListener, waitFor } from '../helpers/smtp.js';

type Session = Awaited<ReturnType<typeof rawSession>>;

const RELAY = '127.0.0.1';
const STRANGER = '127.0.0.2';

/** One whole mail transaction on an open session; the reply to the end of DATA. */
async function deliver(s: Session, n: number): Promise<string> {
  await s.say('EHLO relay.example');
  await s.say('MAIL FROM:<sender@example.com>');
  await s.say('RCPT TO:<support@helpdesk.test>');
  await s.say('DATA');
  const raw = message({ from: `user${n}@example.com`, subject: `relayed ${n}`, body: 'hello', messageId: `relayed-${n}@example.com` });
  return s.say(`${raw.toString('latin1').replace(/\r\n\./g, '\r\n..')}\r\n.`);
}

t.test('a trusted relay is served past the per-address cap; another address is refused with 421 and a reason', async (t) => {
  const { services } = await createTestContext(t, { smtp: { maxConnectionsPerClient: 3, trustedRelays: ['127.0.0.1/32', '::1'] } });
  const { port } = await startListener(t, services);

  const relayed = await Promise.all(Array.from({ length: 6 }, () => rawSession(port, RELAY)));
  t.teardown(() => relayed.forEach((s) => s.close()));
  t.same(relayed.map((s) => s.greeting.slice(0, 3)), Array(6).fill('220'), 'twice the cap of concurrent connections greeted');
  const replies = await Promise.all(relayed.map((s, i) => deliver(s, i)));
  t.same(replies.map((r) => r.slice(0, 3)), Array(6).fill('250'), 'every one delivered');
  await waitFor(async () => Number((await services.db.knex('tickets').count({ n: '*' }).first())!.n) === 6);

  const strangers = await Promise.all(Array.from({ length: 4 }, () => rawSession(port, STRANGER)));
  t.teardown(() => strangers.forEach((s) => s.close()));
  t.same(strangers.slice(0, 3).map((s) => s.greeting.slice(0, 3)), ['220', '220', '220'], 'up to the cap');
  t.match(strangers[3]!.greeting, /^421 4\.7\.0 Too many connections/, 'one past the cap: 421 with the reason');
});

t.test('the default cap lets a stock Postfix open its 20 connections to one destination', async (t) => {
  const { services } = await createTestContext(t);
  t.same(services.config.smtp.trustedRelays, [], 'no relay trusted by default');
  const { port } = await startListener(t, services);
  const sessions = await Promise.all(Array.from({ length: 20 }, () => rawSession(port, STRANGER)));
  t.teardown(() => sessions.forEach((s) => s.close()));
  t.same(sessions.map((s) => s.greeting.slice(0, 3)), Array(20).fill('220'));
});

t.test('SMTP_TRUSTED_RELAYS takes a comma-separated list; a bad entry stops start-up naming the key', async (t) => {
  t.same(loadConfig({ SMTP_TRUSTED_RELAYS: ' 10.0.0.5, 192.168.0.0/16 ,2001:db8::/32' }).smtp.trustedRelays, ['10.0.0.5', '192.168.0.0/16', '2001:db8::/32']);
  for (const bad of ['relay.example.com', '10.0.0.0/33', '10.0.0.1/8/2', '::1/129']) {
    t.throws(() => loadConfig({ SMTP_TRUSTED_RELAYS: bad }), { constructor: ConfigError, message: /smtp\.trustedRelays \(SMTP_TRUSTED_RELAYS\)/ }, bad);
  }
});
