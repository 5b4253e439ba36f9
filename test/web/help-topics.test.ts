import t from 'tap';
import type { Services } from '../../src/services.js';
import type { TopicInput } from '../../src/topics/topic-service.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';
import { message, send, startListener } from '../helpers/smtp.js';

/**
 * Help topics (issue 12, item 1): the admin pages, and what a topic gives a new ticket on every path that opens
 * one (portal, API, agent form, mail): its department, priority, auto-assigned agent and auto-response.
 * One desk for the file; each test builds the topics it needs under its own names.
 */
const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
const support = (await services.departments.defaultDepartment())!;
const hardware = await services.departments.create(admin.principal, { name: 'Hardware desk', signature: '' });
const tech = await createAgent(services, { departments: ['Hardware desk'], name: 'Tess Tech' });
const { key: apiKey } = await services.apiKeys.create({ name: 'CRM' });
// Not asserted at the top level: a top-level assertion before these awaits let tap end the root test (and drop
// the database) while they ran.
const b = new Browser(app);
await b.staffLogin(admin.username, admin.password);

const base = (over: Partial<TopicInput>): TopicInput => ({ name: 'x', parentId: null, departmentId: support.id, defaultPriority: 2, isPublic: true, assignStaffId: null, autoResponse: true, ...over });
const topic = (over: Partial<TopicInput>) => services.topics.create(admin.principal, base(over));
const form = (over: Record<string, string>) => ({ name: '', parentId: '', departmentId: String(support.id), defaultPriority: '2', isPublic: '1', assignStaffId: '', autoResponse: '1', ...over });
const ticketOf = async (number: string) => (await services.tickets.findByNumber(number))!;
const kinds = async (s: Services, ticketId: number) => (await s.outbox.forTicket(ticketId)).map((m) => m.kind);

let visitor = 0;
/** A portal visitor from an address of their own: the per-address creation limit is not what is tested here. */
async function portalPost(fields: Record<string, string>) {
  const c = new Browser(app);
  c.remoteAddress = `198.51.100.${++visitor}`;
  await c.get('/tickets/new');
  return c.post('/tickets/new', { name: 'Pat', subject: 'Help', message: 'Please', ...fields });
}
const portalNumber = (location: unknown) => /\/tickets\/(\d+)\/created/.exec(String(location))![1]!;

t.test('the admin list shows nested topics by their full name, in the order the admin arranges them', async (t) => {
  await b.get('/scp/admin/topics/new');
  const created = await b.post('/scp/admin/topics/new', form({ name: 'Printers' }));
  t.equal(created.statusCode, 302);
  const parent = (await services.topics.tree()).find((x) => x.name === 'Printers')!;
  await b.get('/scp/admin/topics/new');
  t.equal((await b.post('/scp/admin/topics/new', form({ name: 'Paper jam', parentId: String(parent.id), departmentId: String(hardware.id) }))).statusCode, 302);
  await b.post('/scp/admin/topics/new', form({ name: 'Toner', parentId: String(parent.id) }));

  const list = await b.get('/scp/admin/topics');
  t.equal(list.statusCode, 200);
  t.match(list.body, /<title>Help topics ·/);
  t.match(list.body, />Printers \/ Paper jam<\/a>/, 'a subtopic shows under its parent\'s name');
  const order = () => services.topics.tree().then((all) => all.filter((x) => x.parentId === parent.id).map((x) => x.name));
  t.same(await order(), ['Paper jam', 'Toner']);
  const toner = (await services.topics.tree()).find((x) => x.name === 'Toner')!;
  t.equal((await b.post(`/scp/admin/topics/${toner.id}/move`, { direction: 'up' })).statusCode, 302);
  t.same(await order(), ['Toner', 'Paper jam'], 'moved up');
  await b.post(`/scp/admin/topics/${toner.id}/move`, { direction: 'up' });
  t.same(await order(), ['Toner', 'Paper jam'], 'the first stays first');
  t.ok(list.body.indexOf('Printers / Paper jam') > list.body.indexOf('>Printers</a>'), 'children follow their parent');

  const agent = new Browser(app);
  await agent.staffLogin(tech.username, tech.password);
  t.equal((await agent.get('/scp/admin/topics')).statusCode, 403, 'administrators only');
  t.equal((await agent.post(`/scp/admin/topics/${toner.id}/move`, { direction: 'down' })).statusCode, 403);
});

