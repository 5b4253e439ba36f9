import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Many argon2 sign-ins and a fresh database per test: more than the default on a loaded machine or MariaDB.
t.setTimeout(600_000);

const LOGIN = { maxFailures: 5, windowMinutes: 15, accountDelayAfter: 10, maxDelaySeconds: 30 };

async function from(app: FastifyInstance, ip: string): Promise<Browser> {
  const b = new Browser(app);
  b.remoteAddress = ip;
  await b.get('/scp/login');
  return b;
}

t.test('the username and e-mail address of one account share one count', async (t) => {
  const ctx = await createTestContext(t, { login: LOGIN });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = await from(app, '10.0.0.1');
  for (let i = 0; i < 3; i++) t.equal((await b.post('/scp/login', { login: agent.username, password: 'wrong password' })).statusCode, 401);
  for (let i = 0; i < 2; i++) t.equal((await b.post('/scp/login', { login: `${agent.username}@staff.test`, password: 'wrong password' })).statusCode, 401);
  const blocked = await b.post('/scp/login', { login: `${agent.username.toUpperCase()}@STAFF.TEST`, password: agent.password });
  t.equal(blocked.statusCode, 429, 'five failures under two names block the pair');
  t.match(blocked.body, /from your address/);
});

t.test('a stranger failing from elsewhere does not lock the agent out of their own address', async (t) => {
  const ctx = await createTestContext(t, { login: LOGIN });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const stranger = await from(app, '203.0.113.9');
  for (let i = 0; i < 8; i++) await stranger.post('/scp/login', { login: agent.username, password: 'guess' });
  t.equal((await stranger.post('/scp/login', { login: agent.username, password: agent.password })).statusCode, 429, 'the stranger’s pair is blocked');
  const office = await from(app, '192.0.2.10');
  t.equal((await office.post('/scp/login', { login: agent.username, password: agent.password })).statusCode, 302, 'the agent signs in from their address');
});

t.test('failures on one account from many addresses delay further attempts, saying how long, without a lock-out', async (t) => {
  const ctx = await createTestContext(t, { login: LOGIN });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  for (let i = 1; i <= 10; i++) {
    const b = await from(app, `198.51.100.${i}`);
    t.equal((await b.post('/scp/login', { login: agent.username, password: 'guess' })).statusCode, 401);
  }
  const office = await from(app, '192.0.2.10');
  const delayed = await office.post('/scp/login', { login: agent.username, password: agent.password });
  t.equal(delayed.statusCode, 429, 'held back for a moment');
  t.match(delayed.body, /Try again in \d+ s/);
  ctx.clock.advance(1000 * LOGIN.maxDelaySeconds);
  t.equal((await office.post('/scp/login', { login: agent.username, password: agent.password })).statusCode, 302, 'in after the delay, long before the window ends');
});

t.test('unknown usernames are limited per address, and the limit says nothing about which names exist', async (t) => {
  const ctx = await createTestContext(t, { login: LOGIN });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const prober = await from(app, '203.0.113.50');
  for (let i = 0; i < 5; i++) t.equal((await prober.post('/scp/login', { login: `nobody${i}`, password: 'x' })).statusCode, 401);
  const unknown = await prober.post('/scp/login', { login: 'nobody9', password: 'x' });
  const known = await prober.post('/scp/login', { login: agent.username, password: 'x' });
  t.equal(unknown.statusCode, 429);
  t.equal(known.statusCode, 429, 'a known name gets the same answer');
  t.match(unknown.body, /from your address/);
  const other = await from(app, '192.0.2.10');
  t.equal((await other.post('/scp/login', { login: 'nobody9', password: 'x' })).statusCode, 401, 'other addresses unaffected');
  t.equal((await other.post('/scp/login', { login: agent.username, password: agent.password })).statusCode, 302);
});

t.test('the counts live in the database: a second node sees them', async (t) => {
  const ctx = await createTestContext(t, { login: LOGIN });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = await from(app, '10.0.0.7');
  for (let i = 0; i < 5; i++) await b.post('/scp/login', { login: agent.username, password: 'wrong password' });
  // Another node: its own services over the same database.
  const { createServices } = await import('../../src/services.js');
  const { buildApp } = await import('../../src/app.js');
  const node2 = await buildApp(createServices({ db: ctx.services.db, clock: ctx.clock, config: ctx.config, log: ctx.services.log, secrets: ctx.services.secrets }));
  t.teardown(() => node2.close());
  const b2 = await from(node2, '10.0.0.7');
  t.equal((await b2.post('/scp/login', { login: `${agent.username}@staff.test`, password: agent.password })).statusCode, 429);
});
