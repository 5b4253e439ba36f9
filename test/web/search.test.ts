import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';
import { dayBounds } from '../../src/search/search-url.js';

/** The staff search page (issue 11, item 1) through real HTTP: the header box, results, snippets, access. */
t.test('search page', async (t) => {
  const ctx = await createTestContext(t, { queuePageSize: 5 });
  const app = await createTestApp(t, ctx);
  const { services } = ctx;
  const billing = await services.departments.ensure('Billing');
  const agent = await createAgent(services, { departments: ['Support'] });
  const sales = await createAgent(services, { departments: ['Sales'] });
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  const open = async (subject: string, message: string, extra: Record<string, unknown> = {}) =>
    (await services.tickets.create(null, { name: 'Rita <b>Requester</b>', email: 'rita@example.com', subject, message, source: 'web', ...extra })).ticket;
  const a = await open('Printer <script>alert(1)</script> on fire', 'The <img src=x onerror=alert(1)> printer smokes & beeps.');
  const hidden = await open('Printer invoice', 'Billing printer question', { departmentId: billing.id });
  for (let i = 0; i < 7; i++) await open(`Toner ${i}`, 'toner low');

  await t.test('a visible ticket number opens the ticket; an unknown one is searched for', async (t) => {
    const go = await b.get(`/scp/search?q=%23${a.number}`);
    t.equal(go.statusCode, 302);
    t.equal(go.headers.location, `/scp/tickets/${a.number}`);
    const other = await b.get(`/scp/search?q=${hidden.number}`);
    t.equal(other.statusCode, 200, 'another department\'s number is not opened');
    t.notMatch(other.body, `/scp/tickets/${hidden.number}`);
    t.match(other.body, 'No tickets found.');
    t.match((await b.get('/scp/tickets')).body, 'action="/scp/search"', 'the header box searches');
  });

  await t.test('results are rows with an escaped snippet that marks the words', async (t) => {
    const res = await b.get('/scp/search?q=print');
    t.equal(res.statusCode, 200);
    t.match(res.body, `/scp/tickets/${a.number}`);
    t.notMatch(res.body, hidden.number, 'nothing from another department');
    t.notMatch(res.body, '<script>alert(1)', 'the subject is escaped');
    t.notMatch(res.body, '<img src=x', 'the snippet is escaped');
    t.match(res.body, /class="snippet">The &#60;img src=x onerror=alert\(1\)&#62; <mark>printer<\/mark> smokes &#38; beeps\./);
    t.match(res.body, /1 ticket\b/, 'the count');
    const forSales = new Browser(app);
    await forSales.staffLogin(sales.username, sales.password);
    const none = await forSales.get('/scp/search?q=printer');
    t.match(none.body, 'No tickets found.');
    t.notMatch(none.body, 'Printer', 'not even a subject');
  });

  await t.test('paging, filters in the URL, and input that holds no words', async (t) => {
    const first = await b.get('/scp/search?q=toner&sort=updated');
    const next = /href="(\/scp\/search\?[^"]*cursor=[^"]+)"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    t.ok(next, 'a next page link');
    t.match(next, 'sort=updated', 'the link keeps the search');
    const second = await b.get(next!);
    t.equal(second.statusCode, 200);
    t.equal((first.body.match(/class="c-number"/g) ?? []).length + (second.body.match(/class="c-number"/g) ?? []).length, 7);
    t.match((await b.get('/scp/search?q=toner&status=closed')).body, 'No tickets found.');
    const stops = await b.get('/scp/search?q=the+%22*%3A()%5E-');
    t.equal(stops.statusCode, 200);
    t.match(stops.body, 'only the filters apply');
    const bad = await b.get('/scp/search?q=toner&cfrom=2026-03-01&cto=2026-02-01');
    t.equal(bad.statusCode, 400, 'a range that ends before it starts');
    t.match(bad.body, 'The end of the range is before its start.');
    const today = new Date().toISOString().slice(0, 10);
    t.equal((await b.get(`/scp/search?q=toner&cfrom=${today}&cto=${today}&prio=2&source=web`)).body.match(/class="c-number"/g)?.length, 5, 'filters in the URL');
    t.match((await b.get('/scp/search?q=toner&files=1')).body, 'No tickets found.', 'has attachments');
    t.match((await b.get('/scp/search?q=toner&cfrom=1999-01-01&cto=1999-12-31')).body, 'No tickets found.');
    for (const url of [`/scp/search?q=${'x'.repeat(10000)}`, '/scp/search?q=toner&cfrom=2026-13-45&prio=9&source=fax', '/scp/search?q=toner&status=bogus&assignee=nobody&dept=abc&sort=sideways', '/scp/search?q=toner&cursor=%%%', '/scp/search']) {
      t.equal((await b.get(url)).statusCode, 200, url.slice(0, 60));
    }
  });
  await t.test('requester, organization and help topic filters; links from the people pages', async (t) => {
    const admin = await createAgent(services, { admin: true });
    const ab = new Browser(app);
    await ab.staffLogin(admin.username, admin.password);
    const acme = await services.organizations.create(admin.principal, { name: 'Acme Kumquats', domains: 'acme.test' });
    const [topic] = await services.topics.list();
    const bob = (await services.tickets.create(null, { name: 'Bob Acme', email: 'bob@acme.test', subject: 'Kumquat one', message: 'kumquat', source: 'web', topicId: topic!.id })).ticket;
    await services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Kumquat two', message: 'kumquat', source: 'web' });
    const rows = async (url: string) => ((await ab.get(url)).body.match(/class="c-number"/g) ?? []).length;
    t.equal(await rows('/scp/search?q=kumquat'), 2);
    const byUser = await ab.get(`/scp/search?q=kumquat&user=${bob.userId}`);
    t.equal((byUser.body.match(/class="c-number"/g) ?? []).length, 1, 'the requester filter');
    t.match(byUser.body, 'Requester: Bob Acme', 'named, with a way to remove it');
    t.equal(await rows(`/scp/search?q=kumquat&org=${acme}`), 1, 'the organization filter');
    t.equal(await rows(`/scp/search?q=kumquat&topic=${topic!.id}`), 1, 'the help topic filter');
    t.equal(await rows('/scp/search?q=kumquat&user=99999999&org=88888888&topic=77777777'), 2, 'ids that name nothing are left out');
    t.match((await ab.get(`/scp/users/${bob.userId}`)).body, `/scp/search?user=${bob.userId}&amp;sort=updated`);
    t.match((await ab.get(`/scp/orgs/${acme}`)).body, `/scp/search?org=${acme}&amp;sort=updated`);
  });

  t.test('a date field means the day in the agent\'s time zone, including the days clocks change', async (t) => {
    const iso = (d: string, z: string) => { const b = dayBounds(d, z)!; return [b.start.toISOString(), b.end.toISOString()]; };
    t.same(iso('2026-06-01', 'UTC'), ['2026-06-01T00:00:00.000Z', '2026-06-01T23:59:59.999Z']);
    t.same(iso('2026-03-29', 'Europe/Copenhagen'), ['2026-03-28T23:00:00.000Z', '2026-03-29T21:59:59.999Z'], 'a 23-hour day');
    t.same(iso('2026-10-25', 'Europe/Tallinn'), ['2026-10-24T21:00:00.000Z', '2026-10-25T21:59:59.999Z'], 'a 25-hour day');
    t.same(iso('2026-01-01', 'Pacific/Kiritimati'), ['2025-12-31T10:00:00.000Z', '2026-01-01T09:59:59.999Z']);
    t.same(iso('2026-01-01', 'America/Los_Angeles'), ['2026-01-01T08:00:00.000Z', '2026-01-02T07:59:59.999Z']);
    for (const bad of ['2026-02-30', '2026-13-01', '26-01-01', '', undefined]) t.equal(dayBounds(bad, 'UTC'), undefined, String(bad));
    t.end();
  });
});