t.test('hostile input is a field error with the form kept, never a 500', async (t) => {
  const top = await topic({ name: 'Network' });
  const child = await topic({ name: 'VPN', parentId: top.id });
  const grandchild = await topic({ name: 'VPN client', parentId: child.id });
  await topic({ name: 'Wireless' });
  // Names are unique among siblings only: "Network / Other" and "Network / VPN / Other" may both exist.
  await topic({ name: 'Other', parentId: top.id });
  t.ok(await topic({ name: 'other', parentId: child.id }), 'the same name under another parent');
  const edit = async (id: number, over: Record<string, string>) => {
    await b.get(`/scp/admin/topics/${id}`);
    return b.post(`/scp/admin/topics/${id}`, form({ name: 'Network', ...over }));
  };
  for (const [label, over, field] of [
    ['a parent that is its own subtopic', { parentId: String(grandchild.id) }, 'parentId'],
    ['itself as parent', { parentId: String(top.id) }, 'parentId'],
    ['a department that does not exist', { departmentId: '999999' }, 'departmentId'],
    ['a department that is not a number', { departmentId: 'sales' }, 'departmentId'],
    ['an agent outside the department', { assignStaffId: String(tech.principal.staffId) }, 'assignStaffId'],
    ['an agent that does not exist', { assignStaffId: '999999' }, 'assignStaffId'],
    ['a priority that does not exist', { defaultPriority: '9' }, 'defaultPriority'],
    ['a sibling\'s name in other case', { name: 'WIRELESS' }, 'name'],
    ['no name', { name: '   ' }, 'name'],
  ] as const) {
    const res = await edit(top.id, over);
    t.equal(res.statusCode, 400, `${label}: 400`);
    t.ok(fieldError(res.body, field), `${label}: the ${field} field says why`);
  }
  const kept = await edit(top.id, { name: 'Network!', departmentId: '999999' });
  t.match(kept.body, 'value="Network!"', 'the typed name is kept');
  const after = await services.topics.get(top.id);
  t.same([after.name, after.parentId, after.departmentId], ['Network', null, support.id], 'nothing was saved');
  // Both checks pass before either insert: only the unique key on the name can refuse one.
  const racing = await Promise.allSettled([topic({ name: 'Racing' }), topic({ name: 'RACING' })]);
  t.same(racing.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'exactly one of two racing creates wins');
  t.match((racing.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason, { code: 'VALIDATION_FAILED' });
  t.equal((await b.get('/scp/admin/topics/999999')).statusCode, 404);
  t.equal((await b.get('/scp/admin/topics/abc')).statusCode, 404);
});

t.test('portal: public topics offered with their department, priority, agent and auto-response; internal and archived ones refused', async (t) => {
  const parent = await topic({ name: 'Laptops' });
  const repair = await topic({ name: 'Repair', parentId: parent.id, departmentId: hardware.id, defaultPriority: 3, assignStaffId: tech.principal.staffId, autoResponse: false });
  const internal = await topic({ name: 'Asset audit', isPublic: false });
  const retired = await topic({ name: 'Fax machines' });
  await services.topics.archive(admin.principal, retired.id);

  const page = await new Browser(app).get('/tickets/new');
  t.match(page.body, `<option value="${repair.id}">Laptops / Repair</option>`);
  t.notMatch(page.body, 'Asset audit', 'an internal topic is not offered');
  t.notMatch(page.body, 'Fax machines', 'an archived topic is not offered');

  // Tess wants to hear of assignments, not of every new ticket: the one assigned to her as it opens reaches her.
  await services.staff.updateAlertPreferences(tech.principal, { newTicket: false, newMessage: true, assigned: true, transfer: true });
  const res = await portalPost({ email: 'pat@example.com', topicId: String(repair.id) });
  t.equal(res.statusCode, 302);
  const made = await ticketOf(portalNumber(res.headers.location));
  t.same([made.topicId, made.departmentId, made.priority, made.assigneeId], [repair.id, hardware.id, 3, tech.principal.staffId], "the topic's department, priority and agent");
  t.notOk((await kinds(services, made.id)).includes('ticket_created'), 'the auto-response is off for this topic');
  t.ok((await services.outbox.forTicket(made.id)).some((m) => m.kind === 'alert_new_ticket' && m.to.includes(`${tech.username}@staff.test`)), 'the assigned agent is alerted');
  const history = await b.get(`/scp/tickets/${made.number}`);
  t.match(history.body, 'Tess Tech was assigned by the help topic Repair', 'the assignment is in the history');

  for (const [label, id] of [['archived', retired.id], ['internal', internal.id], ['unknown', 999999]] as const) {
    const crafted = await portalPost({ email: `crafted-${label}@example.com`, topicId: String(id) });
    t.equal(crafted.statusCode, 400, `${label} topic: 400`);
    t.ok(fieldError(crafted.body, 'topicId'), `${label} topic: a field error`);
  }
  const plain = await portalPost({ email: 'plain@example.com', topicId: String(parent.id) });
  t.ok((await kinds(services, (await ticketOf(portalNumber(plain.headers.location))).id)).includes('ticket_created'), 'a topic with the auto-response on sends it');
});

t.test('API and the agent form apply the topic too; agents may choose internal topics', async (t) => {
  const onsite = await topic({ name: 'On-site visit', departmentId: hardware.id, defaultPriority: 4, assignStaffId: tech.principal.staffId, isPublic: false });
  const kiosk = await topic({ name: 'Kiosk', departmentId: hardware.id, defaultPriority: 1, assignStaffId: tech.principal.staffId });
  const api = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': apiKey }, payload: { name: 'Bo', subject: 'From the CRM', message: 'Hi', ...payload } });

  const viaApi = await api({ email: 'bo@example.com', topicId: kiosk.id });
  t.equal(viaApi.statusCode, 201);
  const made = await ticketOf(viaApi.json().number as string);
  t.same([made.departmentId, made.priority, made.assigneeId], [hardware.id, 1, tech.principal.staffId]);
  const refused = await api({ email: 'bo2@example.com', topicId: onsite.id });
  t.equal(refused.statusCode, 400, 'an internal topic is not for API callers');
  t.match(refused.json(), { error: { details: { fields: { topicId: String } } } });

  await b.get('/scp/tickets/new');
  const phoned = await b.post('/scp/tickets/new', { email: 'cy@example.com', name: 'Cy', subject: 'Phoned in', message: 'Come over', topicId: String(onsite.id), departmentId: '', priority: '', source: 'phone', notify: '1' });
  t.equal(phoned.statusCode, 302);
  const byAgent = await ticketOf(/\/scp\/tickets\/(\d+)/.exec(String(phoned.headers.location))![1]!);
  t.same([byAgent.topicId, byAgent.departmentId, byAgent.priority, byAgent.assigneeId], [onsite.id, hardware.id, 4, tech.principal.staffId]);

  // The agent's own department choice wins, and the topic's agent, who does not work there, is not assigned.
  await b.get('/scp/tickets/new');
  const elsewhere = await b.post('/scp/tickets/new', { email: 'di@example.com', name: 'Di', subject: 'Phoned in', message: 'Call', topicId: String(onsite.id), departmentId: String(support.id), priority: '2', source: 'phone' });
  const moved = await ticketOf(/\/scp\/tickets\/(\d+)/.exec(String(elsewhere.headers.location))![1]!);
  t.same([moved.departmentId, moved.priority, moved.assigneeId], [support.id, 2, null]);
});

t.test('mail: the mailbox\'s topic places, assigns and may silence the auto-response; a mailbox without one keeps its department under the default topic', async (t) => {
  const { port } = await startListener(t, services);
  const desk = await topic({ name: 'Desk phones', departmentId: hardware.id, defaultPriority: 4, assignStaffId: tech.principal.staffId, autoResponse: false, isPublic: false });
  await services.mailboxes.create(admin.principal, { localPart: 'phones', departmentId: support.id, topicId: desk.id, defaultPriority: 1, autoResponse: true });
  await services.mailboxes.create(admin.principal, { localPart: 'misc', departmentId: support.id, topicId: null, defaultPriority: 2, autoResponse: true });
  const mail = async (to: string, from: string, id: string) => {
    t.equal((await send(port, message({ from, to, subject: 'By mail', body: 'hello', messageId: id }), { from, to: [to] })).code, 250);
    const row = await services.db.knex('inbound_messages as i').join('tickets as t', 't.id', 'i.ticket_id').where('i.message_id', id).first('t.number');
    return String(row.number);
  };
  const viaPhones = await ticketOf(await mail('phones@helpdesk.test', 'eve@example.com', 'topic-mail-1@example.com'));
  t.same([viaPhones.topicId, viaPhones.departmentId, viaPhones.priority, viaPhones.assigneeId], [desk.id, hardware.id, 4, tech.principal.staffId], "the mailbox's topic, internal as it is, gives its department, priority and agent");
  t.notOk((await kinds(services, viaPhones.id)).includes('ticket_created'), "the topic's auto-response setting is honoured");

  const fallback = await topic({ name: 'Unsorted mail', departmentId: hardware.id });
  await b.get('/scp/admin/settings');
  const saved = await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultTopicId: String(fallback.id) });
  t.equal(saved.statusCode, 302);
  t.match((await b.get('/scp/admin/settings')).body, `<option value="${fallback.id}" selected>Unsorted mail</option>`);
  const viaMisc = await ticketOf(await mail('misc@helpdesk.test', 'fay@example.com', 'topic-mail-2@example.com'));
  t.same([viaMisc.topicId, viaMisc.departmentId], [fallback.id, support.id], 'the default topic; the mailbox\'s department');
  const portal = await portalPost({ email: 'gus@example.com', topicId: '' });
  const unsorted = await ticketOf(portalNumber(portal.headers.location));
  t.same([unsorted.topicId, unsorted.departmentId], [fallback.id, hardware.id], 'a portal ticket without a topic gets the default one and its department');

  const bad = await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultTopicId: '999999' });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'defaultTopicId'));
  await b.post('/scp/admin/settings', { defaultDepartmentId: String(support.id), defaultTopicId: '' });
  t.equal(await services.topics.defaultTopic(), null, 'set back to none');
});

