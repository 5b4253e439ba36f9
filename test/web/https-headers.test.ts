import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

t.test('with an https PUBLIC_URL: HSTS on every answer, session and flash cookies Secure', async (t) => {
  const ctx = await createTestContext(t, { publicUrl: 'https://helpdesk.test' });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const b = new Browser(app);
  for (const url of ['/', '/scp/login', '/healthz']) t.match((await b.get(url)).headers['strict-transport-security'], /^max-age=\d{7,}/, url);
  const login = await b.staffLogin(agent.username, agent.password);
  const cookie = (name: string, res: typeof login) => (res.cookies as Array<{ name: string; secure?: boolean }>).find((c) => c.name === name);
  t.equal(cookie('sb_staff', login)?.secure, true, 'session cookie Secure');
  const out = await b.post('/scp/logout', {});
  t.equal(cookie('sb_flash', out)?.secure, true, 'flash cookie Secure');
});

t.test('with an http PUBLIC_URL (a trial on localhost): no HSTS', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  t.notOk((await app.inject({ url: '/scp/login' })).headers['strict-transport-security']);
});
