import t from 'tap';
import { chromiumSkip as skip, launchBrowser, serveApp, signInStaff } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

t.test('bulk selection: "select all", x on the current row, the action, the confirmation and the summary', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { base } = await serveApp(t, ctx.services);
  const agent = await createAgent(ctx.services, { name: 'Kim Keys' });
  const create = (subject: string) => ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject, message: 'Help', source: 'web' });
  const numbers = [(await create('First')).ticket.number, (await create('Second')).ticket.number, (await create('Third')).ticket.number];

  const page = await (await (await launchBrowser(t)).newContext({ locale: 'en-US' })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signInStaff(page, base, agent);

  const ticked = () => page.$$eval('input[name=tickets]', (boxes) => boxes.filter((b) => (b as HTMLInputElement).checked).length);
  const all = page.locator('#bulk-all');
  await all.check();
  t.equal(await ticked(), 3, '"select all" ticks every row');
  await all.uncheck();
  t.equal(await ticked(), 0, 'and clears them');

  // Newest activity first: Third, Second, First. x ticks the current row; again clears it.
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  t.equal(await ticked(), 1, 'x ticks the current row');
  t.ok(await page.locator(`input[name=tickets][value="${numbers[2]}"]`).isChecked(), 'the first row (Third)');
  t.ok(await all.evaluate((el) => (el as HTMLInputElement).indeterminate), '"select all" shows that some are ticked');
  await page.keyboard.press('x');
  t.equal(await ticked(), 0, 'x again clears it');
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  t.equal(await ticked(), 2, 'two rows ticked from the keyboard');
  t.notOk(await all.isChecked(), '"select all" stays clear, so only the ticked rows are sent');

  await page.selectOption('#f-action', 'status:resolved');
  await Promise.all([page.waitForURL('**/scp/tickets/bulk'), page.click('.bulk-bar button[type=submit]')]);
  t.match(await page.textContent('.bulk-what'), 'Change 2 tickets: set the status to Resolved');
  t.match(await page.textContent('.bulk-targets'), 'Third');
  t.match(await page.textContent('.bulk-targets'), 'Second');
  t.notMatch(await page.textContent('.bulk-targets'), 'First');
  t.equal((await ctx.services.tickets.findByNumber(numbers[2]!))?.status, 'open', 'nothing changed before the confirmation');

  await Promise.all([page.waitForURL('**/scp/tickets/bulk/confirm'), page.click('button.primary')]);
  t.match(await page.textContent('.bulk-counts'), '2 tickets changed');
  t.equal((await ctx.services.tickets.findByNumber(numbers[2]!))?.status, 'resolved');
  t.equal((await ctx.services.tickets.findByNumber(numbers[1]!))?.status, 'resolved');
  t.equal((await ctx.services.tickets.findByNumber(numbers[0]!))?.status, 'open');

  await Promise.all([page.waitForURL('**/scp/tickets*'), page.click('text=Back to the queue')]);
  t.equal(await page.locator('input[name=tickets]').count(), 1, 'the queue now holds the one left open');
  t.same(errors, [], 'no script errors');
});
