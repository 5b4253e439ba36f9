import t from 'tap';
import { chromiumSkip as skip, launchBrowser, serveApp, signInStaff } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { toDbTime } from '../../src/db/time.js';

t.test('canned picker: type to filter by title, insert at the cursor, unknown variables shown', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { services } = ctx;
  const { base } = await serveApp(t, services);
  const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
  const agent = await createAgent(services, { name: 'Pia Picker' });
  await services.canned.create(admin.principal, 'shared', { title: 'Greeting', body: 'Hello {requester.name}' });
  await services.canned.create(admin.principal, 'shared', { title: 'Reset steps', body: '[reset #{ticket.number}]' }, [{ filename: 'reset.pdf', contentType: 'application/pdf', data: Buffer.from('steps') }]);
  await services.canned.create(agent.principal, 'personal', { title: 'Sign-off', body: 'Cheers, {agent.name}' });
  const now = toDbTime(ctx.clock.now());
  await services.db.q('canned_responses').insert({ title: 'Legacy order', body: 'Order {order.id}', created_at: now, updated_at: now });
  const { ticket } = await services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Printer', message: 'Help', source: 'web' });

  const browser = await launchBrowser(t);
  const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signInStaff(page, base, agent);
  await page.goto(`${base}/scp/tickets/${ticket.number}`);

  t.ok(await page.isVisible('#canned-search'), 'the search box replaces the select');
  t.notOk(await page.isVisible('#f-cannedId'), 'the no-script select is hidden');
  t.notOk(await page.isVisible('button[name="insertCanned"]'));

  // The cursor between the two lines the agent typed.
  await page.fill('#f-message', 'Before.\nAfter.');
  await page.locator('#f-message').evaluate((el) => (el as HTMLTextAreaElement).setSelectionRange(8, 8));

  await page.click('#canned-search');
  t.equal(await page.locator('#canned-options [role=option]').count(), 4, 'every usable response offered');
  await page.keyboard.type('RES');
  t.same(await page.locator('#canned-options [role=option]').allTextContents(), ['Reset steps'], 'filtered by title, ignoring case');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => (document.getElementById('f-message') as HTMLTextAreaElement).value.includes('[reset'));
  t.equal(await page.inputValue('#f-message'), `Before.\n[reset #${ticket.number}]After.`, 'inserted at the cursor, variables filled in');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'f-message', 'back in the reply, to go on writing');
  t.ok(await page.isVisible('input[name="cannedFile"]:checked'), 'the response’s file is carried, ticked');
  t.match(await page.textContent('[data-canned-files]'), 'reset.pdf');
  t.equal(await page.evaluate(() => (document.getElementById('f-message') as HTMLTextAreaElement).selectionStart), 8 + `[reset #${ticket.number}]`.length, 'the cursor after the inserted text');

  await page.click('#canned-search');
  await page.keyboard.type('zzz');
  t.match(await page.textContent('#canned-options'), 'No response matches.');
  await page.fill('#canned-search', 'sign');
  await page.click('#canned-options [role=option]');
  await page.waitForFunction(() => (document.getElementById('f-message') as HTMLTextAreaElement).value.includes('Cheers'));
  t.match(await page.inputValue('#f-message'), 'Cheers, Pia Picker', 'chosen with the mouse');
  t.notOk(await page.isVisible('.canned-warning'), 'no warning for known variables');

  await page.fill('#canned-search', 'legacy');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => (document.getElementById('f-message') as HTMLTextAreaElement).value.includes('Order'));
  t.ok(await page.isVisible('.canned-warning'), 'the unknown variable is shown');
  t.match(await page.textContent('.canned-warning'), '{order.id} is not a variable');

  // Enter in the search box picks; it never sends the reply.
  t.equal((await services.outbox.forTicket(ticket.id)).filter((m) => m.kind === 'response').length, 0, 'nothing sent');
  t.same(errors, [], 'no script errors');
});
