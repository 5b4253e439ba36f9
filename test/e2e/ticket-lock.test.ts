import { existsSync } from 'node:fs';
import t from 'tap';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/app.js';
import { createAgent, createTestContext } from '../helpers/context.js';

const CHROMIUM = '/usr/bin/chromium';

t.test('two agents in Chromium: B sees A writing, and B’s send is refused with A’s name and B’s text kept', { skip: existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (.ci/run installs Debian's chromium)` }, async (t) => {
  const { chromium } = await import('playwright-core');
  const ctx = await createTestContext(t);
  const app = await buildApp(ctx.services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const a = await createAgent(ctx.services, { name: 'Alice Writer' });
  const b = await createAgent(ctx.services, { name: 'Bob Latecomer' });
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'VPN down', message: 'Cannot connect.', source: 'web' });

  // launch() gives the browser a fresh temporary profile of its own (it refuses --user-data-dir); the two
  // agents get separate contexts in it, each with its own cookies, like two private windows.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());

  async function signIn(username: string, password: string) {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Failed requests are asserted where they matter (the 409); script errors and CSP refusals never are fine.
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
    await page.goto(`${base}/scp/login?next=${encodeURIComponent(`/scp/tickets/${ticket.number}`)}`);
    await page.fill('#f-login', username);
    await page.fill('#f-password', password);
    await Promise.all([page.waitForURL(`**/scp/tickets/${ticket.number}`), page.click('button[type=submit].primary')]);
    return { page, errors };
  }

  const alice = await signIn(a.username, a.password);
  const bob = await signIn(b.username, b.password);
  t.equal(await bob.page.textContent('#lock-status'), '', 'nobody holds the lock yet');

  await alice.page.locator('#f-message').pressSequentially('Hi Rita, ');
  await alice.page.waitForFunction(() => document.getElementById('lock-status')?.textContent?.includes('You are answering'), null, { timeout: 10_000 });
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'typing took the lock');

  await bob.page.locator('#f-message').pressSequentially('Hello from Bob');
  await bob.page.waitForFunction(() => document.getElementById('lock-status')?.textContent?.includes('Alice Writer'), null, { timeout: 10_000 });
  t.match(await bob.page.textContent('#lock-status'), /Alice Writer is answering this ticket: locked since \d\d:\d\d UTC, until \d\d:\d\d UTC/, 'B sees A’s name');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'B typing did not take it');

  const [response] = await Promise.all([bob.page.waitForResponse((r) => r.url().endsWith('/reply') && r.request().method() === 'POST'), bob.page.click('#reply button[type=submit]')]);
  t.equal(response.status(), 409);
  await bob.page.waitForLoadState();
  t.match(await bob.page.textContent('[role=alert]'), /Alice Writer is working on this ticket/, 'the refusal names A');
  t.equal(await bob.page.inputValue('#f-message'), 'Hello from Bob', 'B’s text is still there');
  t.equal((await ctx.services.tickets.view(a.principal, ticket.number)).entries.length, 1, 'nothing posted');

  // Alice sees Bob among the viewers once her page polls.
  await alice.page.waitForFunction(() => document.getElementById('lock-viewers')?.textContent?.includes('Bob Latecomer'), null, { timeout: 20_000 });
  t.same([...alice.errors, ...bob.errors], [], 'no script errors or CSP violations');
});
