import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';
import { toDbTime } from '../../src/db/time.js';

/** Canned responses through the panel: who manages and uses which, variables, the reply form's insert, bad input. */

const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const support = (await services.departments.defaultDepartment())!;
const sales = await services.departments.ensure('Sales');
const admin = await createAgent(services, { admin: true, name: 'Ada Admin', departments: [] });
const agent = await createAgent(services, { name: 'Sam Support', departments: ['Support'] });
const seller = await createAgent(services, { name: 'Sid Sales', departments: ['Sales'] });
const adminB = new Browser(app);
await adminB.staffLogin(admin.username, admin.password);
const agentB = new Browser(app);
await agentB.staffLogin(agent.username, agent.password);
const sellerB = new Browser(app);
await sellerB.staffLogin(seller.username, seller.password);

const { ticket } = await services.tickets.create(null, { name: 'Rita Requester', email: 'rita@example.com', subject: 'Printer jam', message: 'It jams.', source: 'web', departmentId: support.id });

/** The text of the reply textarea on a ticket page, unescaped. */
const replyText = (body: string) => {
  const m = /<textarea id="f-message" name="message"[^>]*>([\s\S]*?)<\/textarea>/.exec(body);
  return m ? m[1]!.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : null;
};
const pickerOptions = (body: string) => [...body.matchAll(/<select id="f-cannedId"[\s\S]*?<\/select>/g)].flatMap((m) => [...m[0].matchAll(/<option value="(\d+)"[^>]*>([^<]*)<\/option>/g)].map((o) => o[2]!));

const ids: Record<string, number> = {};

t.test('administrators manage global and department responses; bad input comes back with the values kept', async (t) => {
  const empty = await adminB.get('/scp/admin/canned');
  t.equal(empty.statusCode, 200);
  t.match(empty.body, 'No canned responses yet', 'empty state');
  t.match(empty.body, 'href="/scp/admin/canned/new"');

  await adminB.get('/scp/admin/canned/new');
  const bad = await adminB.post('/scp/admin/canned/new', { title: '   ', body: 'Hello {requester.nmae}, see {ticket.numbr}.', departmentId: '999999' });
  t.equal(bad.statusCode, 400);
  t.ok(fieldError(bad.body, 'title'), 'the title is required');
  t.match(fieldError(bad.body, 'body'), /\{requester\.nmae\}, \{ticket\.numbr\} are not variables/, 'the error names each unknown variable');
  t.ok(fieldError(bad.body, 'departmentId'), 'a department that does not exist is refused');
  t.match(bad.body, 'Hello {requester.nmae}, see {ticket.numbr}.', 'the typed text is kept');
  const junkDept = await adminB.post('/scp/admin/canned/new', { title: 'X', body: 'Y', departmentId: 'abc' });
  t.equal(junkDept.statusCode, 400, 'a department that is not a number is a field error, not a 500');
  t.equal((await adminB.post('/scp/admin/canned/new', { title: 'x'.repeat(121), body: 'Y' })).statusCode, 400, 'a title too long');
  t.equal((await services.db.q('canned_responses').count({ n: '*' }).first())!.n, 0, 'nothing stored');

  const global = await adminB.post('/scp/admin/canned/new', { title: 'Greeting', body: 'Hello {requester.name},\n\nthanks for ticket #{ticket.number} ({ticket.subject}).', departmentId: '' });
  t.equal(global.statusCode, 302);
  const dept = await adminB.post('/scp/admin/canned/new', { title: 'Sales price list', body: 'Our prices: {"basic": 10}.', departmentId: String(sales.id) });
  t.equal(dept.statusCode, 302, 'JSON braces are not variables');
  const supportDept = await adminB.post('/scp/admin/canned/new', { title: 'Support reset steps', body: 'Reset it, {agent.name} of {department.name}.\n{agent.signature}', departmentId: String(support.id) });
  t.equal(supportDept.statusCode, 302);
  for (const r of await services.db.q('canned_responses').select('id', 'title')) ids[r.title as string] = Number(r.id);

  const list = await adminB.get('/scp/admin/canned');
  t.match(list.body, 'Greeting');
  t.match(list.body, /Sales price list<\/a><\/td>\s*<td>Sales<\/td>/, 'the scope is shown');
  t.match(list.body, 'Ada Admin', 'who changed it');
  t.match(list.body, 'aria-current="page"', 'in the admin navigation');

  const edit = await adminB.get(`/scp/admin/canned/${ids.Greeting}`);
  t.match(edit.body, 'value="Greeting"');
  const refused = await adminB.post(`/scp/admin/canned/${ids.Greeting}`, { title: 'Greeting 2', body: '', departmentId: '' });
  t.equal(refused.statusCode, 400);
  t.match(refused.body, 'value="Greeting 2"', 'the edited title is kept');
  const saved = await adminB.post(`/scp/admin/canned/${ids.Greeting}`, { title: 'Greeting', body: 'Hello {requester.name},\n\nthanks for ticket #{ticket.number} ({ticket.subject}): {ticket.link}', departmentId: '' });
  t.equal(saved.statusCode, 302);
  t.ok(await services.db.q('audit_log').where({ action: 'canned.update', object_id: String(ids.Greeting) }).first(), 'audited');

  t.equal((await agentB.get('/scp/admin/canned')).statusCode, 403, 'agents do not reach the admin pages');
  t.equal((await agentB.get(`/scp/admin/canned/${ids.Greeting}`)).statusCode, 403);
  t.equal((await adminB.get('/scp/admin/canned/999999')).statusCode, 404);
  t.equal((await adminB.get('/scp/admin/canned/abc')).statusCode, 404);
});

