import t from 'tap';
import { parse } from '@formatjs/icu-messageformat-parser';
import { isStructurallySame } from '@formatjs/icu-messageformat-parser/manipulator.js';
import { pseudoMessage, readCatalogs } from '../../src/i18n/catalog.js';
import { I18n } from '../../src/i18n/i18n.js';
import { parseAcceptLanguage } from '../../src/i18n/languages.js';
import { msg } from '../../src/i18n/message.js';
import { LOCALES_DIR } from '../../src/paths.js';

/**
 * The i18n core on small catalogs of its own, so these hold whatever the shipped catalogs say: plural rules
 * per language, HTML that escapes parameters and links only the named tags, the English fallback, choosing a
 * language from what a reader sends, Intl times and numbers, and the pseudo-locale.
 */
const cat = (o: Record<string, string>) => new Map(Object.entries(o));
const catalogs = new Map([
  [
    'en',
    cat({
      'common.time.just_now': 'just now',
      'staff.count': '{count, plural, one {# ticket} other {# tickets}}',
      'staff.hello': 'Hello <strong>{name}</strong>, read <help>the guide</help> or <other>ask</other>.',
      'staff.only_en': 'Only in English',
      'staff.since': 'Waiting since {at}',
      'staff.kind': '{kind, select, note {Internal note} other {Reply}} by {name}',
    }),
  ],
  ['da', cat({ 'common.time.just_now': 'lige nu', 'staff.count': '{count, plural, one {# sag} other {# sager}}', 'staff.hello': 'Hej <strong>{name}</strong>, læs <help>vejledningen</help> eller <other>spørg</other>.' })],
  ['et', cat({ 'common.time.just_now': 'just praegu', 'staff.count': '{count, plural, one {# pöördumine} other {# pöördumist}}', 'staff.broken': '{count, plural, one {# x}' })],
]);
const i18n = new I18n(catalogs, { pseudoLocale: true });
const plain = new I18n(catalogs, { pseudoLocale: false });
const [en, da, et] = ['en', 'da', 'et'].map((c) => i18n.translator(c)) as [ReturnType<I18n['translator']>, ReturnType<I18n['translator']>, ReturnType<I18n['translator']>];

t.test('plural rules per language', async (t) => {
  t.equal(en.t('staff.count', { count: 1 }), '1 ticket');
  t.equal(en.t('staff.count', { count: 2 }), '2 tickets');
  t.equal(da.t('staff.count', { count: 1 }), '1 sag');
  t.equal(da.t('staff.count', { count: 2 }), '2 sager');
  t.equal(et.t('staff.count', { count: 1 }), '1 pöördumine');
  t.equal(et.t('staff.count', { count: 2 }), '2 pöördumist');
  t.equal(da.t(msg('staff.count', { count: 0 })), '0 sager', 'a domain Message carries its parameters');
  t.equal(en.t('staff.kind', { kind: 'note', name: 'Ada' }), 'Internal note by Ada', 'select');
});

t.test('tHtml escapes parameters, keeps the plain tags and links only the named ones', async (t) => {
  const html = en.tHtml('staff.hello', { name: '<img src=x onerror=alert(1)> & "q"' }, { help: '/help?a=1&b="2"' });
  t.equal(html, 'Hello <strong>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</strong>, read <a href="/help?a=1&amp;b=&quot;2&quot;">the guide</a> or ask.');
  t.equal(en.tHtml('staff.hello', { name: 'Bo' }), 'Hello <strong>Bo</strong>, read the guide or ask.', 'no links: the tags keep their text');
  t.equal(da.tHtml('staff.hello', { name: 'Bo' }, { other: '/ask' }), 'Hej <strong>Bo</strong>, læs vejledningen eller <a href="/ask">spørg</a>.');
  t.equal(en.t('staff.hello', { name: '<b>' }), 'Hello <b>, read the guide or ask.', 'plain text drops the tags and leaves escaping to the template');
  t.equal(en.tHtml('no.such.<key>'), 'no.such.&lt;key&gt;', 'a missing key is escaped too');
});

