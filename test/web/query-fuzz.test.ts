import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Thousands of requests: more than the default timeout on a loaded machine or MariaDB.
t.setTimeout(600_000);

/** Every GET route with its parameters filled in, read from Fastify's own route tree. */
function getRoutes(app: FastifyInstance, params: Record<string, string>): string[] {
  const tree = app.printRoutes({ commonPrefix: false, method: 'GET' });
  const stack: string[] = [];
  const out = new Set<string>();
  for (const line of tree.split('\n')) {
    const m = /^([│├└─\s]*)(\S+) \(GET/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[2] === '*') continue;
    out.add(stack.join('').replace(/:(\w+)/g, (_all, name: string) => params[name] ?? '1'));
  }
  return [...out];
}

const KEYS = ['next', 'queue', 'dept', 'sort', 'dir', 'cursor', 'number', 'reply', 'status', 'before', 't', 'token', 'images', 'q'];

/**
 * Hostile query strings: repeated keys, array syntax, non-ASCII, overlong, broken percent-encoding. Each
 * value goes into every key at once (routes read different keys), and each key is also repeated on its own.
 */
function hostileQueries(): string[] {
  const values = [
    '%E2%80%AE%C3%A9', // non-ASCII (bidi override, é)
    '%C3%28', // invalid UTF-8
    '%', '%ZZ', '%E0%A4%A', // malformed percent-encoding
    '/scp/%0d%0aSet-Cookie:%20x=1', // header injection attempt
    '//evil.example/', '/scp/\\evil', 'https://evil.example/',
    `/${'a'.repeat(9000)}`, // overlong
    '%00', '',
  ];
  const all = (f: (key: string) => string) => KEYS.map(f).join('&');
  const out = values.map((v) => all((k) => `${k}=${v}`));
  out.push(all((k) => `${k}=/scp/a&${k}=/scp/b`), all((k) => `${k}[]=x`), all((k) => `${k}[a]=b`), all((k) => k));
  for (const k of KEYS) out.push(`${k}=/scp/a&${k}=%E2%80%AE`);
  out.push('__proto__=x', 'constructor[prototype]=x', '&&&=&=', '%=%');
  return out;
}

t.test('no query string gives a 5xx on any GET route, signed out, as agent or as client', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const admin = await createAgent(ctx.services, { admin: true });
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web' });
  const routes = getRoutes(app, { number: ticket.number, id: '1' });
  t.ok(routes.includes('/scp/login') && routes.includes('/tickets/status') && routes.length > 20, `routes found: ${routes.length}`);

  const anon = new Browser(app);
  const staff = new Browser(app);
  t.equal((await staff.staffLogin(admin.username, admin.password)).statusCode, 302);
  const client = new Browser(app);
  await client.get(ctx.services.tickets.accessLink(ticket).replace('http://helpdesk.test', ''));
  t.ok(client.cookies.has('sb_client'), 'client signed in through the access link');

  const failures: string[] = [];
  const queries = hostileQueries();
  for (const route of routes) {
    for (const q of queries) {
      // Signed out everywhere; signed in where that session counts (staff under /scp, clients elsewhere).
      const signedIn = route.startsWith('/scp') ? (['staff', staff] as const) : (['client', client] as const);
      for (const [who, b] of [['anon', anon], signedIn] as const) {
        const res = await b.get(`${route}?${q}`);
        if (res.statusCode >= 500) failures.push(`${who} GET ${route}?${q.slice(0, 60)} -> ${res.statusCode}`);
        const location = String(res.headers.location ?? '');
        if (location && !location.startsWith('/')) failures.push(`${who} GET ${route}?${q.slice(0, 60)} redirects off-site to ${location.slice(0, 60)}`);
      }
    }
  }
  t.same(failures.slice(0, 20), [], `${failures.length} failures`);
});

t.test('login `next` accepts only same-panel relative paths', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const cases: Array<[string, string]> = [
    ['/scp/tickets?queue=mine', '/scp/tickets?queue=mine'],
    ['//evil.example/scp', '/scp/'],
    ['/scp/../../evil', '/scp/'],
    ['/scp/%E2%80%AE', '/scp/%E2%80%AE'],
    ['https://evil.example/scp', '/scp/'],
    ['/scp\\evil', '/scp/'],
    ['/scp/é', '/scp/'],
  ];
  for (const [next, expected] of cases) {
    const b = new Browser(app);
    await b.get(`/scp/login?next=${encodeURIComponent(next)}`);
    const res = await b.post('/scp/login', { login: agent.username, password: agent.password, next });
    t.equal(res.statusCode, 302, next);
    t.equal(res.headers.location, expected, `next=${next}`);
  }
});
