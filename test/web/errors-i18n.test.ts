import t from 'tap';
import type { Msg } from '../../src/i18n/message.js';
import { escapeHtml } from '../../src/i18n/translator.js';
import { createTestContext } from '../helpers/context.js';
import { Browser, createTestApp } from '../helpers/http.js';

const LANGS = ['en', 'da', 'et'] as const;

// One site in English (the default), one whose default language is Danish.
const ctx = await createTestContext(t, { attachments: { maxFileBytes: 1024, maxFiles: 2 } });
const app = await createTestApp(t, ctx);
const danishCtx = await createTestContext(t, { i18n: { defaultLanguage: 'da', pseudoLocale: false } });
const danishApp = await createTestApp(t, danishCtx);
const { services } = ctx;
const { key } = await services.apiKeys.create({ name: 'CRM' });

const say = (lang: string, m: Msg) => services.i18n.translator(lang).t(m);
/** As a template prints it. */
const shown = (lang: string, m: Msg) => escapeHtml(say(lang, m));

const api = (payload: Record<string, unknown>, language?: string, target = app, apiKey = key) =>
  target.inject({ method: 'POST', url: '/api/tickets.json', payload, headers: { 'x-api-key': apiKey, ...(language ? { 'accept-language': language } : {}) } });
const ticket = (over: Record<string, unknown> = {}) => ({ name: 'Ada', email: 'ada@example.com', subject: 'Printer', message: 'On fire', ...over });

t.test('the catalogs say these errors differently in each language', async (t) => {
  for (const m of ['validation.email_invalid', 'validation.subject_required', 'errors.csrf_invalid', 'errors.ticket.not_found']) {
    t.equal(new Set(LANGS.map((l) => say(l, m))).size, 3, m);
  }
  t.equal(say('da', 'validation.email_invalid'), 'Indtast en gyldig e-mailadresse.');
  t.equal(say('et', 'validation.email_invalid'), 'Palun sisestage kehtiv e-posti aadress.');
  t.equal(say('en', { key: 'validation.too_long', params: { max: 200000 } }), 'At most 200,000 characters.', 'numbers in the reader’s style');
  t.equal(say('da', { key: 'validation.too_long', params: { max: 200000 } }), 'Højst 200.000 tegn.');
  t.match(say('da', { key: 'validation.file_too_large', params: { files: 'a.bin', limitBytes: 1536 } }), /^a\.bin: .*1,5 kB/, 'sizes by the Translator');
});

t.test('the same validation error on the portal form in en, da and et, with the values kept', async (t) => {
  for (const lang of LANGS) {
    const b = new Browser(app);
    if (lang !== 'en') b.cookies.set('sb_lang', lang);
    await b.get('/tickets/new');
    const res = await b.post('/tickets/new', { name: 'Ada Lovelace', email: 'not-an-address', subject: 'Kept subject æøõ', message: 'Kept message' });
    t.equal(res.statusCode, 400, lang);
    t.match(res.body, `<html lang="${lang}"`, `${lang}: page language`);
    t.match(res.body, shown(lang, 'validation.email_invalid'), `${lang}: the field's error`);
    if (lang !== 'en') t.notMatch(res.body, 'Enter a valid e-mail address.', `${lang}: no English left`);
    t.match(res.body, 'value="Kept subject æøõ"', `${lang}: subject kept`);
    t.match(res.body, 'Kept message</textarea>', `${lang}: message kept`);
  }
});

t.test('the JSON API says field errors in the Accept-Language; the code stays the machine code', async (t) => {
  for (const lang of LANGS) {
    const res = await api(ticket({ email: 'nope', subject: '   ' }), `${lang};q=0.9, fr;q=0.5`);
    t.equal(res.statusCode, 400, lang);
    const { error } = res.json();
    t.equal(error.code, 'VALIDATION_FAILED');
    t.same(error.details.fields, { email: say(lang, 'validation.email_invalid'), subject: say(lang, 'validation.subject_required') }, `${lang}: each field's problem`);
    t.equal(error.message, `email: ${say(lang, 'validation.email_invalid')} subject: ${say(lang, 'validation.subject_required')}`, `${lang}: the message names the fields`);
  }
  const schema = await api({ name: 'Ada', subject: 'S', message: 'M' }, 'et');
  t.equal(schema.statusCode, 400);
  t.equal(schema.json().error.code, 'INVALID_REQUEST', 'a schema failure keeps its code');
  t.equal(schema.json().error.details.fields.email, say('et', 'validation.required'), 'the schema’s complaint in Estonian, not the validator’s English');
  t.match(schema.json().error.message, /^email: /);
  const long = await api(ticket({ subject: 'x'.repeat(300) }), 'da');
  t.equal(long.json().error.details.fields.subject, 'Højst 255 tegn.');

  const big = Buffer.alloc(2048, 1).toString('base64');
  const tooBig = await api(ticket({ attachments: [{ 'big.bin': `data:application/octet-stream;base64,${big}` }] }), 'da');
  t.equal(tooBig.statusCode, 413);
  t.equal(tooBig.json().error.code, 'PAYLOAD_TOO_LARGE');
  t.equal(tooBig.json().error.message, say('da', { key: 'validation.file_too_large', params: { files: 'big.bin', limitBytes: 1024 } }));
  t.match(tooBig.json().error.message, services.i18n.translator('da').bytes(1024), 'the limit as a size in Danish');

  const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: { 'x-api-key': key, 'accept-language': 'da' } });
  t.equal(missing.statusCode, 404);
  t.same(missing.json().error, { code: 'NOT_FOUND', message: say('da', 'errors.api.not_found') });
});