t.test('every agent manages their own responses, and only theirs', async (t) => {
  const empty = await agentB.get('/scp/canned');
  t.equal(empty.statusCode, 200);
  t.match(empty.body, 'No canned responses yet');
  t.notMatch(empty.body, 'Greeting', 'shared responses are managed on the admin pages');
  await agentB.get('/scp/canned/new');
  const bad = await agentB.post('/scp/canned/new', { title: 'Mine', body: '   ' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, 'value="Mine"');
  t.equal((await agentB.post('/scp/canned/new', { title: 'My sign-off', body: 'Cheers, {agent.name}', departmentId: String(sales.id) })).statusCode, 302);
  const mine = (await services.db.q('canned_responses').where({ title: 'My sign-off' }).first())!;
  ids['My sign-off'] = Number(mine.id);
  t.equal(Number(mine.staff_id), agent.principal.staffId, 'personal, whatever department was sent');
  t.equal(mine.department_id, null);

  t.equal((await sellerB.get(`/scp/canned/${mine.id}`)).statusCode, 404, 'another agent cannot open it');
  await sellerB.get('/scp/canned');
  t.equal((await sellerB.post(`/scp/canned/${mine.id}`, { title: 'Hijacked', body: 'x' })).statusCode, 404, 'nor change it');
  t.equal((await sellerB.post(`/scp/canned/${mine.id}/delete`, {})).statusCode, 404, 'nor delete it');
  t.equal((await agentB.get(`/scp/canned/${ids.Greeting}`)).statusCode, 404, 'a global response is not edited as a personal one');
  await agentB.get('/scp/canned');
  t.equal((await agentB.post(`/scp/canned/${ids.Greeting}/delete`, {})).statusCode, 404);
  t.ok(await services.db.q('canned_responses').where({ id: ids.Greeting }).first(), 'still there');

  // Delete after a confirmation page.
  t.equal((await agentB.post('/scp/canned/new', { title: 'Temporary', body: 'Soon gone' })).statusCode, 302);
  const temp = (await services.db.q('canned_responses').where({ title: 'Temporary' }).first())!;
  const confirm = await agentB.get(`/scp/canned/${temp.id}/delete`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, `action="/scp/canned/${temp.id}/delete"`);
  t.match(confirm.body, 'Delete “Temporary”?');
  t.ok(await services.db.q('canned_responses').where({ id: temp.id }).first(), 'the confirmation page deletes nothing');
  t.equal((await agentB.post(`/scp/canned/${temp.id}/delete`, {})).statusCode, 302);
  t.notOk(await services.db.q('canned_responses').where({ id: temp.id }).first(), 'deleted');
  t.match((await agentB.get('/scp/canned')).body, 'Canned response “Temporary” deleted.');
  t.equal((await agentB.post('/scp/canned/new', { title: 'Next', body: 'x' }, [])).statusCode, 302, 'the form still has its token after a delete');
});

t.test('the reply form offers global, own-department and own responses only', async (t) => {
  const page = await agentB.get(`/scp/tickets/${ticket.number}`);
  t.equal(page.statusCode, 200);
  const offered = pickerOptions(page.body);
  t.ok(offered.includes('Greeting') && offered.includes('Support reset steps') && offered.includes('My sign-off'), 'global, department and own');
  t.notOk(offered.includes('Sales price list'), 'not another department’s');
  t.match(page.body, 'name="insertCanned"', 'the no-script Insert button');
  t.match(page.body, 'js/canned-picker.', 'the picker script');

  const { ticket: salesTicket } = await services.tickets.create(null, { name: 'Bo', email: 'bo@example.com', subject: 'Quote', message: 'Price?', source: 'web', departmentId: sales.id });
  const sellerPage = await sellerB.get(`/scp/tickets/${salesTicket.number}`);
  t.same(pickerOptions(sellerPage.body).sort(), ['Greeting', 'Sales price list'], 'the seller sees global and Sales');
});

t.test('the JSON endpoint expands the variables for a ticket the agent may see', async (t) => {
  await services.staff.updateProfile(agent.principal, { name: 'Sam Support', email: `${agent.username}@staff.test`, signature: 'Sam, 2nd line', password: '' });
  const res = await agentB.get(`/scp/tickets/${ticket.number}/canned/${ids.Greeting}`);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], 'application/json');
  t.equal(res.headers['cache-control'], 'no-store');
  const body = res.json() as { text: string; unknown: string[] };
  t.equal(body.text, `Hello Rita Requester,\n\nthanks for ticket #${ticket.number} (Printer jam): http://helpdesk.test/tickets/${ticket.number}`);
  t.same(body.unknown, []);
  const dept = (await agentB.get(`/scp/tickets/${ticket.number}/canned/${ids['Support reset steps']}`)).json() as { text: string };
  t.match(dept.text, 'Reset it, Sam Support of Support.', 'agent and department');

  t.equal((await agentB.get(`/scp/tickets/${ticket.number}/canned/${ids['Sales price list']}`)).statusCode, 404, 'another department’s response');
  t.equal((await sellerB.get(`/scp/tickets/${ticket.number}/canned/${ids.Greeting}`)).statusCode, 404, 'a ticket the agent cannot see');
  t.equal((await sellerB.get(`/scp/tickets/${ticket.number}/canned/${ids['My sign-off']}`)).statusCode, 404);
  t.equal((await agentB.get(`/scp/tickets/${ticket.number}/canned/abc`)).statusCode, 404);
  const anon = await app.inject({ method: 'GET', url: `/scp/tickets/${ticket.number}/canned/${ids.Greeting}` });
  t.not(anon.statusCode, 200, 'not without a session');
  t.notMatch(anon.body, 'Rita');
});

