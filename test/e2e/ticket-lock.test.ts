import t, { type Test } from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { chromiumSkip as skip, launchBrowser, serveApp } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

/** The app on a real port, two agents, a ticket, and Chromium with a signed-in page per agent. */
async function twoAgents(t: Test, names: [string, string], subject: string) {
  const ctx = await createTestContext(t);
  const { app, base } = await serveApp(t, ctx.services);
  // Beacons the server has answered: a leave, or a draft saved on the way to another page of the ticket. The
  // page script's fetches carry the CSRF token in a header; a beacon cannot, so it sends it in the body.
  let beaconsAnswered = 0;
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && !req.headers['x-csrf-token'] && /\/(leave|draft)$/.test(req.url ?? '')) res.on('finish', () => beaconsAnswered++);
  });

  const a = await createAgent(ctx.services, { name: names[0] });
  const b = await createAgent(ctx.services, { name: names[1] });
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject, message: 'Cannot connect.', source: 'web' });
  const ticketUrl = `${base}/scp/tickets/${ticket.number}`;

  // launch() gives the browser a fresh temporary profile of its own (it refuses --user-data-dir); the two
  // agents get separate contexts in it, each with its own cookies, like two private windows.
  const browser = await launchBrowser(t);

  const tabs: Page[] = [];
  /** Every beacon sent from any agent's tab has been answered by the server. */
  const beaconsLanded = async () =>
    (await Promise.all(tabs.map((p) => p.evaluate(() => Number(sessionStorage.getItem('beaconsSent') ?? 0))))).reduce((x, y) => x + y, 0) === beaconsAnswered;

  async function signIn(username: string, password: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Failed requests are asserted where they matter (the 409); script errors and CSP refusals never are fine.
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
    // Counts the beacons this tab's pages send (sessionStorage outlives each page of the tab), so a test can
    // wait until the server has answered as many: Chromium reports no request for the beacon of a page being
    // left, neither to Playwright nor in the tab's network log.
    await context.addInitScript(() => {
      const send = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url: string | URL, data?: BodyInit | null) => {
        sessionStorage.setItem('beaconsSent', String(Number(sessionStorage.getItem('beaconsSent') ?? 0) + 1));
        return send(url, data);
      };
    });
    await page.goto(`${base}/scp/login?next=${encodeURIComponent(`/scp/tickets/${ticket.number}`)}`);
    await page.fill('#f-login', username);
    await page.fill('#f-password', password);
    await Promise.all([page.waitForURL(`**/scp/tickets/${ticket.number}`), page.click('button[type=submit].primary')]);
    tabs.push(page);
    return { page, errors };
  }

  return { ctx, ticket, ticketUrl, a, b, beaconsLanded, alice: await signIn(a.username, a.password), signIn: () => signIn(b.username, b.password) };
}

/** Polls `check` until it holds, for at most `ms`; false if it never did. A page between documents counts as not yet. */
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  const holds = async () => { try { return await check(); } catch { return false; } };
  while (Date.now() < end) {
    if (await holds()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return holds();
}

t.test('two agents in Chromium: B sees A writing, and B’s send is refused with A’s name and B’s text kept', { skip }, async (t) => {
  const { ctx, ticket, a, alice, signIn } = await twoAgents(t, ['Alice Writer', 'Bob Latecomer'], 'VPN down');
  const bob = await signIn();
  t.equal(await bob.page.textContent('#lock-status'), '', 'nobody holds the lock yet');

  await alice.page.locator('#f-message').pressSequentially('Hi Rita, ');
  await alice.page.waitForFunction(() => document.getElementById('lock-status')?.textContent?.includes('You are answering'), null, { timeout: 10_000 });
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'typing took the lock');
  t.ok(await alice.page.locator('#take-lock').isHidden(), '"Start a reply" goes once the agent holds the lock');

  await bob.page.locator('#f-message').pressSequentially('Hello from Bob');
  await bob.page.waitForFunction(() => document.getElementById('lock-status')?.textContent?.includes('Alice Writer'), null, { timeout: 10_000 });
  t.match(await bob.page.textContent('#lock-status'), /Alice Writer is answering this ticket: locked since \d\d:\d\d UTC, until \d\d:\d\d UTC/, 'B sees A’s name');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'B typing did not take it');

  const [response] = await Promise.all([bob.page.waitForResponse((r) => r.url().endsWith('/reply') && r.request().method() === 'POST'), bob.page.click('#reply button[type=submit].primary')]);
  t.equal(response.status(), 409);
  await bob.page.waitForLoadState();
  t.match(await bob.page.textContent('[role=alert]'), /Alice Writer is working on this ticket/, 'the refusal names A');
  t.equal(await bob.page.inputValue('#f-message'), 'Hello from Bob', 'B’s text is still there');
  t.equal((await ctx.services.tickets.view(a.principal, ticket.number)).entries.length, 1, 'nothing posted');

  // Alice sees Bob among the viewers once her page polls.
  await alice.page.waitForFunction(() => document.getElementById('lock-viewers')?.textContent?.includes('Bob Latecomer'), null, { timeout: 20_000 });
  t.same([...alice.errors, ...bob.errors], [], 'no script errors or CSP violations');
});

