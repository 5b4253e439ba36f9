import t from 'tap';
import { TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { escapeHtml } from '../../src/i18n/translator.js';
import { loadI18n } from '../../src/i18n/load.js';
import { pseudoMessage, readCatalogs } from '../../src/i18n/catalog.js';
import { LOCALES_DIR } from '../../src/paths.js';

/**
 * The Translator prints messages itself instead of through intl-messageformat (a page asks for dozens): every
 * shipped message, in every language and the pseudo-locale, with every select option, plural counts that pick
 * each form, parameters that need escaping and links, prints as intl-messageformat prints it.
 */
const i18n = loadI18n(true);
const catalogs = readCatalogs(LOCALES_DIR);
const english = catalogs.get('en')!;
const PLAIN_TAGS = ['strong', 'em', 'code', 'b'];
const COUNTS = [0, 1, 2, 3, 5, 11, 21, 1000, 1.5];
const TEXT = `<i>"Ann" & 'Bo'</i>`;

interface Shape {
  selects: Map<string, string[]>;
  counts: Set<string>;
  args: Set<string>;
  tags: Set<string>;
}

function shape(elements: MessageFormatElement[], into: Shape): Shape {
  for (const el of elements) {
    if (el.type === TYPE.select) into.selects.set(el.value, [...(into.selects.get(el.value) ?? []), ...Object.keys(el.options), 'unlisted']);
    else if (el.type === TYPE.plural || el.type === TYPE.number) into.counts.add(el.value);
    else if (el.type === TYPE.argument) into.args.add(el.value);
    else if (el.type === TYPE.tag) into.tags.add(el.value);
    if (el.type === TYPE.tag) shape(el.children, into);
    if (el.type === TYPE.select || el.type === TYPE.plural) for (const o of Object.values(el.options)) shape(o.value, into);
  }
  return into;
}

/** Parameter sets that visit every option: one per select option and per count, the others at their first. */
function variants(s: Shape): Array<Record<string, string | number>> {
  const base: Record<string, string | number> = {};
  for (const a of s.args) base[a] = TEXT;
  for (const [k, options] of s.selects) base[k] = options[0]!;
  for (const c of s.counts) base[c] = 1;
  const out = [base];
  for (const [k, options] of s.selects) for (const o of options) out.push({ ...base, [k]: o });
  for (const c of s.counts) for (const n of COUNTS) out.push({ ...base, [c]: n });
  // A value named like a tag: the formatter refuses the message, and the Translator falls back.
  for (const tag of s.tags) out.push({ ...base, [tag]: TEXT });
  return out;
}

/** What intl-messageformat prints, handed the values and tag handlers as the Translator used to hand them. */
function reference(text: string, locale: string, values: Record<string, string | number>, html: boolean, links: Record<string, string>): string {
  const { tags } = shapeOf(text, locale);
  const all: Record<string, unknown> = {};
  for (const tag of tags) all[tag] = (c: unknown[]) => c.join('');
  for (const [k, v] of Object.entries(values)) all[k] = html && typeof v === 'string' ? escapeHtml(v) : v;
  if (html && tags.size) {
    for (const tag of PLAIN_TAGS) all[tag] = (c: unknown[]) => `<${tag}>${c.join('')}</${tag}>`;
    for (const [tag, href] of Object.entries(links)) all[tag] = (c: unknown[]) => `<a href="${escapeHtml(href)}">${c.join('')}</a>`;
  }
  const out = new IntlMessageFormat(text, locale, undefined, { ignoreTag: false }).format(all as Record<string, string>);
  return Array.isArray(out) ? out.join('') : String(out);
}

const textOf = (lang: string, key: string) => (lang === 'en-XA' ? pseudoMessage(english.get(key)!) : catalogs.get(lang)!.get(key));
const shapeOf = (text: string, locale: string) => shape(new IntlMessageFormat(text, locale, undefined, { ignoreTag: false }).getAst(), { selects: new Map(), counts: new Set(), args: new Set(), tags: new Set() });

/** The reference in the language, else in English (a key it lacks, or a message the formatter refuses), else the key. */
function expected(lang: { code: string; intl: string }, key: string, values: Record<string, string | number>, html: boolean, links: Record<string, string>): string {
  for (const [text, locale] of [[textOf(lang.code, key), lang.intl], [english.get(key), 'en-GB']]) {
    if (text === undefined) continue;
    try {
      return reference(text, locale!, values, html, links);
    } catch {
      // refused: the next one says it
    }
  }
  return html ? escapeHtml(key) : key;
}

for (const lang of i18n.languages) {
  t.test(`every message in ${lang.code} prints as intl-messageformat prints it`, async (t) => {
    const tr = i18n.translator(lang.code);
    let compared = 0;
    for (const key of english.keys()) {
      const s = shapeOf(textOf(lang.code, key) ?? english.get(key)!, lang.intl);
      const links = Object.fromEntries([...s.tags].filter((x) => !PLAIN_TAGS.includes(x)).map((x) => [x, `/to?a=1&b="${x}"`]));
      for (const values of variants(s)) {
        const where = `${key} ${JSON.stringify(values)}`;
        if (tr.t(key, values) !== expected(lang, key, values, false, {})) t.fail(`t ${where}`);
        if (tr.tHtml(key, values) !== expected(lang, key, values, true, {})) t.fail(`tHtml ${where}`);
        if (tr.tHtml(key, values, links) !== expected(lang, key, values, true, links)) t.fail(`tHtml with links ${where}`);
        compared += 3;
      }
    }
    t.ok(compared > 3 * english.size, `${compared} messages compared`);
  });
}
