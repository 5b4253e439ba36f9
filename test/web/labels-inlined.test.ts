import t from 'tap';
import { Eta, type EtaConfig } from 'eta';
import type { I18n } from '../../src/i18n/i18n.js';
import { Translator } from '../../src/i18n/translator.js';
import { LANGUAGES } from '../../src/i18n/languages.js';
import { buildApp } from '../../src/app.js';
import { labelsInlined } from '../../src/web/views.js';
import { createAgent, createTestContext, FrozenClock } from '../helpers/context.js';
import { Browser } from '../helpers/http.js';

type Plugin = EtaConfig['plugins'][number];

// The staff and portal pages in every language, from templates with their labels inlined (as the app runs) and
// from templates that ask the Translator for each (as they did before web/views.ts): the same HTML, byte for
// byte. The pseudo-locale is on: its labels carry accents, brackets and entities.
const ctx = await createTestContext(t, { i18n: { defaultLanguage: 'en', pseudoLocale: true } }, new FrozenClock());
const { services } = ctx;

/** The app's languages, with each Translator's labels as `label` says. */
const labelled = (label: (tr: Translator, key: string) => string | null): I18n =>
  Object.create(services.i18n, {
    translator: { value: (code: string) => { const tr = services.i18n.translator(code); return Object.create(tr, { label: { value: (key: string) => label(tr, key) } }); } },
  });
let inlined = 0;
const folded = await buildApp({ ...services, i18n: labelled((tr, key) => { const text = tr.label(key); if (text !== null) inlined += 1; return text; }) });
// No message is a label here: every lookup stays a call, as before web/views.ts.
const runtime = await buildApp({ ...services, i18n: labelled(() => null) });
t.teardown(() => Promise.all([folded.close(), runtime.close()]));

const admin = await createAgent(services, { admin: true, name: 'Ada <Admin> & Co' });
const { ticket } = await services.tickets.create(null, { name: 'Rita "Requester"', email: 'rita@example.com', subject: 'Printer <jams>', message: "It's on fire & smoking", source: 'web' });
await services.tickets.respond(admin.principal, ticket.number, 'Have you tried turning it off?');

const STAFF_PAGES = ['/scp/tickets', `/scp/tickets/${ticket.number}`, '/scp/tickets/new', '/scp/preferences', '/scp/nothing-here', '/scp/admin', '/scp/admin/staff', '/scp/admin/staff/new',
  '/scp/admin/departments', '/scp/admin/departments/new', '/scp/admin/settings', '/scp/admin/mailboxes', '/scp/admin/mailboxes/new', '/scp/admin/api-keys', '/scp/admin/outbox',
  '/scp/admin/quarantine', '/scp/admin/bans'];
const PORTAL_PAGES = ['/', '/tickets/new', '/tickets/status', `/tickets/${ticket.number}`, '/tickets', '/nothing-here'];

const staff = new Browser(folded);
await staff.staffLogin(admin.username, admin.password);
const client = new Browser(folded);
await client.get('/tickets/status');
await client.post('/tickets/status', { email: 'rita@example.com', number: ticket.number });

/** The pages as each app shows them, on one browser's cookies (one session and CSRF token for both). */
async function both(b: Browser, pages: string[]) {
  const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const out = [];
  for (const url of pages) {
    const [a, r] = [await folded.inject({ url, headers: { cookie } }), await runtime.inject({ url, headers: { cookie } })];
    out.push({ url, folded: a, runtime: r });
  }
  return out;
}

for (const lang of services.i18n.languages) {
  t.test(`every page in ${lang.code} is the same with its labels inlined`, async (t) => {
    await services.staff.updatePreferences(admin.principal, { timezone: 'Europe/Copenhagen', language: lang.code }, (code) => services.i18n.supported(code));
    client.cookies.set('sb_lang', lang.code);
    for (const { url, folded: a, runtime: r } of [...(await both(staff, STAFF_PAGES)), ...(await both(client, PORTAL_PAGES))]) {
      t.equal(a.statusCode, r.statusCode, `${url}: status`);
      t.match(a.body, `<html lang="${lang.code}"`, `${url}: in ${lang.code}`);
      t.equal(a.body, r.body, `${url}: the same HTML`);
    }
  });
}

t.test('the pages above inlined labels in every language', async (t) => {
  t.ok(inlined > 400, `${inlined} labels`);
});

t.test('only a literal key of a label is inlined; anything else stays a call', async (t) => {
  const da = services.i18n.translator('da');
  const template = [
    "<%= it.t('staff.ticket.thread') %>|<%~ it.tHtml(\"staff.ticket.add_note\") %>|<%= [it.t('staff.ticket.close')].join() %>",
    "|<%= it.t('staff.ticket.respond_to', { name: it.name }) %>|<%= it.t('staff.ticket.source_name') %>",
    "|<%= it.t(it.key) %>|<%= it.t('no.such.key') %>|<%= edit.t('staff.ticket.reopen') %>|it.t('staff.ticket.reopen')",
  ].join('');
  const code = new Eta({ plugins: [labelsInlined(da)] }).compileToString(template);
  for (const key of ['staff.ticket.thread', 'staff.ticket.add_note', 'staff.ticket.close']) t.notMatch(code, key, `${key} is inlined`);
  for (const call of ["it.t('staff.ticket.respond_to', { name: it.name })", "it.t('staff.ticket.source_name')", 'it.t(it.key)', "it.t('no.such.key')", "edit.t('staff.ticket.reopen')", "it.t(\\'staff.ticket.reopen\\')"]) {
    t.match(code, call, `${call} is left as it is`);
  }
  const it = { t: da.t, tHtml: da.tHtml, name: '<Bo>', key: 'staff.ticket.thread' };
  const edit = { t: (k: string) => `edit ${k}` };
  const render = (plugins: Plugin[]) => new Eta({ plugins, functionHeader: 'const edit = it.edit;' }).renderString(template, { ...it, edit });
  t.equal(render([labelsInlined(da)]), render([]), 'the same output as the calls');
});

t.test('a label with quotes, a backslash, a newline and an ampersand prints as the call prints it', async (t) => {
  const tr = new Translator(LANGUAGES[0]!, new Map([['x.odd', 'It\'s "odd" \\ here &\r\nthere']]), null);
  const template = "<%= it.t('x.odd') %>|<%~ it.t('x.odd') %>|<%= [it.t('x.odd')].join() %>";
  const render = (plugins: Plugin[]) => new Eta({ plugins }).renderString(template, { t: tr.t });
  t.notMatch(new Eta({ plugins: [labelsInlined(tr)] }).compileToString(template), 'x.odd');
  t.equal(render([labelsInlined(tr)]), render([]));
});
