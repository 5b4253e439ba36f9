import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
const b = new Browser(app);
await b.staffLogin(admin.username, admin.password);


t.test('department names are unique regardless of case, in the form and in the database', async (t) => {
  await b.get('/scp/admin/departments/new');
  const dup = await b.post('/scp/admin/departments/new', { name: '  SUPPORT ', signature: '' });
  t.equal(dup.statusCode, 400);
  t.ok(fieldError(dup.body, 'name'), 'the name field says why');
  t.match(dup.body, 'value="  SUPPORT "', 'the typed value is kept');

  const accounts = await services.departments.create(admin.principal, { name: 'Accounts', signature: '' });
  await b.get(`/scp/admin/departments/${accounts.id}`);
  const rename = await b.post(`/scp/admin/departments/${accounts.id}`, { name: 'support', signature: '' });
  t.equal(rename.statusCode, 400, 'renaming onto another name in other case is refused');
  t.equal((await services.departments.get(accounts.id)).name, 'Accounts');
  t.equal((await b.post(`/scp/admin/departments/${accounts.id}`, { name: 'ACCOUNTS', signature: '' })).statusCode, 302, 'changing the case of its own name is fine');

  // Both checks pass before either insert: only the unique index on the lower-cased name can refuse one.
  const results = await Promise.allSettled([
    services.departments.create(admin.principal, { name: 'Straße', signature: '' }),
    services.departments.create(admin.principal, { name: 'STRASSE'.toLowerCase() === 'strasse' ? 'STRAßE' : 'x', signature: '' }),
  ]);
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'exactly one of two racing creates wins');
  t.match((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason, { code: 'VALIDATION_FAILED' });
});

t.test('archiving re-points mailboxes and topics to the department the admin picks, after a confirmation', async (t) => {
  const sales = await services.departments.create(admin.principal, { name: 'Sales', signature: '' });
  const support = (await services.departments.defaultDepartment())!;
  const box = await services.mailboxes.create(admin.principal, { localPart: 'sales', departmentId: sales.id, topicId: null, defaultPriority: 2, autoResponse: true });
  const topicId = (await services.topics.create(admin.principal, { name: 'Quotes', parentId: null, departmentId: sales.id, defaultPriority: 2, isPublic: true, assignStaffId: null, autoResponse: true })).id;
  const { ticket } = await services.tickets.create(null, { name: 'Bo', email: 'bo@example.com', subject: 'Quote', message: 'How much?', source: 'web', departmentId: sales.id });

  t.match((await b.get(`/scp/admin/departments/${sales.id}`)).body, `/scp/admin/departments/${sales.id}/archive`, 'the edit page links to archiving');
  const confirm = await b.get(`/scp/admin/departments/${sales.id}/archive`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, /<title>Archive department Sales ·/);
  t.match(confirm.body, '1 mailbox and 1 help topic');
  t.match(confirm.body, `<option value="${support.id}">Support</option>`);
  t.notMatch(confirm.body, `<option value="${sales.id}">Sales</option>`, 'not offered as its own successor');
  t.notMatch(confirm.body, 'value="delete"', 'a department with tickets cannot be deleted');

  const noTarget = await b.post(`/scp/admin/departments/${sales.id}/archive`, { action: 'archive', targetId: '' });
  t.equal(noTarget.statusCode, 400);
  t.ok(fieldError(noTarget.body, 'targetId'));
  t.equal((await services.departments.get(sales.id)).archivedAt, null, 'nothing changed');

  const done = await b.post(`/scp/admin/departments/${sales.id}/archive`, { action: 'archive', targetId: String(support.id) });
  t.equal(done.statusCode, 302);
  t.ok((await services.departments.get(sales.id)).archivedAt, 'archived');
  t.equal((await services.mailboxes.get(box.id)).departmentId, support.id, 'mailbox re-pointed');
  t.equal((await services.topics.get(topicId))!.departmentId, support.id, 'topic re-pointed');
  t.equal((await services.tickets.findByNumber(ticket.number))!.departmentId, sales.id, 'its tickets stay');
  t.ok(await services.db.q('audit_log').where({ action: 'department.archive' }).first(), 'audited');

  // Not offered for new tickets, transfers or mailboxes; refused when sent anyway.
  const newForm = await b.get('/scp/tickets/new');
  t.notMatch(newForm.body, `<option value="${sales.id}">Sales</option>`, 'not on the new-ticket form');
  await t.rejects(services.tickets.create(admin.principal, { name: 'C', email: 'c@example.com', subject: 'x', message: 'y', source: 'phone', departmentId: sales.id }), { code: 'VALIDATION_FAILED' });
  const other = await services.tickets.create(null, { name: 'D', email: 'd@example.com', subject: 'x', message: 'y', source: 'web' });
  t.notMatch((await b.get(`/scp/tickets/${other.ticket.number}`)).body, `<option value="${sales.id}">Sales</option>`, 'not offered as a transfer target');
  await t.rejects(services.tickets.transfer(admin.principal, other.ticket.number, sales.id), { code: 'VALIDATION_FAILED' });
  t.match((await b.get(`/scp/tickets/${ticket.number}`)).body, `<option value="${sales.id}" selected>Sales</option>`, 'its own tickets still show it');
  t.match((await b.get('/scp/admin/departments')).body, /Sales<\/a> <span class="badge muted">Archived/);

  await b.get(`/scp/admin/departments/${sales.id}`);
  t.equal((await b.post(`/scp/admin/departments/${sales.id}/restore`, {})).statusCode, 302);
  t.equal((await services.departments.get(sales.id)).archivedAt, null, 'restored');
});

t.test('an empty department can be deleted; the default department hands its role over', async (t) => {
  const temp = await services.departments.create(admin.principal, { name: 'Temp', signature: '' });
  const confirm = await b.get(`/scp/admin/departments/${temp.id}/archive`);
  t.match(confirm.body, 'value="delete"');
  t.equal((await b.post(`/scp/admin/departments/${temp.id}/archive`, { action: 'delete' })).statusCode, 302);
  await t.rejects(services.departments.get(temp.id), { code: 'DEPARTMENT_NOT_FOUND' });

  const support = (await services.departments.defaultDepartment())!;
  const help = await services.departments.create(admin.principal, { name: 'Helpdesk', signature: '' });
  t.match((await b.get(`/scp/admin/departments/${support.id}/archive`)).body, 'it is the default department');
  t.equal((await b.post(`/scp/admin/departments/${support.id}/archive`, { action: 'archive', targetId: String(help.id) })).statusCode, 302);
  t.equal((await services.departments.defaultDepartment())!.id, help.id, 'the successor is now the default');
  const { ticket } = await services.tickets.create(null, { name: 'E', email: 'e@example.com', subject: 'x', message: 'y', source: 'web' });
  t.equal(ticket.departmentId, help.id);
  const withTickets = await b.post(`/scp/admin/departments/${support.id}/archive`, { action: 'delete', targetId: String(help.id) });
  t.equal(withTickets.statusCode, 409, 'a department with tickets is not deleted');
});
