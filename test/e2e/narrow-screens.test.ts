import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test as Tap } from 'tap';
import type { Page } from 'playwright-core';
import { chromiumSkip, launchWithProfile, serveApp } from '../helpers/chromium.js';
import { createTestContext } from '../helpers/context.js';

/**
 * A new administrator on a phone: the first-run form preselects the browser's time zone, and at 390 px the
 * queue and the outbox show each row as a card with its key fields readable, without a horizontal scroll.
 * Set SCREENSHOT_DIR to keep screenshots at 390 and 1280 px.
 */
async function shoot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Each named cell of the first row is shown, inside the screen, and wide enough to read (not a word a line). */
async function checkCards(t: Tap, page: Page, name: string, cells: Record<string, string>): Promise<void> {
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, `${name}-390`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.ok(overflow <= 0, `${name} at 390px has no horizontal scroll (overflow ${overflow}px)`);
  const wrapScroll = await page.evaluate(() => { const w = document.querySelector('.table-wrap'); return w ? w.scrollWidth - w.clientWidth : 0; });
  t.ok(wrapScroll <= 0, `${name}: the table does not scroll sideways in its box either (${wrapScroll}px)`);
  const row = page.locator('table.cards tbody tr').first();
  for (const [label, selector] of Object.entries(cells)) {
    const cell = row.locator(selector).first();
    t.ok(await cell.isVisible(), `${name}: ${label} visible`);
    const box = await cell.boundingBox();
    t.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name}: ${label} inside the screen (${JSON.stringify(box)})`);
    const text = ((await cell.innerText()) ?? '').trim();
    // A readable cell keeps its words on few lines: a column per word put one word on each.
    const lines = await cell.evaluate((el) => { const r = el.getClientRects(); const lh = parseFloat(getComputedStyle(el).lineHeight) || 20; return Math.round((r[0]?.height ?? 0) / lh); });
    t.ok(text.length > 0 && lines <= Math.max(2, Math.ceil(text.length / 30)), `${name}: ${label} "${text}" reads on ${lines} line(s)`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await shoot(page, `${name}-1280`);
  t.ok(await page.locator('table.cards thead th').first().isVisible(), `${name} at 1280px is a table with its header`);
}

t.test('first run and queues on a phone', { skip: chromiumSkip }, async (t) => {
  const ctx = await createTestContext(t);
  const token = (await ctx.services.setup.issueToken())!;
  const { base } = await serveApp(t, ctx.services);
  const browser = await launchWithProfile(t, { viewport: { width: 390, height: 844 }, timezoneId: 'Asia/Tokyo' });
  browser.setDefaultTimeout(20_000);
  const problems: string[] = [];
  browser.on('page', (p) => {
    p.on('pageerror', (err) => problems.push(`${p.url()}: ${err.message}`));
    p.on('console', (m) => { if (m.type() === 'error') problems.push(`${p.url()}: ${m.text()}`); });
  });

  const page = await browser.newPage();
  await page.goto(`${base}/scp/setup?token=${token}`);
  await page.waitForFunction(() => (document.querySelector('select[name=timezone]') as HTMLSelectElement | null)?.value === 'Asia/Tokyo', null, { timeout: 10_000 }).catch(() => undefined);
  t.equal(await page.inputValue('select[name=timezone]'), 'Asia/Tokyo', 'the browser’s zone is preselected');
  await page.fill('[name=name]', 'Ada Admin');
  await page.fill('[name=email]', 'ada@example.com');
  await page.fill('[name=username]', 'ada');
  await page.fill('[name=password]', 'long enough password');
  await page.fill('[name=password2]', 'long enough password');
  await Promise.all([page.waitForURL(/\/scp\/tickets/), page.click('main button[type=submit]')]);
  t.equal((await ctx.services.staff.list())[0]!.timezone, 'Asia/Tokyo');

  for (let i = 0; i < 3; i++) {
    await ctx.services.tickets.create(null, { name: `Requester Number ${i}`, email: `r${i}@example.com`, subject: `The printer on the third floor prints blank pages ${i}`, message: 'Help', source: 'web' });
  }
  await page.goto(`${base}/scp/tickets`);
  await checkCards(t, page, 'queue', { number: 'td.c-number', subject: 'td.subject', requester: 'td[data-label=From]', status: 'td.c-status', priority: 'td.c-prio', 'last activity': 'td[data-label="Last activity"]' });

  await page.goto(`${base}/scp/admin/outbox`);
  await checkCards(t, page, 'outbox', { subject: 'td.subject', to: 'td[data-label=To]', kind: 'td[data-label=Kind]', queued: 'td[data-label=Queued]' });

  // Forms whose rows are wider than a phone: they scroll inside themselves, never the page.
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/scp/search?q=printer&cfrom=2026-01-01', '/scp/admin/schedules/new']) {
    await page.goto(`${base}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.ok(overflow <= 0, `${path} at 390px has no horizontal scroll (overflow ${overflow}px)`);
  }
  t.same(problems, [], 'no script errors or CSP violations');
});
