import t, { type Test } from 'tap';
import type { BrowserContext, Page } from 'playwright-core';
import { chromiumSkip, launchBrowser, serveApp } from '../helpers/chromium.js';
import { createAgent, createTestContext } from '../helpers/context.js';

/**
 * Issue 9, items 6 and 7: every staff, admin and portal page in the pseudo-locale (en-XA: accented English,
 * about 35% longer) at 390 and 1366 px fits without a horizontal scroll, also laid out right to left, and shows
 * no English that bypassed the catalogs. Everything this test writes (names, subjects, the help desk's name) is
 * accented too, so plain ASCII words left on a page are the template's own. What Intl formats (dates, "3 hours
 * ago", sizes) is English in en-XA by design and is not counted.
 */
// Some forty pages, each laid out four ways, on a busy machine: more than tap's default two minutes.
t.setTimeout(600_000);

const WIDTHS = [390, 1366];
const LANG = 'en-XA';

/** tsx compiles `inspect` with esbuild's name-keeping helper, which the page must have to run it. */
const KEEP_NAMES = 'window.__name = (f) => f;';

interface PageReport {
  overflow: Array<{ width: number; dir: string; by: number; widest: string[] }>;
  english: string[];
}

/** Runs in the page: overflow at the current width, and the visible text with no pseudo-locale character. */
function inspect(known: string[]): { by: number; widest: string[]; english: string[] } {
  const limit = window.innerWidth;
  const rtl = document.documentElement.dir === 'rtl';
  const scroller = document.scrollingElement ?? document.documentElement;
  // What sticks out on the scrolling side, leaving out what a scrolling box (a wide table's) clips, so a failure
  // says where to look.
  const clipped = (el: Element) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return true; return false; };
  const widest = Array.from(document.querySelectorAll('body *'))
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && (rtl ? r.left < -0.5 : r.right > limit + 0.5) && !clipped(el); })
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`);
  // Pseudo text is accented or padded with tildes; what Intl prints and what the test wrote are not the template's.
  const pseudo = /[\u00c0-\u024f\u1e00-\u1eff~]/;
  const formatted = [
    /\b\d{1,2} [A-Z][a-z]{2,3}\.? \d{4}(, \d{1,2}[:.]\d\d)?( [A-Z]{1,5}([+-]\d{1,2}(:\d\d)?)?)?/g,
    /\b(in )?\d+ (second|minute|hour|day|week|month|year)s?( ago)?\b/g,
    /\b(yesterday|tomorrow|last|next|this) (week|month|year|minute|hour)\b|\b(yesterday|tomorrow|now)\b/g,
    /\b\d+([.,]\d+)? ?(byte|kB|MB)\b/g,
    /[\w.+-]+@[\w.-]+/g,
    /\b[A-Z][A-Za-z_]+\/[A-Za-z_/+-]+\b/g, // time-zone names
    /https?:\/\/\S+/g,
  ];
  const english = (text: string): string | null => {
    let rest = text;
    for (const re of formatted) rest = rest.replace(re, ' ');
    for (const k of [...known].sort((a, b) => b.length - a.length)) rest = rest.replace(new RegExp(`(?<![\\p{L}\\d])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\d])`, 'gu'), ' ');
    return /[A-Za-z]{2,}/.test(rest) && !pseudo.test(rest) ? text.trim().replace(/\s+/g, ' ') : null;
  };
  const found = new Set<string>();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('script, style, time, code, pre, .entry-body, .entry-html, [hidden]')) continue;
    if (parent.closest('option') && /^[A-Za-z_]+\/./.test(parent.closest('option')!.getAttribute('value') ?? '')) continue; // a time zone
    const e = english(n.textContent ?? '');
    if (e) found.add(e);
  }
  const attributes = ['title', 'placeholder', 'aria-label', 'alt', 'data-label', 'data-confirm'];
  for (const el of Array.from(document.querySelectorAll(`[${attributes.join('],[')}], input[type=submit], input[type=button]`))) {
    if (el.closest('time')) continue;
    for (const a of [...attributes, ...(el.matches('input[type=submit], input[type=button]') ? ['value'] : [])]) {
      const v = el.getAttribute(a);
      const e = v && english(v);
      if (e) found.add(`${a}="${e}"`);
    }
  }
  const title = english(document.title);
  if (title) found.add(`<title> ${title}`);
  return { by: scroller.scrollWidth - limit, widest, english: [...found] };
}

async function check(t: Test, page: Page, known: string[]): Promise<PageReport> {
  const report: PageReport = { overflow: [], english: [] };
  t.equal(await page.getAttribute('html', 'lang'), LANG, `${page.url()} is in ${LANG}`);
  for (const dir of ['ltr', 'rtl']) {
    await page.evaluate((d) => document.documentElement.setAttribute('dir', d), dir);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      const r = await page.evaluate(inspect, known);
      if (r.by > 0) report.overflow.push({ width, dir, by: r.by, widest: r.widest });
      if (dir === 'ltr' && width === WIDTHS[0]) report.english = r.english;
    }
  }
  return report;
}

t.test('every page in the pseudo-locale: no overflow at 390 and 1366 px, left to right and right to left, no English left', { skip: chromiumSkip }, async (t) => {
  const helpdeskName = 'Ĥéļþ Ðéšķ';
  const ctx = await createTestContext(t, { i18n: { pseudoLocale: true }, helpdeskName });
  const { services } = ctx;
  const token = (await services.setup.issueToken())!;
  const { base } = await serveApp(t, services);
  const browser = await launchBrowser(t);
  const context = async (): Promise<BrowserContext> => {
    const c = await browser.newContext({ viewport: { width: WIDTHS[0]!, height: 900 } });
    t.teardown(() => c.close());
    await c.addCookies([{ name: 'sb_lang', value: LANG, url: base }]);
    await c.addInitScript(KEEP_NAMES);
    return c;
  };

  const admin = await createAgent(services, { admin: true, name: 'Åðá Ļöṽéļáçé', username: 'adalove' });
  await services.db.knex('staff').where({ id: admin.principal.staffId }).update({ language: LANG });
  // An organization before the requesters, so that they join it (people pages, issue 11 item 5).
  await services.organizations.create(admin.principal, { name: 'Åçɱé', domains: 'example.com' });
    const requester = { name: 'Ŕîţá Ŕéǫûéšţéŕ', email: 'rita@example.com' };
  const { ticket } = await services.tickets.create(null, { ...requester, subject: 'Ţĥé þŕîñţéŕ îš öñ ƒîŕé', message: 'Šéñð ĥéļþ', source: 'web', collaborators: [{ name: 'Çåŕļ Çöļļéåĝûé', email: 'carl@example.com' }] });
  // A linked ticket and a response to all, so the side column and the thread show what they list.
  const linked = (await services.tickets.create(null, { ...requester, subject: 'Ţĥé šéçöñð þŕîñţéŕ', message: 'Åļšö ðöŵñ', source: 'web' })).ticket;
  await services.relations.link(admin.principal, ticket.number, linked.number);
  await services.tickets.respond(admin.principal, ticket.number, 'Ŵé åŕé öñ îţ');
  await services.mailboxes.create(admin.principal, { localPart: 'billing', departmentId: admin.principal.departmentIds[0]!, topicId: null, defaultPriority: 2, autoResponse: true });
  await services.bans.add(admin.principal, { pattern: 'spam.example', note: 'Šþáɱ' });
  await services.apiKeys.create({ name: 'ÇŔṀ' });
  const raw = Buffer.from('From: Ɓöƀ <bob@example.com>\r\nTo: support@helpdesk.test\r\nSubject: Ŵîƒî\r\nMessage-ID: <m1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nŢĥé ŵîƒî îš ðöŵñ\r\n');
  await services.intake.deliver(raw, { mailbox: null, envelopeFrom: 'bob@example.com', source: 'pipe', remoteAddress: null });
  // A mail without subject or text, and a delivery report on its ticket: what the pages say for them is theirs.
  // In the pseudo-locale by its Content-Language, so the outbox lists its auto-response's subject in it too.
  const bare = Buffer.from('From: Ðöŕå <dora@example.com>\r\nTo: support@helpdesk.test\r\nMessage-ID: <m2@example.com>\r\nContent-Language: en-XA\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\r\n');
  await services.intake.deliver(bare, { mailbox: null, envelopeFrom: 'dora@example.com', source: 'pipe', remoteAddress: null });
  const untitled = (await services.db.knex('tickets').where({ subject: '' }).first('id', 'number')) as { id: number; number: string };
  await services.tickets.addSystemNote(Number(untitled.id), { kind: 'bounce', bodyText: '550 Ûšéŕ ûñķñöŵñ', attachments: [], source: 'email' });

  // What the test wrote or the first run made: data, not template text.
  const known = [
    helpdeskName, admin.username, 'adalove@staff.test', 'Åçɱé', 'Support', 'General inquiry', 'billing', 'support', 'helpdesk.test', 'spam.example', 'example.com', String(ticket.number),
    LANG, 'UTC', 'Ƥšéûðö', 'English', 'Dansk', 'Eesti', 'Switchboard', 'pipe', 'web', 'text/plain', 'utf-8',
    // An outgoing message's headers as they go on the wire (the outbox message page): protocol, not prose.
    'From', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References', 'Content-Language', 'Auto-Submitted', 'auto-generated', 'X-Auto-Response-Suppress', 'All',
  ];
  const reports = new Map<string, PageReport>();
  const visit = async (page: Page, path: string) => {
    const res = await page.goto(`${base}${path}`);
    t.ok(res, `${path} answers`);
    reports.set(path, await check(t, page, known));
  };
  /** The first link on a list page whose address matches, for pages with an id in their address. */
  const firstLink = async (page: Page, list: string, pattern: RegExp): Promise<string | null> => {
    await page.goto(`${base}${list}`);
    for (const href of await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''))) if (pattern.test(href)) return href;
    t.fail(`${list} links to no page like ${pattern}`);
    return null;
  };

  // Signed out, by the switcher's cookie.
  const visitor = await (await context()).newPage();
  await visit(visitor, `/scp/setup?token=${token}`);
  await visit(visitor, '/scp/login');
  for (const path of ['/', '/tickets/new', '/tickets/status', '/login', '/no-such-page']) await visit(visitor, path);
  await services.accountRecovery.requestReset(admin.username, '192.0.2.50');
  const resetMail = (await services.outbox.list({ limit: 100 })).find((m) => m.kind === 'staff_reset')!;
  const resetPath = /\/scp\/password\/reset\?t=[^\s]+/.exec(resetMail.bodyText)![0];
  for (const path of ['/scp/password/forgot', resetPath, '/scp/password/reset?t=expired']) await visit(visitor, path);

  // The requester, signed in to the portal by number and address.
  await visitor.goto(`${base}/tickets/status`);
  await visitor.fill('[name=email]', requester.email);
  await visitor.fill('[name=number]', String(ticket.number));
  await Promise.all([visitor.waitForURL(/\/tickets\/\w+$/), visitor.click('main button[type=submit]')]);
  for (const path of [`/tickets/${ticket.number}`, '/tickets', `/tickets/${ticket.number}/created`]) await visit(visitor, path);

  // The administrator, whose own language is en-XA (no cookie needed, none set).
  const staffContext = await browser.newContext({ viewport: { width: WIDTHS[0]!, height: 900 } });
  t.teardown(() => staffContext.close());
  await staffContext.addInitScript(KEEP_NAMES);
  const staff = await staffContext.newPage();
  await staff.goto(`${base}/scp/login`);
  await staff.fill('[name=login]', admin.username);
  await staff.fill('[name=password]', admin.password);
  await Promise.all([staff.waitForURL(/\/scp\/tickets/), staff.click('main button[type=submit]')]);
  const pages = [
    '/scp/tickets', '/scp/tickets?queue=mine', '/scp/tickets?queue=unassigned', '/scp/tickets?queue=closed', '/scp/tickets/new', `/scp/tickets/${ticket.number}`, `/scp/tickets/${untitled.number}`, `/scp/tickets/${ticket.number}/merge`, '/scp/tickets/999999', '/scp/preferences',
    '/scp/admin', '/scp/admin/staff', '/scp/admin/staff/new', '/scp/admin/departments', '/scp/admin/departments/new', '/scp/admin/mailboxes', '/scp/admin/mailboxes/new',
    '/scp/admin/quarantine', '/scp/admin/quarantine?status=ticket', '/scp/admin/bans', '/scp/admin/outbox', '/scp/admin/api-keys', '/scp/admin/settings',
    '/scp/users', '/scp/users?q=nobody', '/scp/orgs', '/scp/orgs?q=nothing', '/scp/orgs/new',
  ];
  for (const [list, pattern] of [
    ['/scp/admin/staff', /^\/scp\/admin\/staff\/\d+$/],
    ['/scp/admin/departments', /^\/scp\/admin\/departments\/\d+$/],
    ['/scp/admin/mailboxes', /^\/scp\/admin\/mailboxes\/\d+$/],
    ['/scp/admin/quarantine?status=ticket', /^\/scp\/admin\/quarantine\/\d+$/],
    ['/scp/admin/outbox', /^\/scp\/admin\/outbox\/\d+$/],
    ['/scp/users', /^\/scp\/users\/\d+$/],
    ['/scp/orgs', /^\/scp\/orgs\/\d+$/],
  ] as const) {
    const href = await firstLink(staff, list, pattern);
    if (href) pages.push(href);
  }
  const department = pages.find((p) => /departments\/\d+$/.test(p));
  if (department) pages.push(`${department}/archive`);
  const outboxMessage = pages.find((p) => /outbox\/\d+$/.test(p));
  if (outboxMessage) pages.push(`${outboxMessage}/cancel`);
  const user = pages.find((p) => /users\/\d+$/.test(p));
  if (user) pages.push(`${user}/edit`, `${user}/merge`);
  const org = pages.find((p) => /orgs\/\d+$/.test(p));
  if (org) pages.push(`${org}/edit`, `${org}/delete`);
  for (const path of pages) await visit(staff, path);
  // The bulk pages answer posts: the ticket page's "Mark as spam", its confirmation, then the summary.
  await staff.goto(`${base}/scp/tickets/${ticket.number}`);
  await Promise.all([staff.waitForURL('**/scp/tickets/bulk'), staff.click('.ticket-remove button[value=spam]')]);
  reports.set('bulk confirmation', await check(t, staff, known));
  await Promise.all([staff.waitForURL('**/scp/tickets/bulk/confirm'), staff.click('.bulk-page button.primary')]);
  reports.set('bulk summary', await check(t, staff, known));

  const overflow = [...reports].flatMap(([path, r]) => r.overflow.map((o) => `${path} at ${o.width}px ${o.dir}: ${o.by}px too wide (${o.widest.join(', ')})`));
  t.same(overflow, [], 'pages wider than the screen');
  const english = [...reports].flatMap(([path, r]) => r.english.map((e) => `${path}: ${e}`));
  t.same(english, [], 'text that bypassed the catalogs (page: text)');
  t.ok(reports.size >= 35, `${reports.size} pages checked`);
});