t.test('a key missing from a language is said in English; a key missing everywhere prints as given', async (t) => {
  t.equal(da.t('staff.only_en'), 'Only in English');
  t.equal(da.t('staff.kind', { kind: 'reply', name: 'Bo' }), 'Reply by Bo', 'with its parameters');
  t.equal(et.t('staff.broken', { count: 2 }), 'staff.broken', 'a broken message never throws');
  t.equal(da.t('Sign in'), 'Sign in');
  t.equal(da.t('admin.nothing.here'), 'admin.nothing.here');
  t.ok(da.has('staff.only_en'));
  t.notOk(da.has('admin.nothing.here'));
});

t.test('dates in parameters print in the language', async (t) => {
  const at = new Date('2026-11-22T16:05:00Z');
  t.equal(en.t('staff.since', { at }), 'Waiting since 22 Nov 2026, 16:05 UTC');
  t.match(en.tHtml('staff.since', { at }), /^Waiting since 22 Nov 2026, 16:05 UTC$/, 'in HTML as well');
});

t.test('Accept-Language', async (t) => {
  t.same(parseAcceptLanguage('da-DK,da;q=0.9,en;q=0.8'), ['da-dk', 'da', 'en']);
  t.same(parseAcceptLanguage('en;q=0.1, et;q=0.9, da'), ['da', 'et', 'en'], 'by q, then by order');
  t.same(parseAcceptLanguage('fr;q=0, et'), ['et'], 'q=0 means not wanted');
  t.same(parseAcceptLanguage(';;;,,,q=abc, da;q=2, et;q=x, en-;q=1, <script>'), [], 'malformed parts are ignored');
  t.same(parseAcceptLanguage(undefined), []);
  t.same(parseAcceptLanguage(''), []);
  t.same(i18n.fromAcceptLanguage('*, et;q=0.5'), ['et'], 'the wildcard names no language');
  t.equal(i18n.pick(i18n.fromAcceptLanguage('xx, *'), 'da'), 'da', 'nothing offered: the site default');
  t.equal(i18n.pick(i18n.fromAcceptLanguage('fr-CA, et-EE;q=0.7, da;q=0.5'), 'en'), 'et', 'a region falls back to its language');

  const huge = `${'xx-yy;q=0.9,'.repeat(100_000)}da`;
  const started = process.hrtime.bigint();
  t.same(i18n.fromAcceptLanguage(huge), Array<string>(20).fill('xx-yy'), 'only the first parts are read');
  t.equal(i18n.pick(i18n.fromAcceptLanguage(huge), 'et'), 'et', 'a language past them is not looked for');
  t.ok(Number(process.hrtime.bigint() - started) / 1e6 < 100, 'a hostile header costs next to nothing');
});

t.test('pick and translator pass over unknown codes', async (t) => {
  t.equal(i18n.pick(['klingon', null, undefined, '', '   ', 'DA-dk'], 'en'), 'da');
  t.equal(i18n.pick(['zz'], 'et'), 'et');
  t.equal(i18n.pick(['zz'], 'zz'), 'en', 'an unknown site default: English');
  t.equal(i18n.translator('zz').locale, 'en');
  t.equal(i18n.translator(null).locale, 'en');
  t.equal(i18n.translator('ET').locale, 'et');
  t.equal(i18n.supported('en-XA'), 'en-XA', 'the pseudo-locale when offered');
  t.equal(plain.supported('en-XA'), 'en', 'and plain English when not');
  t.same(plain.languages.map((l) => l.code), ['en', 'da', 'et']);
  t.same(i18n.languages.map((l) => l.code), ['en', 'da', 'et', 'en-XA']);
  t.equal(en.dir, 'ltr');
});

t.test('relative times', async (t) => {
  const now = new Date('2026-11-22T16:05:00Z');
  const ago = (secs: number) => new Date(now.getTime() - secs * 1000);
  t.equal(en.relative(ago(3 * 3600), now), '3 hours ago');
  t.match(da.relative(ago(3 * 3600), now), /^(for )?3 timer siden$/);
  t.match(et.relative(ago(3 * 3600), now), /^3 (tunni eest|tundi tagasi)$/);
  t.equal(en.relative(ago(10), now), 'just now');
  t.equal(da.relative(ago(10), now), 'lige nu');
  t.equal(en.relative(ago(50), now), '1 minute ago', 'past 45 seconds it counts minutes');
  t.equal(en.relative(ago(-2 * 86400), now), 'in 2 days');
  t.equal(en.relative(new Date('nonsense'), now), '', 'an unreadable time shows as nothing');
});

