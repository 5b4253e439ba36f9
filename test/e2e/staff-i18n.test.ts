import t from 'tap';
import { chromiumSkip as skip, launchBrowser, serveApp } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

t.test('the page scripts speak the agent’s language: lock texts and relative times in Danish', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { base } = await serveApp(t, ctx.services);
  const alice = await createAgent(ctx.services, { name: 'Alice Holder' });
  const bo = await createAgent(ctx.services, { name: 'Bo Dansk' });
  await ctx.services.staff.updatePreferences(bo.principal, { timezone: 'Europe/Copenhagen', language: 'da' }, (code) => ctx.services.i18n.supported(code));
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Printer', message: 'Jams.', source: 'web' });

  const browser = await launchBrowser(t);
  // The browser asks for English: the page's language is the agent's, not the browser's.
  const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/scp/login?next=${encodeURIComponent(`/scp/tickets/${ticket.number}`)}`);
  await page.fill('#f-login', bo.username);
  await page.fill('#f-password', bo.password);
  await Promise.all([page.waitForURL(`**/scp/tickets/${ticket.number}`), page.click('button[type=submit].primary')]);
  t.equal(await page.getAttribute('html', 'lang'), 'da');
  t.equal(await page.textContent('.entry time'), 'lige nu', 'time.js says "just now" from the catalog');

  // Alice takes the lock after Bo's page loaded: Bo's typing asks for it, and the refusal is shown by the script.
  await ctx.services.locks.acquire(alice.principal, ticket.number);
  t.equal(await page.textContent('#lock-status'), '', 'nobody held it when the page was served');
  await page.locator('#f-message').pressSequentially('Hej Rita');
  await page.waitForFunction(() => document.getElementById('lock-status')?.textContent?.includes('Alice Holder'), null, { timeout: 10_000 });
  t.match(await page.textContent('#lock-status'), /^🔒 Alice Holder besvarer denne sag: låst siden \d\d[.:]\d\d .+, indtil \d\d[.:]\d\d .+\.$/);
  t.equal(await page.textContent('#lock-status strong'), 'Alice Holder', 'the name in bold, as on the served page');
  t.same(errors, [], 'no script errors');
});