t.test('A presses "Start a reply" and keeps the lock: B, arriving after A’s page settled, is refused with A’s name and B’s text kept', { skip }, async (t) => {
  const { ctx, ticket, ticketUrl, a, alice, signIn, beaconsLanded } = await twoAgents(t, ['Alice Starter', 'Bob Follower'], 'Printer on fire');

  // Settled: A's page is loaded and shows `text`, and the server has answered every beacon sent so far.
  const settled = (text: string) => until(async () =>
    (await alice.page.evaluate((s) => document.readyState === 'complete' && Boolean(document.body.textContent?.includes(s)), text)) && (await beaconsLanded()));

  // Whatever the control is, pressing it is the agent's whole action; any navigation and the leave beacon
  // of a page being left happen on their own.
  await alice.page.getByText('Start a reply', { exact: true }).click();
  t.ok(await settled('You are answering this ticket'), 'A’s page settled, showing A answering');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'A holds the lock after the page settled');
  t.ok(await alice.page.locator('#take-lock').isHidden(), 'the control is gone while A answers');
  t.ok(await alice.page.evaluate(() => document.activeElement?.id === 'f-message'), 'the reply box has the focus');

  const bob = await signIn();
  await bob.page.goto(ticketUrl);
  t.match(await bob.page.textContent('#lock-status'), /Alice Starter is answering this ticket/, 'B sees A’s name');
  t.ok(await bob.page.locator('#take-lock').isHidden(), 'B is offered no "Start a reply"');
  await bob.page.locator('#f-message').fill('Bob’s answer, typed anyway');
  const [response] = await Promise.all([bob.page.waitForResponse((r) => r.url().endsWith('/reply') && r.request().method() === 'POST'), bob.page.click('#reply button[type=submit].primary')]);
  t.equal(response.status(), 409, 'B’s send is refused');
  await bob.page.waitForLoadState();
  t.match(await bob.page.textContent('[role=alert]'), /Alice Starter is working on this ticket/, 'the refusal names A');
  t.equal(await bob.page.inputValue('#f-message'), 'Bob’s answer, typed anyway', 'B’s text is kept on the page');
  t.equal((await ctx.services.tickets.view(a.principal, ticket.number)).entries.length, 1, 'nothing posted');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'A still holds the lock');

  // A changes the priority: the page is replaced by the ticket again, and A is still answering.
  await alice.page.selectOption('#f-priority', '3');
  await Promise.all([alice.page.waitForURL(ticketUrl), alice.page.getByRole('button', { name: 'Save changes' }).click()]);
  t.ok(await settled('Ticket updated.'), 'A’s page settled after saving');
  t.equal((await ctx.services.locks.liveLock(ticket.id))?.staffId, a.principal.staffId, 'A keeps the lock through a change of the ticket');

  // A leaves for the queue: the page's beacon names its lock and releases it.
  await alice.page.goto(ticketUrl.replace(/\/tickets\/.*$/, '/tickets'));
  t.ok(await until(async () => (await beaconsLanded()) && (await ctx.services.locks.liveLock(ticket.id)) === null), 'leaving the ticket released A’s lock');
  t.same([...alice.errors, ...bob.errors], [], 'no script errors or CSP violations');
});
