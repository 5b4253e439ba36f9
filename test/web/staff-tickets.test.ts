import t from 'tap';
import { createAgent } from '../helpers/context.js';
import { signedInAgent as setup } from '../helpers/http.js';

t.test('queues list tickets with counts, sorting, department filter and keyset pages', async (t) => {
  const { ctx, b } = await setup(t, { queuePageSize: 5 });
  for (let i = 0; i < 7; i++) {
    ctx.clock.advance(1000);
    await ctx.services.tickets.create(null, { name: `Req ${i}`, email: `req${i}@example.com`, subject: `Problem ${i}`, message: 'm', source: 'web' });
  }
  const first = await b.get('/scp/tickets?queue=open');
  t.equal(first.statusCode, 200);
  t.match(first.body, '<title>Open tickets');
  t.match(first.body, /Open <span class="count">7<\/span>/);
  t.match(first.body, 'Problem 6', 'newest first');
  t.notMatch(first.body, 'Problem 1<', 'sixth ticket is on the next page');
  const next = /href="([^"]*cursor=[^"]+)" rel="next"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
  t.ok(next, 'next page link');
  const second = await b.get(next!);
  t.match(second.body, 'Problem 1');
  t.match(second.body, 'Problem 0');
  t.notMatch(second.body, 'rel="next"', 'last page has no next link');

  const asc = await b.get('/scp/tickets?queue=open&sort=subject&dir=asc');
  t.ok(asc.body.indexOf('Problem 0') < asc.body.indexOf('Problem 4'), 'sorted by subject ascending');

  const other = await ctx.services.departments.ensure('Other');
  const filtered = await b.get(`/scp/tickets?queue=open&dept=${other.id}`);
  t.match(filtered.body, 'No tickets here', 'empty state for a department the agent is not in');

  const closed = await b.get('/scp/tickets?queue=closed');
  t.match(closed.body, 'No tickets here');
});

t.test('ticket page: thread, reply, note, status and properties', async (t) => {
  const { ctx, b, agent } = await setup(t);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Dana', email: 'dana@example.com', subject: 'VPN <b>down</b>', message: 'It says <script>alert(1)</script>', source: 'email' });
  const page = await b.get(`/scp/tickets/${ticket.number}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, `<title>#${ticket.number} VPN &lt;b&gt;down&lt;/b&gt;`);
  t.notMatch(page.body, '<script>alert(1)</script>', 'user text is escaped');

  const empty = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: '   ' });
  t.equal(empty.statusCode, 400);
  t.match(empty.body, 'Enter a message.');

  const reply = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Restart the router, please.' });
  t.equal(reply.statusCode, 302);
  const note = await b.post(`/scp/tickets/${ticket.number}/note`, { note: 'Probably the firmware.' });
  t.equal(note.statusCode, 302);
  const after = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(after.body, 'Internal note added.', 'flash after the action');
  t.match(after.body, /class="entry entry-response"[\s\S]*Restart the router/);
  t.match(after.body, /class="entry entry-note"[\s\S]*Probably the firmware/);
  const outbox = await ctx.services.outbox.forTicket(ticket.id);
  t.same(outbox.map((o) => o.kind).filter((k) => k === 'response'), ['response'], 'response queued for the requester');
  t.same(outbox.find((o) => o.kind === 'response')?.to, ['dana@example.com']);

  t.equal((await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '4', assigneeId: String(agent.principal.staffId), departmentId: String(ticket.departmentId) })).statusCode, 302);
  t.equal((await b.post(`/scp/tickets/${ticket.number}/status`, { status: 'resolved' })).statusCode, 302);
  const updated = await ctx.services.tickets.get(agent.principal, ticket.number);
  t.equal(updated.priority, 4);
  t.equal(updated.assigneeId, agent.principal.staffId);
  t.equal(updated.status, 'resolved');
  t.equal((await b.post(`/scp/tickets/${ticket.number}/status`, { status: 'bogus' })).statusCode, 400);
});

t.test('agents cannot open tickets of other departments; unknown numbers answer the same', async (t) => {
  const { ctx, b } = await setup(t);
  const billing = await ctx.services.departments.ensure('Billing');
  const { ticket } = await ctx.services.tickets.create(null, { name: 'E', email: 'e@example.com', subject: 'Invoice', message: 'm', source: 'web', departmentId: billing.id });
  const forbidden = await b.get(`/scp/tickets/${ticket.number}`);
  const unknown = await b.get('/scp/tickets/99999999');
  t.equal(forbidden.statusCode, 404);
  t.equal(unknown.statusCode, 404);
  t.equal((await b.post(`/scp/tickets/${ticket.number}/note`, { note: 'x' })).statusCode, 404);
  const att = await b.get(`/scp/tickets/${ticket.number}/attachments/1`);
  t.equal(att.statusCode, 404);
});

