import { Readable } from 'node:stream';
import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Issue 7 item 12: big bodies were read and buffered on every route before CSRF and sign-in were checked.
const LIMITS = { maxFileBytes: 1024 * 1024, maxFiles: 2 };
const ctx = await createTestContext(t, { attachments: LIMITS, http: { bodyLimitBytes: 256 * 1024 } });
const app = await createTestApp(t, ctx);
const { services } = ctx;
const MB = 1024 * 1024;

/** A request body streamed on demand, counting how much of it the server actually pulled. */
function streamed(head: string, fillerBytes: number, tail: string): { body: Readable; read: () => number; length: number } {
  let sent = 0;
  let phase = 0;
  const chunk = Buffer.alloc(64 * 1024, 97);
  const body = new Readable({
    read() {
      if (phase === 0) {
        phase = 1;
        sent += Buffer.byteLength(head);
        this.push(head);
      } else if (phase === 1 && sent - Buffer.byteLength(head) < fillerBytes) {
        const n = Math.min(chunk.length, fillerBytes - (sent - Buffer.byteLength(head)));
        sent += n;
        this.push(chunk.subarray(0, n));
      } else if (phase === 1) {
        phase = 2;
        sent += Buffer.byteLength(tail);
        this.push(tail);
        this.push(null);
      }
    },
  });
  return { body, read: () => sent, length: Buffer.byteLength(head) + fillerBytes + Buffer.byteLength(tail) };
}

const boundary = '----limits';
const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const fileHead = (name: string, filename: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const end = `\r\n--${boundary}--\r\n`;

async function postStream(b: Browser | null, url: string, s: ReturnType<typeof streamed>, contentType = `multipart/form-data; boundary=${boundary}`) {
  const cookie = b ? [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  return app.inject({ method: 'POST', url, payload: s.body, headers: { 'content-type': contentType, 'content-length': String(s.length), ...(cookie ? { cookie } : {}) } });
}

t.test('ordinary routes read a small body at most: 413 before anything else', async (t) => {
  const big = await app.inject({ method: 'POST', url: '/login', payload: `email=a%40example.com&password=${'x'.repeat(MB)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(big.statusCode, 413);
  t.match(big.body, /too large/i);
  const json = await app.inject({ method: 'POST', url: '/scp/tickets/12345678/status', payload: JSON.stringify({ status: 'x'.repeat(MB) }), headers: { 'content-type': 'application/json' } });
  t.equal(json.statusCode, 413);

  const s = streamed(field('email', ''), 20 * MB, end);
  const multipart = await postStream(null, '/tickets/status', s);
  t.equal(multipart.statusCode, 413, 'a multipart body over the limit on a route without uploads');
  t.ok(s.read() < 2 * MB, `read ${s.read()} of ${s.length} bytes`);
});

t.test('an unauthenticated upload is refused before its file is read', async (t) => {
  // No CSRF cookie or token: the portal's open form.
  const anon = streamed(field('name', 'A') + field('email', 'a@example.com') + field('subject', 'S') + field('message', 'M') + fileHead('attachments', 'big.bin'), 30 * MB, end);
  const res = await postStream(null, '/tickets/new', anon);
  t.equal(res.statusCode, 403);
  t.ok(anon.read() < 2 * MB, `portal: read ${anon.read()} of ${anon.length} bytes`);

  // A staff reply without a session and without a token.
  const staff = streamed(field('message', 'M') + fileHead('attachments', 'big.bin'), 30 * MB, end);
  const refused = await postStream(null, '/scp/tickets/12345678/reply', staff);
  t.equal(refused.statusCode, 403);
  t.ok(staff.read() < 2 * MB, `staff: read ${staff.read()} of ${staff.length} bytes`);
});

t.test('a signed-out agent with a valid form: the sign-in page keeps the text, the file is not read', async (t) => {
  const b = new Browser(app);
  await b.get('/scp/login');
  const s = streamed(field('_csrf', b.csrf) + field('message', 'My careful answer') + fileHead('attachments', 'log.txt'), 30 * MB, end);
  const res = await postStream(b, '/scp/tickets/12345678/reply', s);
  t.equal(res.statusCode, 401);
  t.match(res.body, /My careful answer/);
  t.ok(s.read() < 2 * MB, `read ${s.read()} of ${s.length} bytes`);
});

t.test('a file over the cap stops the read: 413, the form again with the values kept', async (t) => {
  const b = new Browser(app);
  await b.get('/tickets/new');
  const before = Number((await services.db.q('tickets').count({ n: '*' }).first())?.n);
  const s = streamed(field('_csrf', b.csrf) + field('name', 'Ada') + field('email', 'ada@example.com') + field('subject', 'Kept subject') + field('message', 'Kept message') + fileHead('attachments', 'huge.iso'), 30 * MB, end);
  const res = await postStream(b, '/tickets/new', s);
  t.equal(res.statusCode, 413);
  t.match(res.body, /huge\.iso: larger than/);
  t.match(res.body, /value="Kept subject"/);
  t.match(res.body, /Kept message/);
  t.ok(s.read() < LIMITS.maxFileBytes + 2 * MB, `read ${s.read()} of ${s.length} bytes`);
  t.equal(Number((await services.db.q('tickets').count({ n: '*' }).first())?.n), before, 'nothing written');
});

t.test('uploads within the caps still work, for visitors and agents', async (t) => {
  const b = new Browser(app);
  await b.get('/tickets/new');
  const ok = await b.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', subject: 'With a file', message: 'Attached.' }, [{ field: 'attachments', filename: 'a.txt', data: Buffer.alloc(LIMITS.maxFileBytes, 98) }]);
  t.equal(ok.statusCode, 302);
  const number = /\/tickets\/(\d+)\//.exec(ok.headers.location as string)![1]!;

  const agent = await createAgent(services);
  const s = new Browser(app);
  await s.staffLogin(agent.username, agent.password);
  await s.get(`/scp/tickets/${number}`);
  const reply = await s.post(`/scp/tickets/${number}/reply`, { message: 'Thanks, see mine.' }, [{ field: 'attachments', filename: 'b.txt', data: Buffer.from('hello') }]);
  t.equal(reply.statusCode, 302);
  const files = await services.db.q('attachments').select('filename');
  t.ok(files.some((f) => f.filename === 'a.txt') && files.some((f) => f.filename === 'b.txt'), 'both files stored');
  // The API's JSON route keeps its larger limit for base64 attachments.
  const { key } = await services.apiKeys.create({ name: 'CRM' });
  const api = await app.inject({
    method: 'POST', url: '/api/tickets.json', headers: { 'x-api-key': key },
    payload: { email: 'api@example.com', subject: 'S', message: 'M', attachments: [{ 'big.txt': `data:text/plain;base64,${Buffer.alloc(LIMITS.maxFileBytes, 99).toString('base64')}` }] },
  });
  t.equal(api.statusCode, 201, 'a JSON body above the ordinary limit is accepted where attachments belong');
});
