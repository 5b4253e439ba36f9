import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { isStructurallySame } from '@formatjs/icu-messageformat-parser/manipulator.js';
import { readCatalogs } from '../../src/i18n/catalog.js';
import { LANGUAGES, SOURCE_LANGUAGE } from '../../src/i18n/languages.js';
import { LOCALES_DIR } from '../../src/paths.js';
import { keySources, lineOf } from './scan.js';

/**
 * Keeps the catalogs complete (issue 9, item 6): every language has exactly the English keys, every message
 * parses as ICU MessageFormat and carries the same placeholders, every key is used somewhere and every key the
 * code names exists. Each failure lists exactly what to fix (file and key, or file, line and literal).
 */

/**
 * Keys the code builds from a prefix and a value (`common.status.${status}`), so no literal names them. Every
 * key under a prefix counts as used; a new dynamic prefix belongs here.
 */
const DYNAMIC_PREFIXES = ['common.status.', 'common.priority.', 'errors.title.', 'admin.mail_accounts.tls.', 'admin.mail_accounts.after_import.', 'admin.mail_accounts.after_import_choice.'];

const catalogs = readCatalogs(LOCALES_DIR);
const english = catalogs.get(SOURCE_LANGUAGE)!;
const areas = readdirSync(join(LOCALES_DIR, SOURCE_LANGUAGE)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
/** The catalog file a key lives in, as a failure names it. */
const fileOf = (lang: string, key: string) => `locales/${lang}/${key.split('.')[0]}.json "${key.slice(key.indexOf('.') + 1)}"`;

t.test('every shipped language has a catalog directory, and every directory is a shipped language', async (t) => {
  const dirs = readdirSync(LOCALES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  t.same(dirs, LANGUAGES.map((l) => l.code).sort(), 'locales/* matches LANGUAGES in src/i18n/languages.ts');
  for (const lang of dirs) {
    const files = readdirSync(join(LOCALES_DIR, lang)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
    t.same(files, areas, `locales/${lang} has one file per area (${areas.join(', ')})`);
  }
});

t.test('catalog files are sorted by key, 2-space indented, with a trailing newline (so parallel additions merge)', async (t) => {
  const badly: string[] = [];
  for (const lang of catalogs.keys()) {
    for (const area of areas) {
      const path = join(LOCALES_DIR, lang, `${area}.json`);
      const text = readFileSync(path, 'utf8');
      const data = JSON.parse(text) as Record<string, string>;
      const want = `${JSON.stringify(Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 2)}\n`;
      if (text !== want) badly.push(`locales/${lang}/${area}.json`);
    }
  }
  t.same(badly, [], 'files to reformat (python3 -c "import json,sys;p=sys.argv[1];d=json.load(open(p));open(p,\'w\').write(json.dumps(dict(sorted(d.items())),ensure_ascii=False,indent=2)+\'\\n\')" FILE)');
});

t.test('every language has exactly the English keys', async (t) => {
  for (const { code } of LANGUAGES) {
    if (code === SOURCE_LANGUAGE) continue;
    const catalog = catalogs.get(code) ?? new Map<string, string>();
    const missing = [...english.keys()].filter((k) => !catalog.has(k)).map((k) => fileOf(code, k));
    const extra = [...catalog.keys()].filter((k) => !english.has(k)).map((k) => fileOf(code, k));
    t.same(missing, [], `${code}: keys to translate (present in English)`);
    t.same(extra, [], `${code}: keys English does not have (add them to locales/en, or remove them)`);
  }
});

/** Literal text the parser kept from a message; a `{` or `<x` in it means an ASCII apostrophe quoted a placeholder away. */
function literals(ast: MessageFormatElement[]): string[] {
  const out: string[] = [];
  for (const el of ast) {
    if (el.type === TYPE.literal) out.push(el.value);
    else if (el.type === TYPE.tag) out.push(...literals(el.children));
    else if (el.type === TYPE.plural || el.type === TYPE.select) for (const o of Object.values(el.options)) out.push(...literals(o.value));
  }
  return out;
}

const parsed = new Map<string, Map<string, MessageFormatElement[]>>();

t.test('every message parses as ICU MessageFormat', async (t) => {
  const broken: string[] = [];
  for (const [lang, catalog] of catalogs) {
    const asts = new Map<string, MessageFormatElement[]>();
    parsed.set(lang, asts);
    for (const [key, text] of catalog) {
      try {
        const ast = parse(text);
        asts.set(key, ast);
        const swallowed = literals(ast).find((l) => /[{}]|<\/?[a-z]/i.test(l));
        if (swallowed !== undefined) broken.push(`${fileOf(lang, key)}: "${swallowed}" is text, not a placeholder or tag (an ASCII apostrophe quotes what follows: write ’)`);
      } catch (err) {
        broken.push(`${fileOf(lang, key)}: ${(err as Error).message} in ${JSON.stringify(text)}`);
      }
    }
  }
  t.same(broken, [], 'broken messages');
});

t.test('every translation has the English placeholders, tags, plurals and selects (names and types)', async (t) => {
  const differ: string[] = [];
  const source = parsed.get(SOURCE_LANGUAGE)!;
  for (const [lang, asts] of parsed) {
    if (lang === SOURCE_LANGUAGE) continue;
    for (const [key, ast] of asts) {
      const en = source.get(key);
      if (!en) continue; // reported as an extra key above
      let result: { success: boolean; error?: Error };
      try {
        result = isStructurallySame(en, ast);
      } catch (err) {
        result = { success: false, error: err as Error };
      }
      if (!result.success) differ.push(`${fileOf(lang, key)}: ${result.error?.message} (en: ${JSON.stringify(english.get(key))}, ${lang}: ${JSON.stringify(catalogs.get(lang)!.get(key))})`);
    }
  }
  t.same(differ, [], 'placeholders that differ from English');
});

/**
 * String literals that look like a key: an area (a catalog file's name), a dot and more. A literal ending in a
 * dot, or a template literal continuing with `${`, is a prefix the code completes. Audit action names
 * (`action: 'staff.create'`) share the look and are stored, never shown, so they are not keys; nor are file
 * names (`'staff.json'`).
 */
interface KeyUse {
  literal: string;
  prefix: boolean;
  where: string;
}

function keyUses(): KeyUse[] {
  const uses: KeyUse[] = [];
  const area = areas.join('|');
  const literal = new RegExp(`(action\\s*:\\s*)?(['"\`])((?:${area})\\.[A-Za-z0-9_.-]*)(\\2|\\$\\{)`, 'g');
  for (const file of keySources()) {
    // Comments describe keys and files (`staff.json`); only code names them.
    const code = file.text.replace(/^\s*(\/\/|\/?\*).*$/gm, (line) => ' '.repeat(line.length));
    for (const m of code.matchAll(literal)) {
      const text = m[3]!;
      if (m[1] || /\.(json|m?js|ts|eta|css)$/.test(text)) continue;
      uses.push({ literal: text, prefix: m[4] === '${' || text.endsWith('.'), where: `${file.path}:${lineOf(code, m.index)}` });
    }
  }
  return uses;
}

t.test('every key is used, and every key the code names exists in English', async (t) => {
  const uses = keyUses();
  const used = new Set(uses.filter((u) => !u.prefix).map((u) => u.literal));
  const unused = [...english.keys()].filter((k) => !used.has(k) && !DYNAMIC_PREFIXES.some((p) => k.startsWith(p))).map((k) => fileOf(SOURCE_LANGUAGE, k));
  t.same(unused, [], 'keys no source file names (remove them, or list their prefix in DYNAMIC_PREFIXES if built at run time)');

  const unknown = uses.filter((u) => !u.prefix && !english.has(u.literal)).map((u) => `${u.where}: '${u.literal}'`);
  t.same(unknown, [], 'keys named in the source but missing from locales/en');

  const unlisted = uses.filter((u) => u.prefix && !DYNAMIC_PREFIXES.includes(u.literal)).map((u) => `${u.where}: '${u.literal}…'`);
  t.same(unlisted, [], 'keys built at run time from a prefix not in DYNAMIC_PREFIXES (list it, so its keys count as used)');

  const empty = DYNAMIC_PREFIXES.filter((p) => ![...english.keys()].some((k) => k.startsWith(p)));
  t.same(empty, [], 'DYNAMIC_PREFIXES entries that match no key');
});
