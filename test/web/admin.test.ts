import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError, signedInAdmin } from '../helpers/http.js';

t.test('a non-admin agent gets 403 on every admin page and changes nothing', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const other = await createAgent(ctx.services);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const pages = ['/scp/admin/', '/scp/admin/staff', '/scp/admin/staff/new', `/scp/admin/staff/${other.principal.staffId}`, '/scp/admin/departments', '/scp/admin/departments/new', '/scp/admin/departments/1', '/scp/admin/outbox', '/scp/admin/outbox?status=failed', '/scp/admin/api-keys', '/scp/admin/mailboxes', '/scp/admin/mailboxes/new', '/scp/admin/quarantine', '/scp/admin/bans'];
  for (const url of pages) t.equal((await b.get(url)).statusCode, 403, `GET ${url}`);

  await b.get('/scp/tickets');
  const before = (await ctx.services.staff.list()).length;
  t.equal((await b.post('/scp/admin/staff/new', { username: 'sneaky', name: 'Sneaky', email: 'sneaky@example.com', password: 'long enough password', isAdmin: '1' })).statusCode, 403);
  t.equal((await b.post(`/scp/admin/staff/${agent.principal.staffId}`, { name: 'Me', email: `${agent.username}@staff.test`, isAdmin: '1', isActive: '1' })).statusCode, 403, 'cannot make oneself admin');
  t.equal((await b.post('/scp/admin/departments/new', { name: 'Shadow' })).statusCode, 403);
  t.equal((await b.post('/scp/admin/api-keys', { name: 'mine' })).statusCode, 403);
  t.equal((await ctx.services.staff.list()).length, before, 'no staff created');
  t.notOk((await ctx.services.staff.principal(agent.principal.staffId))!.isAdmin);
  t.notOk((await ctx.services.departments.list()).some((d) => d.name === 'Shadow'));
  t.equal((await ctx.services.apiKeys.list()).length, 0);

  const page = await b.get('/scp/tickets');
  t.notMatch(page.body, 'href="/scp/admin/"', 'no admin link for agents');
});

