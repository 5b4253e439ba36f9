import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';
import { countQueries } from '../helpers/query-count.js';
import { lastInbound, nextSeq, TO } from '../helpers/mail-trust.js';
import { message, send, startListener } from '../helpers/smtp.js';

/**
 * People (issue 11, item 5): the user directory, a user's page, editing, notes, merging and organizations,
 * through the panel with real logins and mail through the SMTP listener. One database and app for the file;
 * each subtest builds on what the ones before it left.
 */
const ctx = await createTestContext(t, { queuePageSize: 5 });
const { services } = ctx;
const app = await createTestApp(t, ctx);
const { port } = await startListener(t, services);
const sales = await services.departments.ensure('Sales');
const billing = await services.departments.ensure('Billing');
const admin = await createAgent(services, { admin: true, name: 'Ada Admin', departments: ['Sales'] });
const agent = await createAgent(services, { name: 'Sam Sales', departments: ['Sales'] });
const a = new Browser(app);
await a.staffLogin(admin.username, admin.password);
const s = new Browser(app);
await s.staffLogin(agent.username, agent.password);

/** Mail from `from` opens a ticket; its number, and the user it was filed under. */
async function mailFrom(from: string, subject: string) {
  const sent = await send(port, message({ from, subject, body: 'Hello there', messageId: `p-${nextSeq()}@example.com` }), { from, to: TO });
  if (sent.code !== 250) throw new Error(`refused: ${sent.response}`);
  const row = (await services.db.knex('tickets').where({ id: (await lastInbound(services)).ticket_id }).first('number', 'user_id')) as { number: string; user_id: number };
  return { number: row.number, userId: Number(row.user_id) };
}

const userRow = (id: number) => services.db.knex('users').where({ id }).first('name', 'organization_id', 'language', 'merged_into_id') as Promise<{ name: string; organization_id: number | null; language: string | null; merged_into_id: number | null }>;
const moveTo = (number: string, departmentId: number) => services.tickets.updateProperties(admin.principal, number, { priority: null, departmentId });
const idOf = (location: string | undefined) => Number(/\/(\d+)$/.exec(location ?? '')![1]);

let orgId = 0;
let ann = { number: '', userId: 0 };

t.test('organizations: an administrator creates one; its domains link new users from mail, not old ones', async (t) => {
  const old = await mailFrom('olga@acme.example', 'Before the organization existed');
  t.equal((await s.get('/scp/orgs/new')).statusCode, 403, 'agents look organizations up but do not create them');
  t.equal((await s.post('/scp/orgs/new', { name: 'Sneaky', domains: '' })).statusCode, 403);
  const bad = await a.post('/scp/orgs/new', { name: '', domains: 'acme.example not_a_domain' });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'name'), 'the name is required');
  t.match(fieldError(bad.body, 'domains'), 'not_a_domain', 'the bad domain is named');
  t.match(bad.body, 'acme.example not_a_domain', 'the form keeps what was typed');
  const made = await a.post('/scp/orgs/new', { name: 'Acme Ltd', domains: 'ACME.example\nacme-corp.example' });
  t.equal(made.statusCode, 302);
  orgId = idOf(made.headers.location);
  t.same(await services.db.knex('organization_domains').where({ organization_id: orgId }).orderBy('domain').pluck('domain'), ['acme-corp.example', 'acme.example'], 'domains stored lower-cased');
  const taken = await a.post('/scp/orgs/new', { name: 'acme ltd', domains: 'acme.example' });
  t.equal(taken.statusCode, 400);
  t.ok(fieldError(taken.body, 'name'), 'names are unique regardless of case');
  t.match(fieldError(taken.body, 'domains'), 'Acme Ltd', 'a domain belongs to one organization');

  ann = await mailFrom('Ann Archer <ann@acme.example>', 'Printer on fire');
  t.equal((await userRow(ann.userId)).organization_id, orgId, 'a new user from the domain joins');
  t.equal((await userRow(old.userId)).organization_id, null, 'a user created before is left alone');
  const portal = new Browser(app);
  await portal.get('/tickets/new');
  t.equal((await portal.post('/tickets/new', { name: 'Pat Portal', email: 'Pat@Acme-Corp.example', subject: 'From the help center', message: 'Hi' })).statusCode, 302);
  t.equal((await userRow((await services.users.findByEmail('pat@acme-corp.example'))!.id)).organization_id, orgId, 'from the help center too, any of its domains');
  const other = await mailFrom('zed@elsewhere.example', 'Unrelated');
  t.equal((await userRow(other.userId)).organization_id, null);
  t.ok(await services.db.knex('audit_log').where({ action: 'organization.create', object_id: String(orgId) }).first(), 'audited');

  const page = await s.get(`/scp/orgs/${orgId}`);
  t.equal(page.statusCode, 200, 'any agent looks an organization up');
  t.match(page.body, `href="/scp/users/${ann.userId}"`, 'members listed');
  t.notMatch(page.body, ann.number, 'but not tickets of a department the agent is not in (Support)');
  t.match((await a.get(`/scp/orgs/${orgId}`)).body, ann.number, 'an administrator sees them');
});