t.test('Insert without JavaScript adds the text to what was typed and sends nothing', async (t) => {
  const before = (await services.outbox.forTicket(ticket.id)).length;
  await agentB.get(`/scp/tickets/${ticket.number}`);
  const typed = 'Dear Rita,\nI had a look.';
  const res = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: typed, cannedId: String(ids.Greeting), insertCanned: '1', signature: 'none', lastEntryId: '0' });
  t.equal(res.statusCode, 200);
  t.equal(replyText(res.body), `${typed}\n\nHello Rita Requester,\n\nthanks for ticket #${ticket.number} (Printer jam): http://helpdesk.test/tickets/${ticket.number}`, 'typed text first, the response appended');
  t.match(res.body, /<input type="radio" name="signature" value="none" checked>/, 'the other fields are kept');
  t.equal((await services.outbox.forTicket(ticket.id)).length, before, 'nothing mailed');
  t.equal((await services.tickets.view(agent.principal, ticket.number)).entries.length, 1, 'nothing written to the thread');


  // A message arrives while the agent composes: the insert keeps the entry they had seen, so Send still stops.
  const seen = (await services.tickets.view(agent.principal, ticket.number)).latestEntryId;
  await services.tickets.addInboundMessage(ticket.id, { name: 'Rita Requester', email: 'rita@example.com', bodyText: 'Any news?', bodyHtml: null, attachments: [], messageId: null, source: 'email', agent: null, verification: 'unverified', fromNonParticipant: false });
  const meanwhile = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: typed, cannedId: String(ids.Greeting), insertCanned: '1', lastEntryId: String(seen) });
  t.match(meanwhile.body, `name="lastEntryId" value="${seen}"`, 'the entry the agent had seen is kept');
  const stale = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: replyText(meanwhile.body)!, lastEntryId: String(seen) });
  t.equal(stale.statusCode, 409, 'the new message is shown before anything is sent');
  t.equal((await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'response').length, 0);

  const none = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: typed, cannedId: '', insertCanned: '1' });
  t.equal(none.statusCode, 400, 'no response chosen');
  t.ok(fieldError(none.body, 'cannedId'));
  t.equal(replyText(none.body), typed, 'the text is kept');
  const foreign = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: typed, cannedId: String(ids['Sales price list']), insertCanned: '1' });
  t.equal(foreign.statusCode, 400, 'a response the agent may not use');
  t.equal(replyText(foreign.body), typed);
  t.notMatch(foreign.body, 'Our prices');

  const intoEmpty = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: '', cannedId: String(ids['My sign-off']), insertCanned: '1' }, [{ field: 'attachments', filename: 'a.txt', data: Buffer.from('a') }]);
  t.equal(intoEmpty.statusCode, 200, 'multipart, as the form posts it');
  t.equal(replyText(intoEmpty.body), 'Cheers, Sam Support');
});

