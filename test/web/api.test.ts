import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { createTestApp } from '../helpers/http.js';

const LIMITS = { maxFileBytes: 1024, maxFiles: 2 };
const ctx = await createTestContext(t, { attachments: LIMITS });
const app = await createTestApp(t, ctx);
const { services } = ctx;
const { key } = await services.apiKeys.create({ name: 'CRM' });

const post = (payload: unknown, headers: Record<string, string> = { 'x-api-key': key }, remoteAddress?: string) =>
  app.inject({ method: 'POST', url: '/api/tickets.json', payload: payload as Record<string, unknown>, headers, ...(remoteAddress ? { remoteAddress } : {}) });
const get = (number: string, headers: Record<string, string> = { 'x-api-key': key }) => app.inject({ method: 'GET', url: `/api/v1/tickets/${number}`, headers });

const body = (over: Record<string, unknown> = {}) => ({ name: 'Angry User', email: 'api@example.com', subject: 'Testing API', message: 'MESSAGE HERE', ...over });
const countRows = async (table: string) => Number((await services.db.q(table).count({ n: '*' }).first())?.n ?? 0);

t.test('API keys: missing or wrong key 401, key bound to another address 403, all as JSON', async (t) => {
  const missing = await post(body(), {});
  t.equal(missing.statusCode, 401);
  t.match(missing.headers['content-type'], /application\/json/);
  t.equal(missing.json().error.code, 'API_KEY_MISSING');
  const wrong = await post(body(), { 'x-api-key': 'sb_not-a-key' });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().error.code, 'API_KEY_INVALID');
  t.equal((await get('12345678', { 'x-api-key': 'sb_not-a-key' })).statusCode, 401, 'reads too');

  const bound = await services.apiKeys.create({ name: 'Bound', allowedIp: '10.0.0.5' });
  const before = await countRows('tickets');
  const elsewhere = await post(body(), { 'x-api-key': bound.key }, '10.0.0.6');
  t.equal(elsewhere.statusCode, 403);
  t.equal(elsewhere.json().error.code, 'API_KEY_IP_FORBIDDEN');
  t.equal(await countRows('tickets'), before, 'nothing written');
  const fromBound = await post(body(), { 'x-api-key': bound.key }, '10.0.0.5');
  t.equal(fromBound.statusCode, 201);
});

t.test('POST /api/tickets.json with osTicket’s body creates a ticket and answers its number', async (t) => {
  const res = await post({
    alert: true,
    autorespond: true,
    source: 'API',
    name: 'Angry User',
    email: 'api@example.com',
    phone: '3185558634X123',
    subject: 'Testing API',
    ip: '123.211.233.122',
    message: 'data:text/html,MESSAGE <b>HERE</b><br>second line &amp; more<script>alert(1)</script>',
    priority: 3,
    topicId: (await services.topics.list({ publicOnly: true }))[0]!.id,
    attachments: [
      { 'file.txt': 'data:text/plain;charset=utf-8,content%20here' },
      { name: 'image.png', type: 'image/png', data: `data:image/png;base64,${Buffer.from('PNGDATA').toString('base64')}` },
    ],
  });
  t.equal(res.statusCode, 201);
  const created = res.json();
  t.match(created.number, /^\d+$/);
  t.equal(created.url, `/api/v1/tickets/${created.number}`);

  const ticket = (await services.tickets.findByNumber(created.number))!;
  t.equal(ticket.source, 'api');
  t.equal(ticket.priority, 3);
  t.equal((await services.outbox.forTicket(ticket.id)).length, 1, 'autorespond: confirmation queued');

  const read = await get(created.number);
  t.equal(read.statusCode, 200);
  const json = read.json();
  t.same(Object.keys(json).sort(), ['assignee', 'closedAt', 'createdAt', 'department', 'isAnswered', 'mergedInto', 'number', 'priority', 'requester', 'source', 'status', 'subject', 'thread', 'topic', 'updatedAt'], 'allow-listed keys only');
  t.same(json.requester, { name: 'Angry User', email: 'api@example.com' });
  t.equal(json.source, 'api');
  t.same(json.priority, { id: 3, name: 'High' });
  const [first] = json.thread;
  t.equal(first.type, 'message');
  t.equal(first.author.kind, 'user');
  t.match(first.body, /^MESSAGE HERE\nsecond line & more$/, 'HTML message reduced to text');
  t.same(first.attachments.map((a: { filename: string; size: number; contentType: string }) => [a.filename, a.size, a.contentType]), [['file.txt', 12, 'text/plain'], ['image.png', 7, 'image/png']]);
});

t.test('autorespond: false sends no confirmation', async (t) => {
  const res = await post(body({ autorespond: false }));
  t.equal(res.statusCode, 201);
  const ticket = (await services.tickets.findByNumber(res.json().number))!;
  t.equal((await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'ticket_created').length, 0);
});

