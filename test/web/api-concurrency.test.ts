import t from 'tap';
import { createTestContext } from '../helpers/context.js';
import { createTestApp } from '../helpers/http.js';

// Issue 7 item 15: requests that bring the same new requester address at once. Each one's transaction inserts
// the user; all but the first hit the unique key on the address and must go on with the winner's user.
const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const { key } = await services.apiKeys.create({ name: 'CRM' });

const countUsers = async (address: string) =>
  Number((await services.db.q('user_emails').where('address', address).count({ n: '*' }).first())?.n ?? 0);

t.test('concurrent API creates with one new address: all 201, one user, every ticket on it', async (t) => {
  const address = 'race.new@example.com';
  const n = 12;
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      app.inject({
        method: 'POST',
        url: '/api/tickets.json',
        headers: { 'x-api-key': key },
        payload: { name: `Racer ${i}`, email: address, subject: `Race ${i}`, message: `Message ${i}` },
      }),
    ),
  );
  t.same(results.map((r) => r.statusCode), Array(n).fill(201), 'every request created its ticket');
  t.equal(await countUsers(address), 1, 'one user for the address');
  const user = await services.users.findByEmail(address);
  t.ok(user);
  const owners = await services.db.q('tickets').whereIn('number', results.map((r) => r.json().number as string)).distinct('user_id');
  t.same(owners.map((o) => Number(o.user_id)), [user!.id], 'all tickets belong to that user');
  t.equal(Number((await services.db.q('users').count({ n: '*' }).first())?.n), await services.db.q('user_emails').count({ n: '*' }).first().then((r) => Number(r?.n)), 'no orphan user rows');
});

t.test('concurrent creates from different sources (API, staff phone, mail intake) with one new address', async (t) => {
  const address = 'race.mixed@example.com';
  const raw = (i: number) =>
    Buffer.from(`From: Mixed <${address}>\r\nTo: support@helpdesk.test\r\nSubject: Mail ${i}\r\nMessage-ID: <mixed-${i}@example.com>\r\n\r\nBody ${i}\r\n`);
  const jobs: Array<Promise<unknown>> = [];
  for (let i = 0; i < 4; i++) {
    jobs.push(app.inject({ method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': key }, payload: { name: 'Mixed', email: address, subject: `API ${i}`, message: 'x' } }).then((r) => t.equal(r.statusCode, 201)));
    jobs.push(services.tickets.create(null, { name: 'Mixed', email: address, subject: `Phone ${i}`, message: 'x', source: 'phone' }));
    jobs.push(services.intake.deliver(raw(i), { mailbox: null, envelopeFrom: address, source: 'pipe', remoteAddress: null }).then((o) => t.equal(o.status, 'ticket')));
  }
  await Promise.all(jobs);
  t.equal(await countUsers(address), 1, 'one user for the address');
});