t.test('a reply still holding an unknown variable is refused, with the text kept; ordinary braces go through', async (t) => {
  // Stored before a variable was renamed, say: the service refuses to save one like it now.
  const now = toDbTime(ctx.clock.now());
  const [legacy] = await services.db.q('canned_responses').insert({ title: 'Legacy', body: 'Your order {order.id} for {requester.name}', created_at: now, updated_at: now });
  await agentB.get(`/scp/tickets/${ticket.number}`);
  const inserted = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: '', cannedId: String(legacy), insertCanned: '1' });
  t.equal(inserted.statusCode, 200);
  t.equal(replyText(inserted.body), 'Your order {order.id} for Rita Requester', 'known variables filled, the unknown left in place');
  t.match(inserted.body, '{order.id} is not a variable and was left as it is.', 'the agent is warned');

  const before = (await services.outbox.forTicket(ticket.id)).length;
  const text = 'Your order {order.id} for Rita Requester';
  const sent = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: text });
  t.equal(sent.statusCode, 400, 'refused');
  t.match(fieldError(sent.body, 'message'), '{order.id} is not a variable.', 'the error names it');
  t.equal(replyText(sent.body), text, 'the text is kept');
  t.equal((await services.outbox.forTicket(ticket.id)).length, before, 'nothing mailed');

  const ordinary = 'Set {"retries": 3} in the config; {name} and { spaced.out } and $x{1} stay as typed.';
  t.equal((await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: ordinary })).statusCode, 302, 'braces that are not of the variable shape are sent');
  const mail = (await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'response');
  t.match(mail[mail.length - 1]!.bodyText, ordinary);
});

