import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { printAST } from '@formatjs/icu-messageformat-parser/printer.js';

/** One language's messages, keyed `area.key` (the file locales/<lang>/<area>.json holds the area's keys). */
export type Catalog = ReadonlyMap<string, string>;

/**
 * Reads locales/<lang>/<area>.json for every language directory. A file's keys are prefixed with its area,
 * so `staff.json`'s "queue.title" is `staff.queue.title`. A broken file stops the start with its name: a
 * catalog is part of the code, and test/i18n/catalogs.test.ts parses every message before it lands.
 */
export function readCatalogs(dir: string): Map<string, Catalog> {
  const out = new Map<string, Catalog>();
  for (const lang of readdirSync(dir, { withFileTypes: true })) {
    if (!lang.isDirectory()) continue;
    const messages = new Map<string, string>();
    for (const file of readdirSync(join(dir, lang.name)).filter((f) => f.endsWith('.json')).sort()) {
      const area = file.slice(0, -'.json'.length);
      const path = join(dir, lang.name, file);
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
      }
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`${path}: expected an object of messages`);
      for (const [key, text] of Object.entries(data)) {
        if (typeof text !== 'string') throw new Error(`${path}: "${key}" is not a string`);
        messages.set(`${area}.${key}`, text);
      }
    }
    out.set(lang.name, messages);
  }
  return out;
}

// Accented look-alikes keep the text readable while showing at a glance what never went through a catalog.
const ACCENTED: Record<string, string> = {
  a: 'á', b: 'ƀ', c: 'ç', d: 'ð', e: 'é', f: 'ƒ', g: 'ĝ', h: 'ĥ', i: 'î', j: 'ĵ', k: 'ķ', l: 'ļ', m: 'ɱ',
  n: 'ñ', o: 'ö', p: 'þ', q: 'ǫ', r: 'ŕ', s: 'š', t: 'ţ', u: 'û', v: 'ṽ', w: 'ŵ', x: 'ẋ', y: 'ý', z: 'ž',
  A: 'Å', B: 'Ɓ', C: 'Ç', D: 'Ð', E: 'É', F: 'Ƒ', G: 'Ĝ', H: 'Ĥ', I: 'Î', J: 'Ĵ', K: 'Ķ', L: 'Ļ', M: 'Ṁ',
  N: 'Ñ', O: 'Ö', P: 'Þ', Q: 'Ǫ', R: 'Ŕ', S: 'Š', T: 'Ţ', U: 'Û', V: 'Ṽ', W: 'Ŵ', X: 'Ẋ', Y: 'Ý', Z: 'Ž',
};

function accent(elements: MessageFormatElement[]): void {
  for (const el of elements) {
    // An HTML entity (&lt;, &amp;) in a tHtml message stays readable to the browser.
    if (el.type === TYPE.literal) el.value = el.value.replace(/&#?\w+;|[a-zA-Z]/g, (c) => (c.length > 1 ? c : ACCENTED[c] ?? c));
    else if (el.type === TYPE.tag) accent(el.children);
    else if (el.type === TYPE.plural || el.type === TYPE.select) for (const o of Object.values(el.options)) accent(o.value);
  }
}

/** The length of a message's own text as a reader sees it: a plural or select counts its longest branch. */
function textLength(elements: MessageFormatElement[]): number {
  let n = 0;
  for (const el of elements) {
    if (el.type === TYPE.literal) n += el.value.length;
    else if (el.type === TYPE.tag) n += textLength(el.children);
    else if (el.type === TYPE.plural || el.type === TYPE.select) n += Math.max(0, ...Object.values(el.options).map((o) => textLength(o.value)));
  }
  return n;
}

/**
 * The pseudo-locale's text for one English message: letters accented outside placeholders and tags, and
 * padded by about 35% of its text (at least two characters) with tildes inside brackets, as longer
 * languages run.
 */
export function pseudoMessage(source: string): string {
  const ast = parse(source);
  // Broken into words as a language's text would be: one long run of tildes cannot wrap, and would report an
  // overflow no real language causes.
  const pad = Array.from({ length: Math.max(2, Math.round(textLength(ast) * 0.35)) }, (_, i) => (i % 8 === 7 ? ' ' : '~')).join('').trimEnd();
  accent(ast);
  return `[${printAST(ast)} ${pad}]`;
}

export function pseudoCatalog(source: Catalog): Catalog {
  return new Map([...source].map(([key, text]) => [key, pseudoMessage(text)]));
}
