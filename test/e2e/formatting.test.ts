import t from 'tap';
import { chromiumSkip as skip, launchBrowser, serveApp } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

/** A 1×1 PNG, as the clipboard hands over a screenshot. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

t.test('in Chromium: the preview in place, and a pasted image that becomes an attachment shown inline', { skip }, async (t) => {
  const ctx = await createTestContext(t);
  const { base } = await serveApp(t, ctx.services);
  const agent = await createAgent(ctx.services, { name: 'Grace Hopper' });
  const { ticket } = await ctx.services.tickets.create(null, { name: 'Rita', email: 'rita@example.com', subject: 'Screen flickers', message: 'It flickers.', source: 'web' });
  const ticketUrl = `${base}/scp/tickets/${ticket.number}`;

  const browser = await launchBrowser(t);
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/scp/login?next=${encodeURIComponent(`/scp/tickets/${ticket.number}`)}`);
  await page.fill('#f-login', agent.username);
  await page.fill('#f-password', agent.password);
  await Promise.all([page.waitForURL(ticketUrl), page.click('button[type=submit].primary')]);

  // The preview asks the server for the HTML and shows it without leaving the page.
  await page.locator('#f-message').fill('**Try** this:\n\n- unplug the *cable*');
  const toggle = page.locator('#reply [data-format-toggle]');
  const [previewed] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/preview')), toggle.click()]);
  t.equal(previewed.status(), 200);
  const preview = page.locator('#preview-reply .format-preview-body');
  await preview.locator('strong').waitFor();
  t.equal(await preview.locator('strong').textContent(), 'Try');
  t.equal(await preview.locator('li em').textContent(), 'cable');
  t.equal(page.url(), ticketUrl, 'still the same page');
  t.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await toggle.click();
  t.ok(await page.locator('#preview-reply').isHidden(), 'pressed again, the preview goes');

  // Pasting an image: a file of the form, and a reference in the text where the cursor was.
  await page.locator('#f-message').focus();
  await page.evaluate((b64) => {
    const box = document.getElementById('f-message') as HTMLTextAreaElement;
    box.setSelectionRange(box.value.length, box.value.length);
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, PNG_BASE64);
  const files = await page.evaluate(() => Array.from((document.getElementById('f-attachments') as HTMLInputElement).files ?? []).map((f) => f.name));
  t.equal(files.length, 1, 'the image is an attachment of the form');
  const name = files[0]!;
  t.match(name, /^image-[a-z0-9-]+\.png$/);
  t.match(await page.inputValue('#f-message'), `\n![${name}](cid:${name})`, 'and referred to in the text');

  // The preview shows the pasted file itself.
  await toggle.click();
  const shown = preview.locator('img');
  await shown.waitFor();
  t.match(await shown.getAttribute('src'), /^data:image\/png;base64,/);

  await Promise.all([page.waitForURL(ticketUrl), page.click('#reply button[type=submit].primary')]);
  const inline = page.locator('.entry-response .entry-html img');
  await inline.waitFor();
  t.match(await inline.getAttribute('src'), new RegExp(`^/scp/tickets/${ticket.number}/attachments/\\d+/image$`), 'in the thread through the attachment route');
  t.ok(await page.waitForFunction(() => (document.querySelector('.entry-response .entry-html img') as HTMLImageElement | null)?.naturalWidth === 1, null, { timeout: 10_000 }), 'and loaded');
  t.equal(await page.locator('.entry-response .entry-html strong').textContent(), 'Try', 'the text formatted');
  t.same(errors, [], 'no script errors or CSP violations');
});