t.test('directory: prefix search by name, address and organization, keyset pages, empty state', async (t) => {
  const names = async (url: string) => [...(await s.get(url)).body.matchAll(/<td><a href="\/scp\/users\/\d+">([^<]+)<\/a><\/td>/g)].map((m) => m[1]);
  t.same(await names('/scp/users?q=ann'), ['Ann Archer'], 'by the start of the name, case folded');
  t.same(await names('/scp/users?q=ANN%40ACME'), ['Ann Archer'], 'by the start of an address');
  t.same(await names('/scp/users?q=acme'), ['Ann Archer', 'Pat Portal'], 'by the organization’s name (olga is in none)');
  t.same(await names('/scp/users?q=zed%40else'), ['zed']);
  const none = await s.get('/scp/users?q=nobody-here');
  t.equal(none.statusCode, 200);
  t.match(none.body, 'class="empty"', 'the empty state');
  t.equal((await s.get('/scp/users?q=%25')).statusCode, 200, 'LIKE syntax is a literal');
  t.equal((await s.get('/scp/users?after=garbage')).statusCode, 200, 'a broken cursor starts from the top');

  for (const n of ['Dora', 'Eve', 'Finn', 'Gus']) await services.users.findOrCreate(n, `${n.toLowerCase()}@example.com`);
  // Every user exactly once, five at a time, following the next links.
  const seen: string[] = [];
  let url: string | null = '/scp/users';
  for (let pages = 0; url && pages < 10; pages++) {
    const res = await s.get(url);
    seen.push(...[...res.body.matchAll(/<td><a href="\/scp\/users\/\d+">([^<]+)<\/a><\/td>/g)].map((m) => m[1]!));
    const next = /<a href="([^"]+)" rel="next">/.exec(res.body);
    url = next ? next[1]!.replace(/&amp;/g, '&') : null;
  }
  const all = (await services.db.knex('users').whereNull('merged_into_id').orderBy([{ column: 'name_key' }, { column: 'id' }]).pluck('name')) as string[];
  t.same(seen, all, 'pages in name order, nobody twice or missing');
  t.ok(all.length > 5, 'more than one page');
});

