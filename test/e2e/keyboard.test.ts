import t from 'tap';
import { chromiumSkip as skip, launchBrowser, serveApp, signInStaff } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

t.test('keyboard: j/k and Enter in a queue, r/n/a on a ticket, ? lists them, nothing while typing', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { base } = await serveApp(t, ctx.services);
  const agent = await createAgent(ctx.services, { name: 'Kim Keys' });
  const numbers: string[] = [];
  for (const subject of ['First', 'Second', 'Third']) {
    numbers.push((await ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject, message: 'Help', source: 'web' })).ticket.number);
  }

  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signInStaff(page, base, agent);

  const focusedSubject = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.textContent ?? '');
  // Newest activity first: Third, Second, First.
  await page.keyboard.press('j');
  t.equal(await focusedSubject(), 'Third', 'j: the first row');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  t.equal(await focusedSubject(), 'First', 'j stops at the last row');
  await page.keyboard.press('k');
  t.equal(await focusedSubject(), 'Second', 'k: back up');
  t.equal(await page.locator('tr.kb-current').count(), 1, 'one row marked');

  await page.keyboard.press('?');
  t.ok(await page.locator('#keys-help').evaluate((d) => (d as HTMLDialogElement).open), '? opens the list');
  t.match(await page.textContent('#keys-help'), 'Next and previous ticket in a queue');
  await page.keyboard.press('j');
  t.equal(await focusedSubject(), 'Close', 'keys do not act behind the open list (focus stays in it)');
  await page.keyboard.press('Escape');
  t.notOk(await page.locator('#keys-help').evaluate((d) => (d as HTMLDialogElement).open), 'Escape closes it');

  await page.keyboard.press('/');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'q', '/ goes to the search box');
  await page.keyboard.type('jk?');
  t.equal(await page.inputValue('#q'), 'jk?', 'typing in a field types');
  t.notOk(await page.locator('#keys-help').evaluate((d) => (d as HTMLDialogElement).open));

  await page.goto(`${base}/scp/tickets`);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await Promise.all([page.waitForURL(`**/scp/tickets/${numbers[1]}`), page.keyboard.press('Enter')]);

  await page.keyboard.press('r');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'f-message', 'r: the response');
  await page.keyboard.type('an answer with n and a');
  t.equal(await page.inputValue('#f-message'), 'an answer with n and a', 'letters typed in the response stay there');
  await page.locator('#f-message').evaluate((el) => (el as HTMLElement).blur());
  await page.keyboard.press('n');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'f-note', 'n: the note');
  await page.locator('#f-note').evaluate((el) => (el as HTMLElement).blur());
  await page.keyboard.press('a');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'f-assigneeId', 'a: the assignee');
  await page.locator('#f-assigneeId').evaluate((el) => (el as HTMLElement).blur());
  t.same(errors, [], 'no script errors');
});

t.test('the list of shortcuts is in the agent’s language', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { base } = await serveApp(t, ctx.services);
  const agent = await createAgent(ctx.services);
  await ctx.services.staff.updatePreferences(agent.principal, { timezone: 'Europe/Tallinn', language: 'et' }, (code) => ctx.services.i18n.supported(code));
  const browser = await launchBrowser(t);
  const page = await (await browser.newContext()).newPage();
  await signInStaff(page, base, agent);
  await page.keyboard.press('?');
  t.match(await page.textContent('#keys-help h2'), 'Kiirklahvid');
  t.match(await page.textContent('#keys-help'), 'Järgmine ja eelmine pöördumine järjekorras');
});