t.test('staff directory, new staff, duplicate username and edit', async (t) => {
  const { ctx, b, admin } = await signedInAdmin(t);
  const sales = await ctx.services.departments.ensure('Sales');
  const support = await ctx.services.departments.ensure('Support');

  const dir = await b.get('/scp/admin/staff');
  t.equal(dir.statusCode, 200);
  t.match(dir.body, /<title>Staff directory ·/);
  t.match(dir.body, 'Ada Admin');
  t.match(dir.body, admin.username);

  const form = await b.get('/scp/admin/staff/new');
  t.equal(form.statusCode, 200);
  t.match(form.body, `name="dept" value="${sales.id}"`, 'departments as checkboxes');
  t.match(form.body, `name="manager" value="${sales.id}"`, 'with a manager flag');

  const created = await b.post('/scp/admin/staff/new', {
    username: 'grace', name: 'Grace Hopper', email: 'grace@example.com', password: 'a long password', timezone: 'Europe/Berlin',
    dept: [String(sales.id), String(support.id)], manager: [String(sales.id)],
  });
  t.equal(created.statusCode, 302);
  t.equal(created.headers.location, '/scp/admin/staff');
  const after = await b.get('/scp/admin/staff');
  t.match(after.body, /class="flash flash-success"[^>]*>Staff account &quot;grace&quot; created\./, 'flash after the action');
  t.match(after.body, 'Grace Hopper');
  t.match(after.body, 'Sales (manager), Support');
  t.match(after.body, /never/, 'no login yet');
  const grace = (await ctx.services.staff.list()).find((s) => s.username === 'grace')!;
  t.same(grace.departments.map((d) => [d.name, d.isManager]), [['Sales', true], ['Support', false]]);
  t.equal(grace.timezone, 'Europe/Berlin');
  t.notOk(grace.isAdmin);

  const dup = await b.post('/scp/admin/staff/new', { username: 'grace', name: 'Second Grace', email: 'other@example.com', password: 'a long password', dept: String(support.id) });
  t.equal(dup.statusCode, 400);
  t.match(fieldError(dup.body, 'username'), /already in use/, 'error next to the username field');
  t.match(dup.body, 'value="Second Grace"', 'name kept');
  t.match(dup.body, 'value="other@example.com"', 'e-mail kept');
  t.match(dup.body, 'value="grace"', 'username kept');
  t.match(dup.body, new RegExp(`name="dept" value="${support.id}"[^>]* checked`), 'department choice kept');
  t.notMatch(dup.body, 'a long password', 'password is never echoed');
  t.equal((await ctx.services.staff.list()).filter((s) => s.username === 'grace').length, 1);

  const bad = await b.post('/scp/admin/staff/new', { username: 'Not Valid!', name: '', email: 'nope', password: 'short' });
  t.equal(bad.statusCode, 400);
  for (const f of ['username', 'name', 'email', 'password']) t.ok(fieldError(bad.body, f), `error at ${f}`);

  const edit = await b.get(`/scp/admin/staff/${grace.id}`);
  t.equal(edit.statusCode, 200);
  t.match(edit.body, /<title>Edit Grace Hopper ·/);
  t.match(edit.body, new RegExp(`name="manager" value="${sales.id}"[^>]* checked`));
  const saved = await b.post(`/scp/admin/staff/${grace.id}`, { name: 'Grace B. Hopper', email: 'grace@example.com', password: '', timezone: 'UTC', isActive: '1', dept: String(support.id) });
  t.equal(saved.statusCode, 302);
  const g2 = await ctx.services.staff.get(grace.id);
  t.equal(g2.name, 'Grace B. Hopper');
  t.same(g2.departments.map((d) => d.name), ['Support']);
  t.equal((await ctx.services.staff.authenticate('grace', 'a long password', '10.0.0.1')).id, grace.id, 'empty password keeps the old one');

  const off = await b.post(`/scp/admin/staff/${grace.id}`, { name: 'Grace B. Hopper', email: 'grace@example.com', password: 'another long one', timezone: 'UTC' });
  t.equal(off.statusCode, 302, 'deactivated with a new password');
  t.notOk((await ctx.services.staff.get(grace.id)).isActive);
  t.match((await b.get('/scp/admin/staff')).body, 'Inactive');

  const self = await b.post(`/scp/admin/staff/${admin.principal.staffId}`, { name: 'Ada Admin', email: `${admin.username}@staff.test`, timezone: 'UTC', isActive: '1' });
  t.equal(self.statusCode, 400, 'an admin cannot remove their own admin rights');
  t.ok(fieldError(self.body, 'isAdmin'));
  t.ok((await ctx.services.staff.get(admin.principal.staffId)).isAdmin);

  t.equal((await b.get('/scp/admin/staff/999999')).statusCode, 404);
  t.equal((await b.get('/scp/admin/staff/abc')).statusCode, 404);
});

t.test('departments: list with counts, create, duplicate, edit', async (t) => {
  const { ctx, b } = await signedInAdmin(t);
  await createAgent(ctx.services, { departments: ['Support'] });
  await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'Help', message: 'Please', source: 'web', notifyRequester: false });

  const list = await b.get('/scp/admin/departments');
  t.equal(list.statusCode, 200);
  t.match(list.body, /<title>Departments ·/);
  const support = (await ctx.services.departments.listWithCounts()).find((d) => d.name === 'Support')!;
  t.ok(support.memberCount >= 1 && support.openTickets === 1);
  t.match(list.body, new RegExp(`Support</a>(?: <span class="badge[^"]*">\\w+</span>)*</td>\\s*<td class="num">${support.memberCount}</td>\\s*<td class="num"><a[^>]*>1</a>`));

  t.equal((await b.get('/scp/admin/departments/new')).statusCode, 200);
  const empty = await b.post('/scp/admin/departments/new', { name: '   ', signature: 'Kind regards' });
  t.equal(empty.statusCode, 400);
  t.ok(fieldError(empty.body, 'name'));
  t.match(empty.body, 'Kind regards', 'signature kept');
  t.equal((await b.post('/scp/admin/departments/new', { name: 'Billing', signature: '' })).statusCode, 302);
  t.match((await b.get('/scp/admin/departments')).body, /flash-success[^>]*>Department &quot;Billing&quot; created/);
  const dup = await b.post('/scp/admin/departments/new', { name: 'Billing', signature: 'x' });
  t.equal(dup.statusCode, 400);
  t.match(fieldError(dup.body, 'name'), /already exists/);

  const billing = (await ctx.services.departments.list()).find((d) => d.name === 'Billing')!;
  t.match((await b.get(`/scp/admin/departments/${billing.id}`)).body, /<title>Edit department Billing ·/);
  t.equal((await b.post(`/scp/admin/departments/${billing.id}`, { name: 'Accounts', signature: 'The accounts team' })).statusCode, 302);
  t.same(await ctx.services.departments.get(billing.id), { id: billing.id, name: 'Accounts', signature: 'The accounts team', archivedAt: null });
  const clash = await b.post(`/scp/admin/departments/${billing.id}`, { name: 'Support', signature: '' });
  t.equal(clash.statusCode, 400);
  t.ok(fieldError(clash.body, 'name'));
  t.equal((await b.get('/scp/admin/departments/999999')).statusCode, 404);
});