t.test('a topic in use is archived with its subtopics, its tickets keep it; an unused one is deleted after a confirmation', async (t) => {
  const parent = await topic({ name: 'Scanners' });
  const child = await topic({ name: 'Drivers', parentId: parent.id });
  const { ticket } = await services.tickets.create(null, { name: 'Hal', email: 'hal@example.com', subject: 'Scanner', message: 'Broken', source: 'web', topicId: child.id });

  const confirm = await b.get(`/scp/admin/topics/${parent.id}/remove`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, '1 subtopic');
  t.notMatch(confirm.body, 'value="delete"', 'no delete for a topic in use');
  t.equal((await b.post(`/scp/admin/topics/${parent.id}/remove`, { action: 'delete' })).statusCode, 409, 'a crafted delete is refused');
  t.equal((await b.post(`/scp/admin/topics/${parent.id}/remove`, { action: 'archive' })).statusCode, 302);
  t.notOk((await services.topics.get(child.id)).isActive, 'its subtopic is archived with it');
  t.match((await b.get(`/scp/tickets/${ticket.number}`)).body, 'Drivers', 'the ticket still shows its topic');
  t.notMatch((await b.get('/scp/tickets/new')).body, 'Scanners', 'not offered to agents');
  await t.rejects(services.mailboxes.create(admin.principal, { localPart: 'scans', departmentId: support.id, topicId: child.id, defaultPriority: 2, autoResponse: true }), { code: 'VALIDATION_FAILED' }, 'nor to mailboxes');
  t.match((await b.get('/scp/admin/topics')).body, /Scanners \/ Drivers<\/a> <span class="badge muted">Archived/);

  await b.get(`/scp/admin/topics/${child.id}`);
  t.equal((await b.post(`/scp/admin/topics/${child.id}/restore`, {})).statusCode, 302);
  t.notOk((await services.topics.get(child.id)).isActive, 'not restored under an archived parent');
  await b.post(`/scp/admin/topics/${parent.id}/restore`, {});
  await b.post(`/scp/admin/topics/${child.id}/restore`, {});
  t.ok((await services.topics.get(child.id)).isActive, 'restored once its parent is');

  const spare = await topic({ name: 'Spare' });
  const unused = await b.get(`/scp/admin/topics/${spare.id}/remove`);
  t.match(unused.body, 'value="delete"');
  t.equal((await b.post(`/scp/admin/topics/${spare.id}/remove`, { action: 'delete' })).statusCode, 302);
  await t.rejects(services.topics.get(spare.id), { code: 'TOPIC_NOT_FOUND' });
  t.ok(await services.db.q('audit_log').where({ action: 'topic.delete' }).first(), 'audited');
});