t.test('user page and counts: an agent of Sales never sees Billing’s tickets of the user', async (t) => {
  const second = await mailFrom('ann@acme.example', 'Invoice wrong');
  await moveTo(ann.number, sales.id);
  await moveTo(second.number, billing.id);
  t.equal(second.userId, ann.userId);
  // Enough of Billing's for a second page, if they were counted.
  for (let i = 0; i < 5; i++) await services.tickets.create(null, { name: 'Ann', email: 'ann@acme.example', subject: `Invoice ${i}`, message: 'Wrong', source: 'web', departmentId: billing.id, notifyRequester: false });

  const page = await s.get(`/scp/users/${ann.userId}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, ann.number, 'the Sales ticket is listed');
  t.notMatch(page.body, second.number, 'Billing’s are not');
  t.notMatch(page.body, 'Invoice wrong');
  t.notMatch(page.body, 'rel="next"', 'nor is there a next page hinting at them');
  t.match(page.body, 'ann@acme.example');
  t.match(page.body, `href="/scp/orgs/${orgId}"`, 'the organization');
  const row = (body: string) => new RegExp(`/scp/users/${ann.userId}">Ann Archer</a></td>[\\s\\S]*?<td class="num">(\\d+)</td>`).exec(body)?.[1];
  t.equal(row((await s.get('/scp/users?q=ann')).body), '1', 'the directory counts only the open tickets the agent sees');
  t.equal(row((await a.get('/scp/users?q=ann')).body), '7', 'an administrator sees all seven');
  const adminPage = await a.get(`/scp/users/${ann.userId}`);
  t.match(adminPage.body, 'rel="next"', 'an administrator pages through all of them');

  // However many rows a page shows, each page costs the same few statements (no read per row). Not counted: the
  // directory's version check, which a page makes when the last one is a second old, whichever page it is.
  for (const [url, max] of [['/scp/users', 4], ['/scp/users?q=a', 4], [`/scp/users/${ann.userId}`, 5], [`/scp/orgs/${orgId}`, 7], ['/scp/orgs', 3]] as const) {
    await a.get(url);
    const { sql } = await countQueries(services.db, () => a.get(url));
    const count = sql.filter((q) => !q.includes('cache_versions')).length;
    t.ok(count <= max, `${url}: ${count} statements, at most ${max}`, { sql });
  }

  const ticket = await s.get(`/scp/tickets/${ann.number}`);
  t.match(ticket.body, `<a href="/scp/users/${ann.userId}">Ann Archer</a>`, 'the ticket page links the requester to their page');
  t.equal((await s.get('/scp/users/999999')).statusCode, 404);
});

t.test('notes: any agent writes them, staff-only, with who; CSRF is checked', async (t) => {
  const empty = await s.post(`/scp/users/${ann.userId}/notes`, { note: '   ' });
  t.equal(empty.statusCode, 400);
  t.ok(fieldError(empty.body, 'note'));
  t.equal((await s.post(`/scp/users/${ann.userId}/notes`, { note: 'Prefers phone calls <b>before noon</b>.', _csrf: 'forged' })).statusCode, 403, 'a forged form is refused');
  t.equal((await s.post(`/scp/users/${ann.userId}/notes`, { note: 'Prefers phone calls <b>before noon</b>.' })).statusCode, 302);
  const page = await a.get(`/scp/users/${ann.userId}`);
  t.match(page.body, 'Prefers phone calls &lt;b&gt;before noon&lt;/b&gt;.', 'escaped');
  t.match(page.body, 'Sam Sales', 'who wrote it');
});

t.test('editing: administrators only, validated, the form kept on error, audited', async (t) => {
  t.equal((await s.get(`/scp/users/${ann.userId}/edit`)).statusCode, 403);
  t.equal((await s.post(`/scp/users/${ann.userId}/edit`, { name: 'Hijack', language: '', organization: '' })).statusCode, 403);
  t.equal((await userRow(ann.userId)).name, 'Ann Archer');

  t.equal((await a.get(`/scp/users/${ann.userId}/edit`)).statusCode, 200);
  const bad = await a.post(`/scp/users/${ann.userId}/edit`, { name: ' ', language: 'xx', organization: 'No Such Org' });
  t.equal(bad.statusCode, 400);
  for (const f of ['name', 'language', 'organization']) t.ok(fieldError(bad.body, f), `${f} refused`);
  t.match(bad.body, 'value="No Such Org"', 'the form keeps what was typed');
  const long = await a.post(`/scp/users/${ann.userId}/edit`, { name: 'x'.repeat(121), language: '', organization: '' });
  t.ok(fieldError(long.body, 'name'), 'too long');
  t.equal((await a.post(`/scp/users/${ann.userId}/edit`, { _csrf: 'forged', name: 'Ann B', language: '', organization: '' })).statusCode, 403);

  const ok = await a.post(`/scp/users/${ann.userId}/edit`, { name: 'Ann Bowman', language: 'da', organization: 'acme LTD' });
  t.equal(ok.statusCode, 302);
  t.same(await userRow(ann.userId), { name: 'Ann Bowman', organization_id: orgId, language: 'da', merged_into_id: null });
  t.match((await s.get('/scp/users?q=ann%20bo')).body, 'Ann Bowman', 'found by the new name');
  t.match((await s.get('/scp/users?q=BOWM')).body, 'Ann Bowman', 'and by the start of a later word of it');
  t.notMatch((await s.get('/scp/users?q=arch')).body, 'Ann Bowman', 'not by the old one');
  const searched = async (words: string) => (await services.search.search(admin.principal, { words, filters: {}, limit: 50 })).rows.map((r) => r.number);
  const annsTickets = await services.db.knex('tickets').where({ user_id: ann.userId }).pluck('number');
  t.ok(annsTickets.length > 0);
  t.same((await searched('bowman')).sort(), [...annsTickets].sort(), 'ticket search finds her tickets by the new name');
  t.same(await searched('archer'), [], 'and no longer by the old one');
  const audit = await services.db.knex('audit_log').where({ action: 'user.update', object_id: String(ann.userId) }).first('details');
  t.match(JSON.parse(audit.details), { from: { name: 'Ann Archer' }, to: { name: 'Ann Bowman', language: 'da' } });
});

t.test('merging: confirmation, then tickets, addresses and notes move; mail from the old address lands on the survivor', async (t) => {
  const bob = await mailFrom('Bob Bowman <bob@home.example>', 'From my home address');
  await moveTo(bob.number, sales.id);
  await services.tickets.create(admin.principal, { name: 'Colin', email: 'colin@example.com', subject: 'Copied', message: 'Hi', source: 'phone', departmentId: sales.id, collaborators: [{ name: 'Bob', email: 'bob@home.example' }] });
  await s.post(`/scp/users/${bob.userId}/notes`, { note: 'Same person as Ann, home address.' });
  const bobsLink = services.tickets.accessLink((await services.tickets.findByNumber(bob.number))!).replace('http://helpdesk.test', '');

  t.equal((await s.get(`/scp/users/${bob.userId}/merge`)).statusCode, 403, 'agents do not merge');
  t.equal((await s.post(`/scp/users/${bob.userId}/merge`, { other: String(ann.userId), survivor: String(ann.userId) })).statusCode, 403);
  const unknown = await a.post(`/scp/users/${bob.userId}/merge/preview`, { other: 'nobody@nowhere.example' });
  t.equal(unknown.statusCode, 400);
  t.ok(fieldError(unknown.body, 'other'));
  t.ok(fieldError((await a.post(`/scp/users/${bob.userId}/merge/preview`, { other: 'BOB@home.example' })).body, 'other'), 'not with oneself');

  const preview = await a.post(`/scp/users/${bob.userId}/merge/preview`, { other: 'ANN@acme.example' });
  t.equal(preview.statusCode, 200);
  t.match(preview.body, new RegExp(`name="survivor" value="${ann.userId}" checked`), 'the one named survives unless the administrator picks the other');
  t.match(preview.body, '1 ticket of Bob Bowman moves');
  t.match(preview.body, 'bob@home.example');
  t.match(preview.body, '1 note moves');
  t.equal(await services.db.knex('tickets').where({ user_id: bob.userId }).count({ n: '*' }).first().then((r) => Number(r?.n)), 1, 'nothing moved yet');

  t.equal((await a.post(`/scp/users/${bob.userId}/merge`, { other: String(ann.userId), survivor: String(ann.userId), _csrf: 'forged' })).statusCode, 403);
  const done = await a.post(`/scp/users/${bob.userId}/merge`, { other: String(ann.userId), survivor: String(ann.userId) });
  t.equal(done.statusCode, 302);
  t.equal(done.headers.location, `/scp/users/${ann.userId}`);
  t.equal((await services.db.knex('tickets').where({ number: bob.number }).first('user_id')).user_id, ann.userId, 'the ticket moved');
  t.same(await services.db.knex('user_emails').where({ user_id: ann.userId }).orderBy('address').select('address', 'is_primary').then((r) => r.map((x) => [x.address, Boolean(x.is_primary)])), [['ann@acme.example', true], ['bob@home.example', false]], 'the address is the survivor’s, secondary');
  t.equal(Number((await services.db.knex('ticket_collaborators as c').join('users as u', 'u.id', 'c.user_id').where('u.id', ann.userId).count({ n: '*' }).first())?.n), 1, 'copied on Colin’s ticket as the survivor');
  t.equal((await userRow(bob.userId)).merged_into_id, ann.userId);
  const old = await a.get(`/scp/users/${bob.userId}`);
  t.equal(old.statusCode, 302, 'the merged user’s page leads to the survivor');
  t.equal(old.headers.location, `/scp/users/${ann.userId}`);
  const page = await a.get(`/scp/users/${ann.userId}`);
  t.match(page.body, 'Same person as Ann, home address.', 'notes moved');
  t.match(page.body, 'bob@home.example');
  t.notMatch((await a.get('/scp/users?q=bob')).body, `/scp/users/${bob.userId}"`, 'the merged user is gone from the directory');
  t.ok(await services.db.knex('audit_log').where({ action: 'user.merge', object_id: String(ann.userId) }).first(), 'audited');
  const byAddress = (await services.search.search(admin.principal, { words: '"ann@acme.example"', filters: {}, limit: 50 })).rows.map((r) => r.number);
  t.ok(byAddress.includes(bob.number), 'ticket search finds the moved ticket by the survivor’s address');

  const client = new Browser(app);
  const opened = await client.get(bobsLink);
  t.equal(opened.statusCode, 302, 'the link Bob was mailed before the merge still opens his ticket');
  t.equal(opened.headers.location, `/tickets/${bob.number}`);
  t.equal((await client.get(`/tickets/${bob.number}`)).statusCode, 200);

  const again = await mailFrom('bob@home.example', 'Written after the merge');
  t.equal(again.userId, ann.userId, 'future mail from the merged address lands on the survivor');
  t.equal((await a.post(`/scp/users/${bob.userId}/merge`, { other: String(ann.userId), survivor: String(ann.userId) })).statusCode, 404, 'a merged user cannot be merged again');
});

t.test('organizations: edit, and delete after a confirmation leaves members without one', async (t) => {
  const list = await s.get('/scp/orgs?q=ac');
  t.match(list.body, `href="/scp/orgs/${orgId}"`);
  t.equal((await s.get(`/scp/orgs/${orgId}/delete`)).statusCode, 403);
  t.equal((await s.post(`/scp/orgs/${orgId}/delete`, {})).statusCode, 403);
  const edited = await a.post(`/scp/orgs/${orgId}/edit`, { name: 'Acme Group', domains: 'acme.example' });
  t.equal(edited.statusCode, 302);
  t.match((await a.get(`/scp/orgs/${orgId}`)).body, 'Acme Group');
  const confirm = await a.get(`/scp/orgs/${orgId}/delete`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, `action="/scp/orgs/${orgId}/delete"`);
  t.equal((await a.post(`/scp/orgs/${orgId}/delete`, { _csrf: 'forged' })).statusCode, 403);
  t.equal((await a.post(`/scp/orgs/${orgId}/delete`, {})).statusCode, 302);
  t.equal((await userRow(ann.userId)).organization_id, null);
  t.equal((await a.get(`/scp/orgs/${orgId}`)).statusCode, 404);
  t.equal((await services.db.knex('organization_domains').where({ organization_id: orgId })).length, 0);
  t.equal((await mailFrom('newbie@acme.example', 'After the organization went')).userId > 0, true);
});