t.test('wrong types and missing fields answer 400 JSON naming the field, and write nothing', async (t) => {
  const before = await countRows('tickets');
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['missing email', { name: 'X', subject: 'S', message: 'M' }, 'email'],
    ['object as name', body({ name: { first: 'A' } }), 'name'],
    ['text as topicId', body({ topicId: 'sales' }), 'topicId'],
    ['priority out of range', body({ priority: 9 }), 'priority'],
    ['string as alert', body({ alert: 'maybe' }), 'alert'],
    ['object as attachment data', body({ attachments: [{ 'a.txt': { data: 'x' } }] }), 'attachments.0.a.txt'],
    ['string as attachment', body({ attachments: ['a.txt'] }), 'attachments.0'],
    ['data that is not a data URL', body({ attachments: [{ 'a.txt': '5' }] }), 'attachments.0'],
    ['not an e-mail address', body({ email: 'nope' }), 'email'],
    ['empty subject', body({ subject: '  ' }), 'subject'],
    ['bad data URL', body({ attachments: [{ 'a.bin': 'data:application/octet-stream;base64,@@@' }] }), 'attachments.0'],
    ['bad message data URL', body({ message: 'data:text/html;base64,%%%' }), 'message'],
  ];
  for (const [name, payload, field] of cases) {
    const res = await post(payload);
    t.equal(res.statusCode, 400, name);
    t.match(res.headers['content-type'], /application\/json/);
    const { error } = res.json();
    t.match(error.message, new RegExp(`^${field.replace(/\./g, '\\.')}\\b`), `${name}: message names ${field}`);
    t.ok(error.details?.field === field || field in (error.details?.fields ?? {}), `${name}: details name ${field}`);
  }
  const notJson = await app.inject({ method: 'POST', url: '/api/tickets.json', payload: '{"name": ', headers: { 'x-api-key': key, 'content-type': 'application/json' } });
  t.equal(notJson.statusCode, 400, 'malformed JSON');
  t.ok(notJson.json().error.message);
  t.equal(await countRows('tickets'), before, 'nothing written');
});

t.test('attachment caps: over the size cap 413, too many files 400, both as JSON', async (t) => {
  const before = await countRows('tickets');
  const big = Buffer.alloc(LIMITS.maxFileBytes + 1, 1).toString('base64');
  const tooBig = await post(body({ attachments: [{ 'big.bin': `data:application/octet-stream;base64,${big}` }] }));
  t.equal(tooBig.statusCode, 413);
  t.equal(tooBig.json().error.code, 'PAYLOAD_TOO_LARGE');
  t.match(tooBig.json().error.message, 'big.bin');
  const huge = await post(body({ attachments: [{ 'huge.bin': `data:application/octet-stream;base64,${Buffer.alloc(LIMITS.maxFileBytes * 4).toString('base64')}` }] }));
  t.equal(huge.statusCode, 413, 'refused before decoding');
  const tooMany = await post(body({ attachments: [1, 2, 3].map((i) => ({ [`f${i}.txt`]: 'data:text/plain,x' })) }));
  t.equal(tooMany.statusCode, 400);
  t.match(tooMany.json().error.message, /^attachments: At most 2 attachments are allowed; 3 were sent/);
  t.equal(await countRows('tickets'), before, 'nothing written');
});

t.test('GET /api/v1/tickets/:number includes internal notes, typed; unknown numbers are 404 JSON', async (t) => {
  const agent = await createAgent(services, { admin: true, name: 'Agent Smith' });
  const number = (await post(body())).json().number as string;
  await services.tickets.note(agent.principal, number, 'Internal remark');
  await services.tickets.respond(agent.principal, number, 'Public answer');
  const json = (await get(number)).json();
  t.same(json.thread.map((e: { type: string; author: { kind: string } }) => [e.type, e.author.kind]), [['message', 'user'], ['note', 'staff'], ['response', 'staff']]);
  t.equal(json.isAnswered, true);
  t.equal(json.mergedInto, null);

  const other = (await post(body({ subject: 'The same problem again' }))).json().number as string;
  await services.merges.merge(agent.principal, { number, others: other, survivor: number, notify: false });
  const merged = (await get(other)).json();
  t.equal(merged.mergedInto, number, 'a merged ticket names the one that holds its thread now');
  t.equal(merged.thread.length, 0);
  t.equal((await get(number)).json().thread.length, 4, 'where its message went');

  for (const n of ['99999999', 'abc', '1']) {
    const res = await get(n);
    t.equal(res.statusCode, 404, n);
    t.equal(res.json().error.code, 'TICKET_NOT_FOUND');
  }
  const noRoute = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'x-api-key': key } });
  t.equal(noRoute.statusCode, 404);
  t.equal(noRoute.json().error.code, 'NOT_FOUND');
});

t.test('GET /api/v1/tickets/:number returns data: an empty subject and text as "", the marks as fields', async (t) => {
  const { ticket } = await services.tickets.create(null, { name: 'Mari', email: 'mari@example.ee', subject: '', message: 'Algus', source: 'email', received: { truncated: true } });
  await services.tickets.addSystemNote(ticket.id, { kind: 'bounce', bodyText: '550 5.1.1 User unknown', attachments: [], source: 'email' });
  const json = (await get(ticket.number)).json();
  t.equal(json.subject, '', 'no placeholder in any language');
  t.same(json.thread.map((e: Record<string, unknown>) => [e.type, e.systemKind, e.bodyTruncated, e.body]), [
    ['message', null, true, 'Algus'],
    ['note', 'bounce', false, '550 5.1.1 User unknown'],
  ]);
  t.same(json.thread[1].author, { kind: 'system', name: '' });
});