t.test('outbox page shows counts per status and the waiting mail', async (t) => {
  const { ctx, b } = await signedInAdmin(t);
  const empty = await b.get('/scp/admin/outbox?status=failed');
  t.equal(empty.statusCode, 200);
  t.match(empty.body, 'No failed mail.', 'empty state');
  for (const n of [1, 2]) {
    await ctx.services.outbox.enqueue({ ticketId: null, entryId: null, kind: 'test', to: [`user${n}@example.com`], subject: `Queued message ${n}`, bodyText: 'x', bodyHtml: null, headers: {} });
  }
  const counts = await ctx.services.outbox.counts();
  const page = await b.get('/scp/admin/outbox');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<title>Outgoing mail ·/);
  t.match(page.body, 'Queued message 1');
  t.match(page.body, 'user2@example.com');
  t.match(page.body, new RegExp(`Pending <span class="count">${counts.pending}</span>`));
  t.match(page.body, /Failed <span class="count">0<\/span>/);
  t.notMatch((await b.get('/scp/admin/outbox?status=sent')).body, 'Queued message 1', 'pending mail is not listed as sent');
});

t.test('API keys: shown once on creation, deactivated with confirmation', async (t) => {
  const { ctx, b } = await signedInAdmin(t);
  const empty = await b.get('/scp/admin/api-keys');
  t.match(empty.body, 'No API keys yet.');

  const bad = await b.post('/scp/admin/api-keys', { name: 'Shop', ip: 'not-an-ip' });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'ip'));
  t.match(bad.body, 'value="Shop"', 'name kept');

  const created = await b.post('/scp/admin/api-keys', { name: 'Shop', ip: '10.1.2.3' });
  t.equal(created.statusCode, 201);
  t.equal(created.headers['cache-control'], 'no-store');
  const key = /value="(sb_[A-Za-z0-9_-]+)"/.exec(created.body)?.[1];
  t.ok(key, 'the key is on the page');
  const principal = await ctx.services.apiKeys.authenticate(key!, '10.1.2.3');
  t.equal(principal.name, 'Shop');

  const list = await b.get('/scp/admin/api-keys');
  t.notMatch(list.body, key!, 'never shown again');
  t.match(list.body, '10.1.2.3');
  t.match(list.body, /data-confirm="Deactivate the API key/);

  const id = (await ctx.services.apiKeys.list())[0]!.id;
  t.equal((await b.post(`/scp/admin/api-keys/${id}/deactivate`, {})).statusCode, 302);
  t.match((await b.get('/scp/admin/api-keys')).body, /flash-success[^>]*>API key &quot;Shop&quot; deactivated/);
  await t.rejects(ctx.services.apiKeys.authenticate(key!, '10.1.2.3'), { code: 'API_KEY_INVALID' });
  t.equal((await b.post(`/scp/admin/api-keys/${id}/activate`, {})).statusCode, 302);
  t.equal((await ctx.services.apiKeys.authenticate(key!, '10.1.2.3')).keyId, id);
  t.equal((await b.post('/scp/admin/api-keys/9999/deactivate', {})).statusCode, 404);
});

t.test('any agent can set their own time zone', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const page = await b.get('/scp/preferences');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<title>My preferences ·/);
  t.match(page.body, '<option value="UTC" selected>');

  const bad = await b.post('/scp/preferences', { timezone: 'Mars/Olympus_Mons' });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'timezone'));
  t.equal((await ctx.services.staff.get(agent.principal.staffId)).timezone, 'UTC');

  const ok = await b.post('/scp/preferences', { timezone: 'America/New_York' });
  t.equal(ok.statusCode, 302);
  t.equal((await ctx.services.staff.get(agent.principal.staffId)).timezone, 'America/New_York');
  const again = await b.get('/scp/preferences');
  t.match(again.body, '<option value="America/New_York" selected>');
  t.match(again.body, /flash-success/);
});
