import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;

t.test('sign-in tells the previous sign-in, or that it is the first', async (t) => {
  const agent = await createAgent(services, { name: 'Nora New' });
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const first = await b.get('/scp/tickets');
  t.match(first.body, 'Welcome, Nora New. This is your first sign-in.');
  t.notMatch(first.body, /never/i);

  const again = new Browser(app);
  await again.staffLogin(agent.username, agent.password);
  t.match((await again.get('/scp/tickets')).body, /Welcome back, Nora New\. Your previous sign-in was \d+ \w+ \d{4}, \d\d:\d\d/);
});

t.test('the administrator made at setup is not listed as never signed in', async (t) => {
  const c = await createTestContext(t);
  const a = await createTestApp(t, c);
  const token = (await c.services.setup.issueToken())!;
  const b = new Browser(a);
  await b.get(`/scp/setup?token=${token}`);
  t.equal((await b.post('/scp/setup', { token, name: 'Root', email: 'root@example.com', username: 'root', password: 'long enough password', password2: 'long enough password', timezone: 'UTC' })).statusCode, 302);
  const list = await b.get('/scp/admin/staff');
  t.equal(list.statusCode, 200);
  t.notMatch(list.body, '<span class="muted">never</span>', 'the signed-in administrator has signed in');
});

t.test('queue titles and empty states say what is true', async (t) => {
  const agent = await createAgent(services, { name: 'Quinn' });
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);

  const mine = await b.get('/scp/tickets?queue=mine');
  t.match(mine.body, '<title>My tickets ·');
  t.notMatch(mine.body, 'My tickets tickets');
  t.match((await b.get('/scp/tickets?queue=open')).body, '<title>Open tickets ·');

  const empty = await b.get('/scp/tickets');
  t.match(empty.body, 'No tickets yet.', 'an empty desk says so');
  t.match(empty.body, 'support@helpdesk.test', 'and how tickets arrive');
  t.match(empty.body, 'href="/scp/tickets/new"');
  t.notMatch(empty.body, 'Nice work', 'no praise for an empty desk');

  const { ticket } = await services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'Help', message: 'Please', source: 'web' });
  await services.tickets.respond(agent.principal, ticket.number, 'Done.');
  const answered = await b.get('/scp/tickets');
  t.match(answered.body, 'Every open ticket has been answered.');

  await services.tickets.setStatus(agent.principal, ticket.number, 'resolved');
  const resolved = await b.get('/scp/tickets');
  t.match(resolved.body, 'No open tickets.');
  t.notMatch(resolved.body, 'Nice work');

  const page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, /id="status-hint"><strong>Resolved<\/strong>: [^<]+<strong>Closed<\/strong>: /, 'what Resolved and Closed mean, by the status buttons');
});
