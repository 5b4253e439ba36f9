import t from 'tap';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';
import { countQueries } from '../helpers/query-count.js';

/** The queue page's statements when the agent has saved queues and views it again (page-queries.test.ts: 3 without). */
const QUEUE_PAGE_MAX = 3;

/** Saved searches as queues (issue 11, item 4) through real HTTP: save, list with counts, open, sort, bulk, rename, delete. */
t.test('saved queues', async (t) => {
  const ctx = await createTestContext(t, { queuePageSize: 5 });
  const app = await createTestApp(t, ctx);
  const s = ctx.services;
  const sales = await s.departments.ensure('Sales');
  const billing = await s.departments.ensure('Billing');
  const seller = await createAgent(s, { departments: ['Sales'], name: 'Sam Seller' });
  const colleague = await createAgent(s, { departments: ['Sales'], name: 'Cole Colleague' });
  const admin = await createAgent(s, { admin: true, name: 'Ada Admin' });
  const make = async (subject: string, departmentId: number, message = 'The printer again.') =>
    (await s.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject, message, source: 'web', departmentId })).ticket;
  const ours = [];
  for (const name of ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot']) ours.push(await make(`${name} printer`, sales.id));
  const [alpha, bravo] = ours as [typeof ours[0], typeof ours[0]];
  const sorted = ours.map((x) => x.number);
  await make('Billing printer one', billing.id);
  await make('Billing printer two', billing.id);
  await make('Toner only', sales.id, 'Toner is low.');
  const login = async (a: { username: string; password: string }) => {
    const b = new Browser(app);
    t.equal((await b.staffLogin(a.username, a.password)).statusCode, 302);
    return b;
  };
  const [sb, cb, ab] = [await login(seller), await login(colleague), await login(admin)];
  /** The queue bar's tab of a saved queue: its id and count, or null when the bar does not show it. */
  const tab = (html: string, name: string) => {
    const m = new RegExp(`<a href="/scp/tickets\\?saved=(\\d+)"[^>]*>${name} <span class="count">([^<]+)</span>`).exec(html);
    return m ? { id: Number(m[1]), count: m[2] } : null;
  };
  const numbers = (html: string) => [...html.matchAll(/<input type="checkbox" name="tickets" value="(\d+)"/g)].map((m) => m[1]);
  let mine = 0;

  await t.test('a search is saved as a personal queue, shown after the built-in ones with its count', async (t) => {
    const results = await sb.get('/scp/search?q=printer&status=open');
    t.match(results.body, /<form method="post" action="\/scp\/queues"[^>]*>\s*<input type="hidden" name="_csrf"/, 'Save as queue, with CSRF');
    t.notMatch(results.body, 'name="shared"', 'sharing is for administrators');
    t.equal((await sb.post('/scp/queues', { _csrf: 'forged', search: 'q=printer', name: 'X' })).statusCode, 403, 'no token, no queue');
    await sb.get('/scp/search?q=printer&status=open');
    const saved = await sb.post('/scp/queues', { search: 'q=printer&status=open&sort=updated&cursor=abc&bogus=1', name: '  My   printers ' });
    t.equal(saved.statusCode, 302);
    const m = /^\/scp\/tickets\?saved=(\d+)$/.exec(String(saved.headers.location));
    t.ok(m, 'to the new queue');
    mine = Number(m![1]);
    const page = await sb.get(`/scp/tickets?saved=${mine}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, 'The queue “My printers” is saved.');
    t.match(page.body, /<title>Queue: My printers/);
    t.same(tab(page.body, 'My printers'), { id: mine, count: '6' }, 'the count: Sales tickets only');
    t.ok(page.body.indexOf('>Closed <span') < page.body.indexOf('>My printers <span'), 'after the built-in queues');
    t.match(page.body, 'href="/scp/search?q=printer&amp;status=open&amp;sort=updated"', 'the search, as saved (paging and unknown values dropped)');
    t.notMatch(page.body, 'name="dept"', 'the search’s own filters, not the department filter');
    t.match((await cb.get('/scp/tickets')).body, /<nav class="tabs"/);
    t.equal(tab((await cb.get('/scp/tickets')).body, 'My printers'), null, 'not in another agent’s bar');
  });

  await t.test('bad names come back with the search and the name kept', async (t) => {
    for (const [name, error] of [['   ', 'This field is required.'], ['x'.repeat(61), 'At most 60 characters.'], ['MY PRINTERS', 'There is already a queue with this name.']] as const) {
      await sb.get('/scp/search?q=printer');
      const res = await sb.post('/scp/queues', { search: 'q=printer', name });
      t.equal(res.statusCode, 400, JSON.stringify(name.slice(0, 12)));
      t.equal(fieldError(res.body, 'name'), error);
      t.match(res.body, /<details class="save-queue" open>/, 'the form open');
      t.match(res.body, `value="${name}"`, 'the name kept');
      t.match(res.body, 'value="q=printer&amp;sort=relevance"', 'the search kept');
      t.match(res.body, /class="result-count">6 tickets</, 'with its results');
    }
    await sb.get('/scp/search?q=printer');
    t.equal((await sb.post('/scp/queues', { search: 'q=printer', name: 'Shared?', shared: '1' })).statusCode, 403, 'an agent cannot share');
    await sb.get('/scp/search?q=printer');
    const range = await sb.post('/scp/queues', { search: 'q=printer&cfrom=2026-03-01&cto=2026-02-01', name: 'Backwards' });
    t.equal(range.statusCode, 400, 'a range that ends before it starts');
    t.match(range.body, 'The end of the range is before its start.');
    t.same((await s.savedQueues.menuFor(seller.principal)).map((q) => q.name), ['My printers'], 'nothing else was saved');
  });

  let shared = 0;
  await t.test('a shared queue counts, for each agent, only the tickets they may see', async (t) => {
    await ab.get('/scp/search?q=printer');
    const saved = await ab.post('/scp/queues', { search: 'q=printer', name: 'All printers', shared: '1' });
    t.equal(saved.statusCode, 302);
    shared = Number(/saved=(\d+)/.exec(String(saved.headers.location))![1]);
    t.same(tab((await ab.get('/scp/tickets')).body, 'All printers'), { id: shared, count: '8' }, 'the administrator sees all eight');
    const forSeller = await sb.get('/scp/tickets');
    t.same(tab(forSeller.body, 'All printers'), { id: shared, count: '6' }, 'a Sales agent: Billing’s tickets are not counted');
    t.ok(forSeller.body.indexOf('>All printers <') < forSeller.body.indexOf('>My printers <'), 'shared queues first');
    const opened = await sb.get(`/scp/tickets?saved=${shared}`);
    t.notMatch(opened.body, 'Billing printer', 'nor listed');
    t.notMatch(opened.body, '/scp/queues/', 'an agent cannot rename or delete a shared queue');
    t.equal((await sb.get(`/scp/queues/${shared}/rename`)).statusCode, 403);
    await sb.get('/scp/tickets');
    t.equal((await sb.post(`/scp/queues/${shared}/delete`, {})).statusCode, 403);
  });

  await t.test(`a queue page reads at most ${QUEUE_PAGE_MAX} times with saved queues; counting costs two statements per one-word queue`, async (t) => {
    ctx.clock.advance(DIRECTORY_REFRESH_MS);
    await sb.get('/scp/tickets');
    const warm = await countQueries(s.db, () => sb.get('/scp/tickets'));
    t.ok(warm.count <= QUEUE_PAGE_MAX, `${warm.count} statements on a second view, at most ${QUEUE_PAGE_MAX}: the list and counts are cached`, { sql: warm.sql });
    await sb.get(`/scp/tickets?saved=${mine}`);
    const saved = await countQueries(s.db, () => sb.get(`/scp/tickets?saved=${mine}`));
    // Its word's probe of the index (search-repository.ts), the candidates under access and filters, their rows.
    t.ok(saved.count <= QUEUE_PAGE_MAX + 2, `${saved.count} for a saved queue: its word's probe, its candidates, then its rows`, { sql: saved.sql });
    // A ticket change drops every cached count: the next view counts the built-in queues (two statements) and
    // each saved one (a search of one word: its probe and its candidates).
    await s.tickets.setPriority(seller.principal, alpha.number, 3);
    const cold = await countQueries(s.db, () => sb.get('/scp/tickets'));
    t.equal(cold.count, warm.count + 2 + 2 * 2, `${cold.count} when counting again, with two saved queues`, { sql: cold.sql });
  });

  await t.test('opening a saved queue: sortable columns, pages, and the bulk boxes of any queue', async (t) => {
    const bySubject = await sb.get(`/scp/tickets?saved=${mine}&sort=subject&dir=asc`);
    t.equal(bySubject.statusCode, 200);
    t.same(numbers(bySubject.body), sorted.slice(0, 5), 'the first page, by subject');
    t.match(bySubject.body, /<th scope="col" aria-sort="ascending">\s*<a href="\/scp\/tickets\?saved=\d+&amp;sort=subject&amp;dir=desc">/, 'the column sorts the other way next');
    const next = /href="(\/scp\/tickets\?saved=\d+&amp;sort=subject&amp;dir=asc&amp;cursor=[^"]+)" rel="next"/.exec(bySubject.body)?.[1]?.replace(/&amp;/g, '&');
    t.ok(next, 'a next page that keeps the queue and its order');
    t.same(numbers((await sb.get(next!)).body), sorted.slice(5));
    t.same(numbers((await sb.get(`/scp/tickets?saved=${mine}&sort=subject&dir=desc`)).body), [...sorted].reverse().slice(0, 5));
    t.same(numbers((await sb.get(`/scp/tickets?saved=${mine}&sort=number&dir=asc`)).body), [...sorted].sort().slice(0, 5), 'by number');
    const page = await sb.get(`/scp/tickets?saved=${mine}&sort=bogus&dir=sideways&cursor=%%%`);
    t.equal(page.statusCode, 200, 'unknown values read as the queue’s own order');
    t.match(page.body, /<form method="post" action="\/scp\/tickets\/bulk" id="bulk-form"/);
    t.match(page.body, `<input type="hidden" name="back" value="/scp/tickets?saved=${mine}&amp;sort=updated&amp;dir=desc">`);

    const done = await sb.post('/scp/tickets/bulk/confirm', { tickets: [alpha.number, bravo.number], action: 'status:closed', back: `/scp/tickets?saved=${mine}` });
    t.equal(done.statusCode, 200);
    t.match(done.body, '2 tickets changed');
    t.match(done.body, `href="/scp/tickets?saved=${mine}"`, 'back to the saved queue');
    const after = await sb.get(`/scp/tickets?saved=${mine}`);
    t.same(numbers(after.body).sort(), sorted.slice(2).sort(), 'closed tickets leave an open-only search');
    t.same(tab(after.body, 'My printers'), { id: mine, count: '4' }, 'and its count at once: a ticket change drops the cached counts');
  });

  await t.test('rename and delete: the owner’s, after a form and a confirmation; never another agent’s', async (t) => {
    const form = await sb.get(`/scp/queues/${mine}/rename`);
    t.equal(form.statusCode, 200);
    t.match(form.body, 'value="My printers"');
    const clash = await sb.post(`/scp/queues/${mine}/rename`, { name: 'all printers' });
    t.equal(clash.statusCode, 302, 'a shared queue’s name is not the agent’s own: allowed');
    t.equal(clash.headers.location, `/scp/tickets?saved=${mine}`);
    await sb.get(`/scp/queues/${mine}/rename`);
    const empty = await sb.post(`/scp/queues/${mine}/rename`, { name: '' });
    t.equal(empty.statusCode, 400);
    t.equal(fieldError(empty.body, 'name'), 'This field is required.');
    await sb.get(`/scp/queues/${mine}/rename`);
    t.equal((await sb.post(`/scp/queues/${mine}/rename`, { name: 'Open printers' })).statusCode, 302);
    t.ok(tab((await sb.get('/scp/tickets')).body, 'Open printers'), 'the new name in the bar');

    for (const b of [cb, ab]) {
      t.equal((await b.get(`/scp/tickets?saved=${mine}`)).statusCode, 404, 'another agent’s queue does not open, not even for an administrator');
      t.equal((await b.get(`/scp/queues/${mine}/rename`)).statusCode, 404);
      t.equal((await b.get(`/scp/queues/${mine}/delete`)).statusCode, 404);
      await b.get('/scp/tickets');
      t.equal((await b.post(`/scp/queues/${mine}/rename`, { name: 'Mine now' })).statusCode, 404);
      t.equal((await b.post(`/scp/queues/${mine}/delete`, {})).statusCode, 404);
    }
    t.equal((await sb.get('/scp/tickets?saved=999999')).statusCode, 404);
    t.equal((await sb.get('/scp/tickets?saved=abc')).statusCode, 404);

    const confirm = await sb.get(`/scp/queues/${mine}/delete`);
    t.equal(confirm.statusCode, 200);
    t.match(confirm.body, /<form method="post" action="\/scp\/queues\/\d+\/delete" class="actions">\s*<input type="hidden" name="_csrf"/);
    t.ok(tab((await sb.get('/scp/tickets')).body, 'Open printers'), 'asking deletes nothing');
    await sb.get(`/scp/queues/${mine}/delete`);
    const gone = await sb.post(`/scp/queues/${mine}/delete`, {});
    t.equal(gone.statusCode, 302);
    const bar = await sb.get('/scp/tickets');
    t.match(bar.body, 'The queue “Open printers” is deleted.');
    t.equal(tab(bar.body, 'Open printers'), null);
    t.equal((await sb.get(`/scp/tickets?saved=${mine}`)).statusCode, 404);

    await ab.get(`/scp/queues/${shared}/rename`);
    t.equal((await ab.post(`/scp/queues/${shared}/rename`, { name: 'Every printer' })).statusCode, 302, 'an administrator renames a shared queue');
    t.ok(tab((await sb.get('/scp/tickets')).body, 'Every printer'), 'for everyone');
  });
});
