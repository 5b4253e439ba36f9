import type { FastifyInstance, InjectOptions } from 'fastify';
import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Issue 7 item 11: confirmations on demand. One auto-reply budget per recipient address for every source,
// and a cap on portal tickets per client address, both counted in the database.
const ctx = await createTestContext(t, { mail: { autoRepliesPerHour: 2 }, portal: { ticketsPerHourPerAddress: 2 } });
const app = await createTestApp(t, ctx);
const { services, clock } = ctx;
const { key } = await services.apiKeys.create({ name: 'CRM' });

/** A browser whose requests come from `ip`. */
const browserFrom = (ip: string) =>
  new Browser({ inject: (opts: InjectOptions) => app.inject({ ...opts, remoteAddress: ip }) } as unknown as FastifyInstance);

const confirmationsTo = async (address: string) =>
  (await services.db.q('outbox').where({ kind: 'ticket_created' }).select('to_addresses')).filter((r) => (JSON.parse(r.to_addresses as string) as string[]).includes(address)).length;
const ticketCount = async () => Number((await services.db.q('tickets').count({ n: '*' }).first())?.n ?? 0);

t.test('confirmations to one address share one budget across API, portal, phone and mail', async (t) => {
  const victim = 'victim@example.com';
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': key }, payload: { name: 'X', email: victim, subject: `API ${i}`, message: 'Buy now at http://spam.example' } });
    t.equal(res.statusCode, 201, 'the ticket itself is still created');
  }
  t.equal(await confirmationsTo(victim), 2, 'the API sent only the budget');

  const b = browserFrom('192.0.2.10');
  await b.get('/tickets/new');
  const portal = await b.post('/tickets/new', { name: 'X', email: victim, subject: 'Portal', message: 'Hi' });
  t.equal(portal.statusCode, 302, 'the portal ticket is created');
  const agent = await createAgent(services);
  await services.tickets.create(agent.principal, { name: 'X', email: victim, subject: 'Phone', message: 'Hi', source: 'phone' });
  const raw = Buffer.from(`From: X <${victim}>\r\nTo: support@helpdesk.test\r\nSubject: Mail\r\nMessage-ID: <budget-1@example.com>\r\n\r\nHi\r\n`);
  t.equal((await services.intake.deliver(raw, { mailbox: null, envelopeFrom: victim, source: 'pipe', remoteAddress: null })).status, 'ticket');
  t.equal(await confirmationsTo(victim), 2, 'portal, phone and mail drew on the same exhausted budget');
  t.equal(await confirmationsTo('VICTIM@example.com'.toLowerCase()), 2, 'case does not open a second budget');

  clock.advance(3600_000 + 1000);
  await app.inject({ method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': key }, payload: { name: 'X', email: victim, subject: 'Later', message: 'Hi' } });
  t.equal(await confirmationsTo(victim), 3, 'an hour later the budget is back');
});

t.test('the portal limits new tickets per client address: 429, the form again with the text kept', async (t) => {
  const b = browserFrom('198.51.100.7');
  await b.get('/tickets/new');
  for (let i = 0; i < 2; i++) {
    const ok = await b.post('/tickets/new', { name: 'Flood', email: `flood${i}@example.com`, subject: `Flood ${i}`, message: 'Hello' });
    t.equal(ok.statusCode, 302);
    await b.get('/tickets/new');
  }
  const before = await ticketCount();
  const refused = await b.post('/tickets/new', { name: 'Flood', email: 'flood9@example.com', subject: 'One too many', message: 'My kept text' });
  t.equal(refused.statusCode, 429);
  t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After given');
  t.match(refused.body, /Too many tickets/);
  t.match(refused.body, /My kept text/, 'message kept');
  t.match(refused.body, /value="One too many"/, 'subject kept');
  t.match(refused.body, /value="flood9@example.com"/, 'address kept');
  t.equal(await ticketCount(), before, 'nothing created');

  const other = browserFrom('198.51.100.8');
  await other.get('/tickets/new');
  t.equal((await other.post('/tickets/new', { name: 'Other', email: 'other@example.com', subject: 'Fine', message: 'Hello' })).statusCode, 302, 'another address is not affected');

  // A second node (its own services and pool on the same database) sees the same count.
  const db2 = createDatabase(ctx.dbUrl);
  t.teardown(() => db2.close());
  const services2 = createServices({ db: db2, clock, config: ctx.config, log: services.log, secrets: await loadSecrets(new SettingsRepository(db2)) });
  const second = await createTestApp(t, { ...ctx, services: services2 });
  const b2 = new Browser({ inject: (opts: InjectOptions) => second.inject({ ...opts, remoteAddress: '198.51.100.7' }) } as unknown as FastifyInstance);
  await b2.get('/tickets/new');
  t.equal((await b2.post('/tickets/new', { name: 'Flood', email: 'flood10@example.com', subject: 'Elsewhere', message: 'x' })).statusCode, 429, 'held across nodes');

  clock.advance(3600_000 + 1000);
  await b.get('/tickets/new');
  t.equal((await b.post('/tickets/new', { name: 'Flood', email: 'flood11@example.com', subject: 'Later', message: 'x' })).statusCode, 302, 'allowed again after the window');
});
