import t from 'tap';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

// Many argon2 sign-ins and a fresh database per test: more than the default on a loaded machine or MariaDB.
t.setTimeout(600_000);

const signedIn = async (b: Browser) => (await b.get('/scp/tickets')).statusCode === 200;

t.test('an administrator resetting a password ends the agent’s sessions; a deactivation ends all of them', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const admin = await createAgent(ctx.services, { admin: true });
  const agent = await createAgent(ctx.services, { name: 'Ann Agent' });
  const a = new Browser(app);
  await a.staffLogin(admin.username, admin.password);
  const b = new Browser(app);
  await b.staffLogin(agent.username, agent.password);
  t.ok(await signedIn(b));

  const support = await ctx.services.departments.ensure('Support');
  const edit = (extra: Record<string, string>) => a.get(`/scp/admin/staff/${agent.principal.staffId}`).then(() =>
    a.post(`/scp/admin/staff/${agent.principal.staffId}`, { name: 'Ann Agent', email: `${agent.username}@staff.test`, timezone: 'UTC', dept: [String(support.id)], ...extra }));
  t.equal((await edit({ isActive: '1', password: 'a brand new password' })).statusCode, 302);
  t.notOk(await signedIn(b), 'the agent’s session ended with the password reset');
  t.ok(await signedIn(a), 'the administrator stays signed in');

  await b.staffLogin(agent.username, 'a brand new password');
  t.ok(await signedIn(b));
  t.equal((await edit({})).statusCode, 302, 'deactivated');
  t.equal((await edit({ isActive: '1' })).statusCode, 302, 'and active again');
  t.notOk(await signedIn(b), 'the session from before the deactivation does not come back');
});

t.test('changing my own password keeps this session and ends the others; the current password is asked for', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const here = new Browser(app);
  const elsewhere = new Browser(app);
  await here.staffLogin(agent.username, agent.password);
  await elsewhere.staffLogin(agent.username, agent.password);
  await here.get('/scp/preferences');
  const wrong = await here.post('/scp/preferences/password', { current: 'not it at all', password: 'another long password', password2: 'another long password' });
  t.equal(wrong.statusCode, 400);
  t.match(wrong.body, /not your current password/);
  t.ok(await signedIn(elsewhere), 'nothing changed');

  await here.get('/scp/preferences');
  const ok = await here.post('/scp/preferences/password', { current: agent.password, password: 'another long password', password2: 'another long password' });
  t.equal(ok.statusCode, 302);
  t.ok(await signedIn(here), 'this session stays');
  t.notOk(await signedIn(elsewhere), 'the other session ended');
  t.equal((await new Browser(app).staffLogin(agent.username, 'another long password')).statusCode, 302, 'the new password works');
});

t.test('"sign out everywhere" ends every session of the agent, and needs the CSRF token', async (t) => {
  const ctx = await createTestContext(t);
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const other = await createAgent(ctx.services);
  const [b1, b2, b3] = [new Browser(app), new Browser(app), new Browser(app)];
  await b1.staffLogin(agent.username, agent.password);
  await b2.staffLogin(agent.username, agent.password);
  await b3.staffLogin(other.username, other.password);
  await b1.get('/scp/preferences');
  t.equal((await b1.post('/scp/preferences/sign-out-everywhere', { _csrf: 'forged' })).statusCode, 403);
  t.ok(await signedIn(b2));
  await b1.get('/scp/preferences');
  const res = await b1.post('/scp/preferences/sign-out-everywhere', {});
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, '/scp/login');
  t.notOk(await signedIn(b1));
  t.notOk(await signedIn(b2));
  t.ok(await signedIn(b3), 'another agent is not affected');
});

t.test('a session ends after the absolute lifetime however active it is, for staff and clients', async (t) => {
  const ctx = await createTestContext(t, { sessions: { staffIdleMinutes: 480, clientIdleMinutes: 1440, absoluteDays: 7 } });
  const app = await createTestApp(t, ctx);
  const agent = await createAgent(ctx.services);
  const staff = new Browser(app);
  await staff.staffLogin(agent.username, agent.password);
  const { ticket } = await ctx.services.tickets.create(null, { name: 'R', email: 'r@example.com', subject: 'S', message: 'M', source: 'web' });
  const client = new Browser(app);
  await client.get(ctx.services.tickets.accessLink(ticket).replace('http://helpdesk.test', ''));
  const clientIn = async () => (await client.get(`/tickets/${ticket.number}`)).statusCode === 200;
  t.ok(await clientIn());
  // Busy every six hours, so the idle limit never ends either session.
  for (let hours = 6; hours < 7 * 24; hours += 6) {
    ctx.clock.advance(6 * 3600_000);
    if (!(await signedIn(staff)) || !(await clientIn())) {
      t.fail(`ended early, after ${hours} h`);
      return;
    }
  }
  ctx.clock.advance(6 * 3600_000);
  t.notOk(await signedIn(staff), 'staff session over after 7 days');
  t.notOk(await clientIn(), 'client session over after 7 days');
});
