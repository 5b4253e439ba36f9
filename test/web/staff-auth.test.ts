import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

t.test('staff login, session cookie and logout', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services, { name: 'Grace Hopper' });
  const b = new Browser(app);

  const anon = await b.get('/scp/tickets');
  t.equal(anon.statusCode, 302);
  t.match(anon.headers.location, /^\/scp\/login\?next=/);

  const res = await b.staffLogin(agent.username, agent.password);
  t.equal(res.statusCode, 302);
  const cookie = res.cookies.find((c: { name: string }) => c.name === 'sb_staff') as { httpOnly?: boolean; sameSite?: string; path?: string };
  t.ok(cookie?.httpOnly, 'session cookie is HttpOnly');
  t.equal(cookie?.sameSite, 'Lax');
  const page = await b.get('/scp/tickets');
  t.equal(page.statusCode, 200);
  t.match(page.body, 'Grace Hopper');
  t.match(page.headers['content-security-policy'], "script-src 'self'");

  await b.post('/scp/logout', {});
  t.equal((await b.get('/scp/tickets')).statusCode, 302, 'signed out');
});

t.test('a form without a valid CSRF token is refused and changes nothing', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  await b.get('/scp/login');
  const res = await b.post('/scp/login', { login: agent.username, password: agent.password, _csrf: 'forged' });
  t.equal(res.statusCode, 403);
  t.notOk(b.cookies.has('sb_staff'), 'no session started');

  await b.staffLogin(agent.username, agent.password);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web' });
  const noToken = await b.app.inject({ method: 'POST', url: `/scp/tickets/${ticket.number}/note`, payload: 'note=sneaky', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  t.equal(noToken.statusCode, 403);
  t.notMatch(noToken.body, /at .*\.ts:\d+/, 'no stack trace');
  t.equal((await ctx.services.tickets.view(agent.principal, ticket.number)).entries.length, 1, 'nothing written');
});

t.test('login throttling blocks after repeated failures and says when to retry', async (t) => {
  const ctx = await createTestContext(t, { login: { maxFailures: 5, windowMinutes: 15 } });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  await b.get('/scp/login');
  for (let i = 0; i < 5; i++) t.equal((await b.post('/scp/login', { login: agent.username, password: 'wrong password' })).statusCode, 401);
  const blocked = await b.post('/scp/login', { login: agent.username, password: agent.password });
  t.equal(blocked.statusCode, 429, 'even the right password is refused while blocked');
  t.match(blocked.body, /try again/i);
  ctx.clock.advance(16 * 60_000);
  t.equal((await b.post('/scp/login', { login: agent.username, password: agent.password })).statusCode, 302, 'allowed after the window');
});

t.test('first-run setup link creates the administrator once', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const token = await ctx.services.setup.issueToken();
  t.ok(token);
  const b = new Browser(app);
  t.equal((await b.get('/scp/setup?token=wrong')).statusCode, 404);
  t.equal((await b.get(`/scp/setup?token=${token}`)).statusCode, 200);
  const bad = await b.post('/scp/setup', { token: token!, name: 'Admin', email: 'nope', username: 'admin', password: 'short', password2: 'short' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, 'value="Admin"', 'form refilled');
  t.match(bad.body, /valid e-mail/);
  const ok = await b.post('/scp/setup', { token: token!, name: 'Admin', email: 'admin@example.com', username: 'admin', password: 'long enough password', password2: 'long enough password', timezone: 'Europe/Berlin' });
  t.equal(ok.statusCode, 302);
  t.equal((await b.get('/scp/tickets')).statusCode, 200, 'signed in as the new admin');
  t.equal((await new Browser(app).get(`/scp/setup?token=${token}`)).statusCode, 404, 'link is spent');
});
