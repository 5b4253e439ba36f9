import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { message } from '../helpers/smtp.js';

/**
 * A ticket that no help topic, mailbox or agent places goes to the default department: the one setup made
 * ("Support"), or whichever the administrator picks on the Settings page. Never simply the first by name.
 */
async function desk() {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const support = await ctx.services.departments.ensure('Support');
  // Sorts before "Support": the department a ticket used to fall into.
  const accounts = await ctx.services.departments.ensure('Accounts');
  const admin = await createAgent(ctx.services, { admin: true });
  const b = new Browser(app);
  t.equal((await b.staffLogin(admin.username, admin.password)).statusCode, 302);
  const deptOf = async (number: string) => (await ctx.services.tickets.findByNumber(number))!.departmentName;
  return { ctx, app, b, support, accounts, admin, deptOf };
}
// One desk for the whole file (a fresh one per test is slow on MariaDB); the Settings test, which changes the
// default, comes last.
const shared = await desk();

t.test('setup stores the department it created as the default', async (t) => {
  const { ctx, support } = shared;
  t.equal(support.name, 'Support');
  t.equal(await ctx.services.settings.get('tickets.default_department'), String(support.id));
});

t.test('a site set up in Estonian gets its first department and help topic named in Estonian: the portal shows them', async (t) => {
  const ctx = await createTestContext(t, { i18n: { defaultLanguage: 'et', pseudoLocale: false } });
  t.same((await ctx.services.departments.list()).map((d) => d.name), ['Klienditugi']);
  t.same((await ctx.services.topics.list()).map((h) => h.name), ['Üldine päring']);
  await ctx.services.setup.ensureDefaults();
  t.equal((await ctx.services.topics.list()).length, 1, 'a second start adds nothing');
});

t.test('portal: a ticket without a help topic goes to the default department', async (t) => {
  const { app, deptOf } = shared;
  const c = new Browser(app);
  await c.get('/tickets/new');
  const res = await c.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', topicId: '', subject: 'No topic', message: 'Hello' });
  t.equal(res.statusCode, 302);
  const number = /\/tickets\/(\d+)\/created/.exec(String(res.headers.location))![1]!;
  t.equal(await deptOf(number), 'Support');
});

t.test('API: a ticket without a help topic goes to the default department', async (t) => {
  const { ctx, app, deptOf } = shared;
  const { key } = await ctx.services.apiKeys.create({ name: 'CRM' });
  const res = await app.inject({ method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': key }, payload: { name: 'Bo', email: 'bo@example.com', subject: 'From the CRM', message: 'Hi' } });
  t.equal(res.statusCode, 201);
  t.equal(await deptOf(res.json().number as string), 'Support');
});

t.test('phone: the staff form without topic or department uses the default; an agent outside it gets their own', async (t) => {
  const { ctx, app, b, deptOf } = shared;
  await b.get('/scp/tickets/new');
  const res = await b.post('/scp/tickets/new', { email: 'cy@example.com', name: 'Cy', subject: 'Phoned in', message: 'Call me', topicId: '', departmentId: '', priority: '2', source: 'phone' });
  t.equal(res.statusCode, 302);
  t.equal(await deptOf(/\/scp\/tickets\/(\d+)/.exec(String(res.headers.location))![1]!), 'Support');

  const clerk = await createAgent(ctx.services, { departments: ['Billing'] });
  const c = new Browser(app);
  await c.staffLogin(clerk.username, clerk.password);
  await c.get('/scp/tickets/new');
  const own = await c.post('/scp/tickets/new', { email: 'di@example.com', name: 'Di', subject: 'Phoned in', message: 'Call me', topicId: '', departmentId: '', priority: '2', source: 'phone' });
  t.equal(own.statusCode, 302);
  t.equal(await deptOf(/\/scp\/tickets\/(\d+)/.exec(String(own.headers.location))![1]!), 'Billing', 'where the agent can see it');
});

// Mail always has a mailbox, which names its department; this guards that a new department sorting first
// does not pull mail away from the mailbox setup made for the default department.
t.test('mail: the default mailbox keeps mail in the default department', async (t) => {
  const { ctx, app, deptOf } = shared;
  await ctx.services.setup.ensureDefaults();
  const { key } = await ctx.services.apiKeys.create({ name: 'mta' });
  const raw = message({ from: 'eve@example.com', subject: 'By mail', body: 'hello', messageId: 'dd-1@example.com' });
  const res = await app.inject({ method: 'POST', url: '/api/tickets.email', payload: raw, headers: { 'content-type': 'message/rfc822', 'x-api-key': key } });
  t.equal(res.statusCode, 201);
  t.equal(await deptOf(res.json().number as string), 'Support');
});

t.test('Settings page: the administrator changes the default department, audited', async (t) => {
  const { ctx, app, b, accounts, deptOf } = shared;
  const sales = await ctx.services.departments.ensure('Sales');
  const page = await b.get('/scp/admin/settings');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<title>Settings ·/);
  t.match(page.body, /<option value="\d+" selected>Support<\/option>/, 'the current default is selected');
  t.equal((await b.post('/scp/admin/settings', { defaultDepartmentId: 'x' })).statusCode, 400, 'a bad value is refused');
  const saved = await b.post('/scp/admin/settings', { defaultDepartmentId: String(sales.id) });
  t.equal(saved.statusCode, 302);
  t.match((await b.get('/scp/admin/settings')).body, new RegExp(`<option value="${sales.id}" selected>Sales</option>`));
  const audit = await ctx.services.db.q('audit_log').where({ action: 'settings.default_department' }).first();
  t.ok(audit, 'audited');

  const c = new Browser(app);
  await c.get('/tickets/new');
  const res = await c.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', topicId: '', subject: 'No topic', message: 'Hello' });
  t.equal(await deptOf(/\/tickets\/(\d+)\/created/.exec(String(res.headers.location))![1]!), 'Sales');
  t.not(accounts.id, sales.id);
});