t.test('an unknown Accept-Language falls back to the site default, never an error', async (t) => {
  const { key: danishKey } = await danishCtx.services.apiKeys.create({ name: 'CRM' });
  for (const header of ['xx-YY, tlh;q=0.8', '*', ';;;q=bad', 'x'.repeat(300)]) {
    const res = await api(ticket({ email: 'nope' }), header, danishApp, danishKey);
    t.equal(res.statusCode, 400, header);
    t.equal(res.json().error.details.fields.email, say('da', 'validation.email_invalid'), `${header}: the site's Danish`);
  }
  const english = await api(ticket({ email: 'nope' }), 'en-GB', danishApp, danishKey);
  t.equal(english.json().error.details.fields.email, say('en', 'validation.email_invalid'), 'a language the site offers wins over its default');
  const page = await new Browser(danishApp).get('/tickets/new', { 'accept-language': 'tlh' });
  t.equal(page.statusCode, 200);
  t.match(page.body, '<html lang="da"');
});

t.test('a bad sb_lang cookie is passed over, never an error', async (t) => {
  for (const value of ['klingon', '%22%3E%3Cscript%3E', 'da-DK-x-very-long-' + 'x'.repeat(500), '']) {
    const b = new Browser(danishApp);
    b.cookies.set('sb_lang', value);
    const site = await b.get('/tickets/new');
    t.equal(site.statusCode, 200, `${value.slice(0, 20)}: a page`);
    t.match(site.body, '<html lang="da"', 'the site default (or the Danish the cookie names)');
    const told = await b.get('/tickets/new', { 'accept-language': 'et' });
    t.match(told.body, value.startsWith('da-DK') ? '<html lang="da"' : '<html lang="et"', 'or the browser’s language');
  }
});

t.test('a 404 page in Estonian', async (t) => {
  const b = new Browser(app);
  const res = await b.get('/tickets/12345678/created', { 'accept-language': 'et-EE,et;q=0.9,en;q=0.5' });
  t.equal(res.statusCode, 404);
  t.match(res.body, '<html lang="et"');
  t.match(res.body, `<h1>${shown('et', 'errors.title.404')}</h1>`);
  t.match(res.body, shown('et', 'errors.ticket.not_found'));
  t.match(res.body, /<a href="\/tickets\/status">[^<]+<\/a>/, 'the status check linked from the translated sentence');
  t.match(res.body, shown('et', 'errors.page.back_to_help_center'));
  t.notMatch(res.body, 'No such ticket');

  const nowhere = await b.get('/no/such/page', { 'accept-language': 'et' });
  t.equal(nowhere.statusCode, 404);
  t.match(nowhere.body, '<html lang="et"');
  t.match(nowhere.body, shown('et', 'errors.page.not_found'), 'an address that names nothing');
});

t.test('a CSRF expiry page in Danish', async (t) => {
  const b = new Browser(app);
  b.cookies.set('sb_lang', 'da');
  await b.get('/tickets/new');
  b.csrf = 'expired-token';
  const res = await b.post('/tickets/new', { name: 'Ada', email: 'ada@example.com', subject: 'S', message: 'M' });
  t.equal(res.statusCode, 403);
  t.match(res.body, '<html lang="da"');
  t.match(res.body, `<h1>${shown('da', 'errors.title.403')}</h1>`);
  t.match(res.body, shown('da', 'errors.csrf_invalid'));
  t.notMatch(res.body, 'This form has expired');
});