t.test('exact dates per language, in the zone asked, and UTC for a zone this runtime does not know', async (t) => {
  const at = new Date('2026-11-22T16:05:00Z');
  t.equal(en.exact(at, 'Europe/Copenhagen'), '22 Nov 2026, 17:05 CET');
  t.equal(da.exact(at, 'Europe/Copenhagen'), '22. nov. 2026, 17.05 CET');
  t.match(et.exact(at, 'Europe/Tallinn'), /^22\. nov 2026, 18:05 /);
  t.equal(en.exact(at, 'Mars/Olympus_Mons'), '22 Nov 2026, 16:05 UTC');
  t.equal(da.exact(new Date(Number.NaN), 'UTC'), '');
  t.equal(da.number(1234567.5), '1.234.567,5');
  t.equal(en.number(1234567.5), '1,234,567.5');
  t.equal(da.list(['a', 'b', 'c']), 'a, b og c');
  t.equal(et.list(['a', 'b']), 'a ja b');
  t.equal(da.bytes(4300), '4,2 kB');
});

t.test('the pseudo-locale: accented, about 35% longer, placeholders and tags intact', async (t) => {
  const xa = i18n.translator('en-XA');
  t.equal(xa.locale, 'en-XA');
  const out = xa.t('staff.count', { count: 3 });
  t.match(out, /^\[3 ţîçķéţš ~+\]$/);
  const hello = xa.tHtml('staff.hello', { name: 'Bob <x>' }, { help: '/h' });
  t.match(hello, /<strong>Bob &lt;x&gt;<\/strong>/, 'parameters are neither accented nor left unescaped');
  t.match(hello, /<a href="\/h">ţĥé ĝûîðé<\/a>/, 'tags keep working');
  t.notMatch(hello.replace(/<[^>]*>|Bob|&lt;x&gt;/g, ''), /[a-zA-Z]/, 'no plain letter outside parameters and markup');

  const sources: Record<string, [string, Record<string, string | number>]> = {
    'staff.a': ['Open tickets', {}],
    'staff.b': ['Save', {}],
    'staff.c': ['Welcome back, {name}. Your previous sign-in was {at}.', { name: 'Al', at: '1 May' }],
    'staff.d': ['{count, plural, one {# ticket} other {# tickets}} in <strong>{queue}</strong>', { count: 3, queue: 'Inbox' }],
    'staff.e': ['{kind, select, note {Internal note} other {Reply}} saved', { kind: 'note' }],
    'staff.f': ['From {name} &lt;{email}&gt;', { name: 'Al', email: 'a@b' }],
  };
  const own = new I18n(new Map([['en', new Map(Object.entries(sources).map(([k, [text]]) => [k, text]))]]), { pseudoLocale: true });
  for (const [key, [source, values]] of Object.entries(sources)) {
    const pseudo = pseudoMessage(source);
    const r = isStructurallySame(parse(source), parse(pseudo));
    t.ok(r.success, `${JSON.stringify(pseudo)} keeps the placeholders of ${JSON.stringify(source)}`, { error: r.error?.message });
    const [plainText, longer] = [own.translator('en').t(key, values), own.translator('en-XA').t(key, values)];
    const ratio = longer.length / plainText.length;
    t.ok(ratio >= 1.3 && ratio <= 2.5, `"${longer}" is about a third longer than "${plainText}" (${ratio.toFixed(2)}×)`);
  }

  t.match(own.translator('en-XA').tHtml('staff.f', { name: 'Al', email: 'a@b' }), /^\[Ƒŕöɱ Al &lt;a@b&gt; ~+\]$/, 'HTML entities stay entities');

  const broken: string[] = [];
  for (const [key, source] of readCatalogs(LOCALES_DIR).get('en')!) {
    try {
      const r = isStructurallySame(parse(source), parse(pseudoMessage(source)));
      if (!r.success) broken.push(`${key}: ${r.error?.message}`);
    } catch (err) {
      broken.push(`${key}: ${(err as Error).message}`);
    }
  }
  t.same(broken, [], 'every shipped English message keeps its placeholders in the pseudo-locale');
});