t.test('phone ticket: requester looked up or created, attachments capped with the form kept', async (t) => {
  const { ctx, b } = await setup(t, { attachments: { maxFileBytes: 1024, maxFiles: 2 } });
  await b.get('/scp/tickets/new');
  const tooBig = await b.post('/scp/tickets/new', { email: 'fay@example.com', name: 'Fay', subject: 'Call about printer', message: 'Paper jam', priority: '3', notify: '1' }, [
    { field: 'attachments', filename: 'huge.bin', data: Buffer.alloc(5000, 1) },
  ]);
  t.equal(tooBig.statusCode, 413, 'the file is not read past its cap');
  t.match(tooBig.body, 'huge.bin: larger than the 1 kB limit');
  t.match(tooBig.body, 'value="Call about printer"', 'subject kept');
  t.match(tooBig.body, 'Paper jam', 'message kept');

  const bad = await b.post('/scp/tickets/new', { email: 'not an email', subject: '', message: '' }, [{ field: 'attachments', filename: 'huge.bin', data: Buffer.alloc(5000, 1) }]);
  t.equal(bad.statusCode, 413);
  t.match(bad.body, 'Enter a valid e-mail address.', 'every problem is listed at once');
  t.match(bad.body, 'Enter a subject.');
  t.match(bad.body, 'huge.bin: larger than');

  const ok = await b.post('/scp/tickets/new', { email: 'Fay@Example.com', name: 'Fay', subject: 'Call about printer', message: 'Paper jam', priority: '3', notify: '1' }, [
    { field: 'attachments', filename: 'photo.png', contentType: 'image/png', data: Buffer.from('png-bytes') },
  ]);
  t.equal(ok.statusCode, 302);
  const number = /\/scp\/tickets\/(\d+)/.exec(ok.headers.location as string)?.[1];
  const page = await b.get(`/scp/tickets/${number}`);
  t.match(page.body, 'via phone');
  const link = /href="([^"]+\/attachments\/\d+)"/.exec(page.body)?.[1];
  const download = await b.get(link!);
  t.equal(download.statusCode, 200);
  t.equal(download.body, 'png-bytes');
  t.match(download.headers['content-disposition'], /^attachment; filename="photo.png"/);
  t.equal(download.headers['x-content-type-options'], 'nosniff');
  const user = await ctx.services.users.findByEmail('fay@example.com');
  t.equal(user?.name, 'Fay', 'requester created with a normalised address');
});

t.test('a reply posted after the session expired comes back in the login form and becomes a draft', async (t) => {
  const { ctx, b, agent } = await setup(t);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'G', email: 'g@example.com', subject: 'Late', message: 'm', source: 'web' });
  await b.get(`/scp/tickets/${ticket.number}`);
  ctx.clock.advance((ctx.config.sessions.staffIdleMinutes + 1) * 60_000);
  const expired = await b.post(`/scp/tickets/${ticket.number}/reply`, { message: 'A long answer I typed for ages' });
  t.equal(expired.statusCode, 401);
  t.match(expired.body, 'A long answer I typed for ages', 'text is on the login page');
  t.equal((await ctx.services.tickets.view(agent.principal, ticket.number)).entries.length, 1, 'nothing was sent');
  const keepTicket = /name="keepTicket" value="(\d+)"/.exec(expired.body)?.[1];
  const login = await b.post('/scp/login', { login: agent.username, password: agent.password, next: `/scp/tickets/${ticket.number}`, keepTicket: keepTicket!, keepKind: 'reply', keepText: 'A long answer I typed for ages' });
  t.equal(login.statusCode, 302);
  t.equal(login.headers.location, `/scp/tickets/${ticket.number}`);
  const page = await b.get(`/scp/tickets/${ticket.number}`);
  t.match(page.body, />A long answer I typed for ages<\/textarea>/, 'restored into the reply box');
});

t.test('the properties form saves all of its changes or none', async (t) => {
  const { ctx, b, agent } = await setup(t);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'H', email: 'h@example.com', subject: 'Half', message: 'm', source: 'web' });
  const outsider = await createAgent(ctx.services, { departments: ['Elsewhere'] });
  await b.get(`/scp/tickets/${ticket.number}`);
  const refused = await b.post(`/scp/tickets/${ticket.number}/properties`, { priority: '4', assigneeId: String(outsider.principal.staffId), departmentId: String(ticket.departmentId) });
  t.equal(refused.statusCode, 400);
  t.match(refused.body, 'does not work in the ticket');
  const after = await ctx.services.tickets.get(agent.principal, ticket.number);
  t.equal(after.priority, 2, 'the priority change was rolled back with the refused assignment');
  t.equal(after.assigneeId, null);
});
