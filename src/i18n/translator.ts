import { TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import type { Catalog } from './catalog.js';
import type { Language } from './languages.js';
import { toMessage, type MessageParams, type Msg } from './message.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** Tags a message may use in tHtml without the caller naming them. */
const PLAIN_TAGS = ['strong', 'em', 'code', 'b'];

const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

type Chunks = unknown[];
const inner = (chunks: Chunks) => chunks.join('');

function collectTags(elements: MessageFormatElement[], into: Record<string, (c: Chunks) => string>): void {
  for (const el of elements) {
    if (el.type === TYPE.tag) {
      into[el.value] = inner;
      collectTags(el.children, into);
    } else if (el.type === TYPE.plural || el.type === TYPE.select) for (const o of Object.values(el.options)) collectTags(o.value, into);
  }
}

/**
 * A compiled message. `tags` holds a handler for every tag it uses that keeps the enclosed text and drops the
 * markup: intl-messageformat refuses to format a message with a tag nobody handles. A page prints a hundred
 * messages or more, so most skip the formatter: `constant` is the text of a message with no placeholder and no
 * tag (most labels), and `printable` says the Translator prints it itself (`print`): every message made of
 * text, placeholders, plurals, selects, tags and numbers without a style, which is every shipped one.
 */
interface Compiled {
  format: IntlMessageFormat;
  ast: MessageFormatElement[];
  tags: Readonly<Record<string, (c: Chunks) => string>> | null;
  constant: string | null;
  printable: boolean;
}

const printable = (elements: MessageFormatElement[]): boolean =>
  elements.every((el) => {
    if (el.type === TYPE.tag) return printable(el.children);
    if (el.type === TYPE.plural || el.type === TYPE.select) return Object.values(el.options).every((o) => printable(o.value));
    return el.type === TYPE.literal || el.type === TYPE.argument || el.type === TYPE.pound || (el.type === TYPE.number && !el.style);
  });

function compile(text: string, locale: string): Compiled {
  const format = new IntlMessageFormat(text, locale, undefined, { ignoreTag: false });
  const ast = format.getAst();
  const found: Record<string, (c: Chunks) => string> = {};
  collectTags(ast, found);
  const constant = ast.every((el) => el.type === TYPE.literal) ? ast.map((el) => (el as { value: string }).value).join('') : null;
  return { format, ast, tags: Object.keys(found).length ? found : null, constant, printable: printable(ast) };
}

// Stored times can be unreadable (a zero date from an old dump): they show as nothing, never a 500.
const valid = (d: Date) => d instanceof Date && !Number.isNaN(d.getTime());

/**
 * Everything a reader sees, in one language: catalog messages (ICU MessageFormat, compiled on first use and
 * kept), dates, relative times, numbers and lists through Intl. A key this language lacks falls back to the
 * English catalog; a key no catalog has is shown as given, so a page never fails on a message.
 */
const TEXT_CACHE_MAX = 20_000;

export class Translator {
  private readonly compiled = new Map<string, Compiled | null>();
  private readonly rtf: Intl.RelativeTimeFormat;
  private readonly exactFormats = new Map<string, Intl.DateTimeFormat>();
  /**
   * Formatted times, by zone and minute, and relative phrases: Intl's formatting was a fifth of the CPU of a
   * ticket page with a long history (each entry and event shows both). Bounded: emptied when full.
   */
  private readonly exactTexts = new Map<string, string>();
  private readonly relativeTexts = new Map<string, string>();
  private readonly numberFormat: Intl.NumberFormat;
  private readonly listFormat: Intl.ListFormat;
  private readonly plurals: Record<Intl.PluralRuleType, Intl.PluralRules>;
  private readonly byteFormats: Record<'byte' | 'kilobyte' | 'megabyte', [Intl.NumberFormat, Intl.NumberFormat]>;

  constructor(
    readonly language: Language,
    private readonly catalog: Catalog,
    private readonly fallback: Translator | null,
  ) {
    this.rtf = new Intl.RelativeTimeFormat(language.intl, { numeric: 'auto' });
    this.numberFormat = new Intl.NumberFormat(language.intl);
    this.listFormat = new Intl.ListFormat(language.intl, { style: 'long', type: 'conjunction' });
    this.plurals = { cardinal: new Intl.PluralRules(language.intl, { type: 'cardinal' }), ordinal: new Intl.PluralRules(language.intl, { type: 'ordinal' }) };
    const unit = (u: string, digits: number) => new Intl.NumberFormat(language.intl, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: digits });
    this.byteFormats = { byte: [unit('byte', 0), unit('byte', 0)], kilobyte: [unit('kilobyte', 1), unit('kilobyte', 0)], megabyte: [unit('megabyte', 1), unit('megabyte', 0)] };
  }

  get locale(): string {
    return this.language.code;
  }

  get dir(): 'ltr' | 'rtl' {
    return this.language.dir;
  }

  has(key: string): boolean {
    return this.catalog.has(key) || (this.fallback?.has(key) ?? false);
  }

  private format(key: string): Compiled | null {
    let f = this.compiled.get(key);
    if (f === undefined) {
      const text = this.catalog.get(key);
      try {
        f = text === undefined ? null : compile(text, this.language.intl);
      } catch {
        f = null; // a broken message (the catalog test refuses them): the English one stands in
      }
      this.compiled.set(key, f);
    }
    return f;
  }

  /**
   * The text of a message with no placeholder and no tag, as `t` and `tHtml` return it without parameters
   * (this language's, else the English one); null for any other message or an unknown key. The templates
   * print such labels as constants (web/views.ts).
   */
  label(key: string): string | null {
    const f = this.format(key);
    return f ? f.constant : (this.fallback?.label(key) ?? null);
  }

  /** A message as plain text (the templates escape it). Accepts a key with parameters or a domain Message. */
  t = (m: Msg, params?: MessageParams): string => {
    const { key, params: own } = toMessage(m);
    const values = params ?? own;
    const f = this.format(key);
    if (!f) return this.fallback ? this.fallback.t(key, values) : key;
    if (f.constant !== null) return f.constant;
    const plain = values ? this.plain(values) : {};
    if (f.printable) {
      const out = this.print(f.ast, plain, null);
      if (out !== null) return out;
      return this.fallback ? this.fallback.t(key, values) : key;
    }
    try {
      const out = f.format.format({ ...f.tags, ...plain });
      return Array.isArray(out) ? out.join('') : String(out);
    } catch {
      return this.fallback ? this.fallback.t(key, values) : key;
    }
  };

  /**
   * A ticket's subject as readers see it. Mail intake stores an empty subject for a mail without one, not a
   * placeholder in some language: pages, titles and mail subjects name it here, in the reader's.
   */
  subject = (subject: string): string => subject || this.t('common.ticket.no_subject');

  /**
   * A message as HTML: every parameter escaped, <strong>/<em>/<code>/<b> kept, and each tag named in `links`
   * made a link to that address; any other tag keeps its (escaped) content and loses the markup. The result is
   * safe to print raw.
   */
  tHtml = (m: Msg, params?: MessageParams, links: Record<string, string> = {}): string => {
    const { key, params: own } = toMessage(m);
    const given = params ?? own;
    const f = this.format(key);
    if (!f) return this.fallback ? this.fallback.tHtml(key, given, links) : escapeHtml(key);
    if (f.constant !== null) return f.constant;
    const escaped: Record<string, string | number> = given ? this.plain(given) : {};
    for (const k in escaped) if (typeof escaped[k] === 'string') escaped[k] = escapeHtml(escaped[k]);
    if (f.printable) {
      const out = this.print(f.ast, escaped, links);
      if (out !== null) return out;
      return this.fallback ? this.fallback.tHtml(key, given, links) : escapeHtml(key);
    }
    const values: Record<string, unknown> = { ...f.tags, ...escaped };
    if (f.tags) {
      for (const tag of PLAIN_TAGS) values[tag] = (chunks: unknown[]) => `<${tag}>${chunks.join('')}</${tag}>`;
      for (const [tag, href] of Object.entries(links)) values[tag] = (chunks: unknown[]) => `<a href="${escapeHtml(href)}">${chunks.join('')}</a>`;
    }
    try {
      const out = f.format.format(values as Record<string, string>);
      return Array.isArray(out) ? out.join('') : String(out);
    } catch {
      return this.fallback ? this.fallback.tHtml(key, given, links) : escapeHtml(key);
    }
  };

  /**
   * A printable message's text, as intl-messageformat prints it (test/i18n/print.test.ts holds the two equal on
   * every shipped message): `links` null prints tags as the text they enclose (t), else as tHtml does. Null
   * where the formatter would refuse: a value missing, or given for a name the message uses as a tag.
   */
  private print(elements: MessageFormatElement[], values: Record<string, string | number>, links: Record<string, string> | null, pound?: number): string | null {
    let out = '';
    for (const el of elements) {
      if (el.type === TYPE.literal) out += el.value;
      else if (el.type === TYPE.pound) out += pound === undefined ? '' : this.numberFormat.format(pound);
      else if (el.type === TYPE.tag) {
        const inner = this.print(el.children, values, links, pound);
        if (inner === null) return null;
        if (links && Object.hasOwn(links, el.value)) out += `<a href="${escapeHtml(links[el.value]!)}">${inner}</a>`;
        else if (links && PLAIN_TAGS.includes(el.value)) out += `<${el.value}>${inner}</${el.value}>`;
        else if (el.value in values) return null;
        else out += inner;
      } else {
        if (!(el.value in values)) return null;
        const v = values[el.value]!;
        if (el.type === TYPE.argument) out += typeof v === 'number' || v ? String(v) : '';
        else if (el.type === TYPE.number) out += this.numberFormat.format(v as number);
        else if (el.type === TYPE.select) {
          const chosen = this.print((Object.hasOwn(el.options, v) ? el.options[v]! : el.options.other!).value, values, links);
          if (chosen === null) return null;
          out += chosen;
        } else if (el.type === TYPE.plural) {
          const n = Number(v) - (el.offset || 0);
          const option = el.options[`=${v}`] ?? el.options[this.pluralRules(el.pluralType).select(n)] ?? el.options.other!;
          const chosen = this.print(option.value, values, links, n);
          if (chosen === null) return null;
          out += chosen;
        } else return null;
      }
    }
    return out;
  }

  private pluralRules(type: Intl.PluralRuleType = 'cardinal'): Intl.PluralRules {
    return this.plurals[type];
  }

  // Dates in parameters print in this language's style; a number named `...Bytes` as a size (domain code
  // knows sizes but not units); other numbers stay numbers for plural rules.
  private plain(values: MessageParams): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(values)) out[k] = v instanceof Date ? this.exact(v, 'UTC') : typeof v === 'number' && k.endsWith('Bytes') ? this.bytes(v) : v;
    return out;
  }

  /** "3 hours ago", "3 timer siden", "3 tundi tagasi". */
  relative = (d: Date, now: Date): string => {
    if (!valid(d)) return '';
    const secs = Math.round((d.getTime() - now.getTime()) / 1000);
    for (const [unit, size] of RELATIVE_UNITS) {
      if (Math.abs(secs) >= size) return this.relativeText(Math.trunc(secs / size), unit);
    }
    // 45 to 59 seconds reads as a minute: truncating would say "this minute".
    return Math.abs(secs) < 45 ? this.t('common.time.just_now') : this.relativeText(secs < 0 ? -1 : 1, 'minute');
  };

  private relativeText(value: number, unit: Intl.RelativeTimeFormatUnit): string {
    const key = `${value} ${unit}`;
    let text = this.relativeTexts.get(key);
    if (text === undefined) {
      if (this.relativeTexts.size >= TEXT_CACHE_MAX) this.relativeTexts.clear();
      text = this.rtf.format(value, unit);
      this.relativeTexts.set(key, text);
    }
    return text;
  }

  /**
   * The exact time in a zone, e.g. "22 Nov 2026, 17:05 CET" / "22. nov. 2026 17.05 CET". A zone this
   * runtime's time-zone data does not know (saved on a node with newer data) falls back to UTC.
   */
  exact = (d: Date, timeZone: string): string => {
    if (!valid(d)) return '';
    // The format shows minutes, so every time within one minute prints the same.
    const key = `${timeZone} ${Math.floor(d.getTime() / 60_000)}`;
    const known = this.exactTexts.get(key);
    if (known !== undefined) return known;
    let f = this.exactFormats.get(timeZone);
    if (!f) {
      const options: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', hourCycle: 'h23' };
      try {
        f = new Intl.DateTimeFormat(this.language.intl, { ...options, timeZone });
      } catch {
        f = new Intl.DateTimeFormat(this.language.intl, { ...options, timeZone: 'UTC' });
      }
      this.exactFormats.set(timeZone, f);
    }
    if (this.exactTexts.size >= TEXT_CACHE_MAX) this.exactTexts.clear();
    const text = f.format(d);
    this.exactTexts.set(key, text);
    return text;
  };

  number = (n: number): string => this.numberFormat.format(n);

  list = (items: string[]): string => this.listFormat.format(items);

  /** A size as "980 byte", "4.2 kB", "12 MB" in this language's units and digits (one decimal below 10). */
  bytes = (n: number): string => {
    const [unit, value] = n < 1024 ? (['byte', n] as const) : n < 1024 * 1024 ? (['kilobyte', n / 1024] as const) : (['megabyte', n / 1024 / 1024] as const);
    return this.byteFormats[unit][value < 10 ? 0 : 1].format(value);
  };
}