t.test('files go with a response: stored like attachments, carried by the insert, sent with the reply', async (t) => {
  const pdf = (name: string, text: string) => ({ field: 'attachments', filename: name, contentType: 'application/pdf', data: Buffer.from(text) });
  await adminB.get('/scp/admin/canned/new');
  const tooMany = await adminB.post('/scp/admin/canned/new', { title: 'Manual', body: 'See the manual.' }, [1, 2, 3, 4, 5, 6].map((i) => pdf(`m${i}.pdf`, `m${i}`)));
  t.equal(tooMany.statusCode, 413, 'more files than a reply may carry (refused as every upload form does)');
  t.ok(fieldError(tooMany.body, 'attachments'));
  t.match(tooMany.body, 'value="Manual"', 'the title is kept');
  const created = await adminB.post('/scp/admin/canned/new', { title: 'Manual', body: 'See the manual for {ticket.subject}.', departmentId: '' }, [pdf('manual.pdf', 'the manual'), pdf('faq.pdf', 'the faq')]);
  t.equal(created.statusCode, 302);
  const manual = (await services.db.q('canned_responses').where({ title: 'Manual' }).first())!;
  const files = await services.db.q('canned_attachments').where({ canned_id: manual.id }).orderBy('filename');
  t.same(files.map((f) => f.filename), ['faq.pdf', 'manual.pdf']);
  t.ok(await services.db.q('attachment_blobs').where({ sha256: files[1]!.sha256 }).first(), 'the bytes in the blob store');

  const edit = await adminB.get(`/scp/admin/canned/${manual.id}`);
  t.match(edit.body, `href="/scp/admin/canned/files/${files[1]!.id}"`, 'listed with a download link');
  const download = await adminB.get(`/scp/admin/canned/files/${files[1]!.id}`);
  t.equal(download.statusCode, 200);
  t.equal(download.body, 'the manual');
  t.match(download.headers['content-disposition'], 'attachment;');
  t.equal((await sellerB.get(`/scp/canned/files/${files[1]!.id}`)).statusCode, 200, 'every agent may fetch a global response’s file');
  const mineFile = await agentB.post(`/scp/canned/${ids['My sign-off']}`, { title: 'My sign-off', body: 'Cheers, {agent.name}' }, [pdf('card.pdf', 'card')]);
  t.equal(mineFile.statusCode, 302);
  const card = (await services.db.q('canned_attachments').where({ filename: 'card.pdf' }).first())!;
  t.equal((await sellerB.get(`/scp/canned/files/${card.id}`)).statusCode, 404, 'not another agent’s personal file');
  t.equal((await adminB.get(`/scp/admin/canned/files/${card.id}`)).statusCode, 404, 'nor, as shared, an administrator');

  // Remove one: the box ticked on the edit form.
  t.equal((await adminB.post(`/scp/admin/canned/${manual.id}`, { title: 'Manual', body: 'See the manual for {ticket.subject}.', departmentId: '', removeFile: String(files[0]!.id) })).statusCode, 302);
  t.same((await services.db.q('canned_attachments').where({ canned_id: manual.id })).map((f) => f.filename), ['manual.pdf'], 'faq.pdf removed');

  const json = (await agentB.get(`/scp/tickets/${ticket.number}/canned/${manual.id}`)).json() as { files: Array<{ id: number; filename: string }> };
  t.same(json.files.map((f) => f.filename), ['manual.pdf'], 'the picker learns the files');

  // No script: insert, the file is carried as a ticked box; send, and the response has it.
  await agentB.get(`/scp/tickets/${ticket.number}`);
  const inserted = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Hi.', cannedId: String(manual.id), insertCanned: '1' });
  t.equal(inserted.statusCode, 200);
  t.match(inserted.body, `<input type="checkbox" name="cannedFile" value="${files[1]!.id}" checked> manual.pdf`);
  const second = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: replyText(inserted.body)!, cannedId: String(ids['My sign-off']), insertCanned: '1', cannedFile: String(files[1]!.id) });
  t.match(second.body, `value="${files[1]!.id}" checked> manual.pdf`, 'files of an earlier insert are kept');
  t.match(second.body, `value="${card.id}" checked> card.pdf`, 'and the new one added');

  const foreign = (await services.db.q('canned_responses').where({ title: 'Sales price list' }).first())!;
  const [foreignFile] = await services.db.q('canned_attachments').insert({ canned_id: foreign.id, filename: 'prices.pdf', content_type: 'application/pdf', size: 4, sha256: files[1]!.sha256 });
  const refused = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: 'With files', cannedFile: [String(files[1]!.id), String(foreignFile)] });
  t.equal(refused.statusCode, 400, 'a file of a response the agent may not use refuses the reply');
  t.ok(fieldError(refused.body, 'cannedFiles'));
  t.equal(replyText(refused.body), 'With files', 'the text kept');
  t.notMatch(refused.body, 'prices.pdf', 'the foreign file is not shown');
  t.match(refused.body, `value="${files[1]!.id}" checked> manual.pdf`, 'the usable one is still carried');

  const tooManyFiles = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Many', cannedFile: String(files[1]!.id) }, [1, 2, 3, 4, 5].map((i) => pdf(`u${i}.pdf`, `u${i}`)));
  t.equal(tooManyFiles.statusCode, 400, 'uploads and canned files together within the cap');
  t.ok(fieldError(tooManyFiles.body, 'attachments'));

  const sent = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Here is the manual.', cannedFile: String(files[1]!.id) }, [pdf('own.pdf', 'own')]);
  t.equal(sent.statusCode, 302);
  const entries = (await services.tickets.view(agent.principal, ticket.number)).entries;
  const last = entries[entries.length - 1]!;
  t.same(last.attachments.map((a) => a.filename).sort(), ['manual.pdf', 'own.pdf'], 'the response carries the canned file and the upload');
  const a = last.attachments.find((x) => x.filename === 'manual.pdf')!;
  t.equal((await services.tickets.attachment(agent.principal, ticket.number, a.id)).data.toString(), 'the manual', 'same bytes');

  // Deleting a response takes its files' links along; the blobs stay for the entries that use them.
  await adminB.get(`/scp/admin/canned/${manual.id}/delete`);
  t.equal((await adminB.post(`/scp/admin/canned/${manual.id}/delete`, {})).statusCode, 302);
  t.equal((await services.db.q('canned_attachments').where({ canned_id: manual.id })).length, 0);
  t.equal((await services.tickets.attachment(agent.principal, ticket.number, a.id)).data.toString(), 'the manual', 'the sent file is still there');
  const gone = await agentB.post(`/scp/tickets/${ticket.number}/reply`, { message: 'Again', cannedFile: String(files[1]!.id) });
  t.equal(gone.statusCode, 400, 'a file whose response was deleted meanwhile refuses the reply');
  t.ok(fieldError(gone.body, 'cannedFiles'));
});
