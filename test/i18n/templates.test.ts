import t from 'tap';
import { lineOf, templates, type SourceFile } from './scan.js';

/**
 * Issue 9, item 6: a template holds no visible English outside a catalog lookup. A simple scan: blank out the
 * code blocks (`<% ... %>`), scripts, styles and comments, then report every run of letters left in the text and
 * in the attributes a reader sees (title, placeholder, aria-label, alt, label, the value of a button-like input,
 * and the data attributes the page shows: data-label as a card's column name, data-confirm as a question).
 * Inside code blocks, string literals that read as words (a capitalised word, or words with spaces) are
 * reported too: `<%= open ? 'Open' : 'Closed' %>` bypasses the catalogs just as well.
 */

/** Text that is the same in every language. */
const ALLOWED = new Set(['Switchboard', 'osTicket', 'API', 'IMAP', 'SMTP', 'HTTPS', 'UTC']);

/** Mail header names, which a code block may list as they go on the wire: protocol, not prose. */
const HEADER_NAMES = new Set(['From', 'To', 'Cc', 'Bcc', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'Content-Type', 'Content-Language']);

const VISIBLE_ATTRIBUTES = ['title', 'placeholder', 'aria-label', 'aria-description', 'aria-placeholder', 'aria-roledescription', 'aria-valuetext', 'alt', 'label', 'data-label', 'data-confirm'];

/** Blanks a match but keeps its newlines, so offsets still give the right line. */
const blank = (s: string) => s.replace(/[^\n]/g, ' ');

export interface Finding {
  where: string;
  text: string;
}

function words(text: string): string[] {
  return [...text.replace(/&#?\w+;/g, ' ').matchAll(/\p{L}[\p{L}\p{M}'’-]*/gu)].map((m) => m[0]).filter((w) => !ALLOWED.has(w));
}

/** A code block's string literals that read as words, not as a class, a path, a key or an identifier. */
function englishLiterals(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1/g)) {
    const s = m[2]!.replace(/\$\{[^}]*\}/g, ' ').trim();
    if (!/\p{L}{2}/u.test(s) || /^[\w.-]*[./][\w./-]*$/.test(s)) continue; // keys, paths and file names
    const capitalised = /^\p{Lu}\p{Ll}+/u.test(s);
    const sentence = /\p{L}{2,}[,.!?:]?\s+\p{L}{2,}/u.test(s) && !/^[a-z0-9 _-]+$/.test(s);
    const phrase = /^[a-z]+( [a-z]+){2,}$/.test(s);
    if ((capitalised || sentence || phrase) && !ALLOWED.has(s) && !HEADER_NAMES.has(s)) out.push(s);
  }
  return out;
}

export function scanTemplate(file: SourceFile): Finding[] {
  const found: Finding[] = [];
  const at = (offset: number, text: string) => found.push({ where: `${file.path}:${lineOf(file.text, offset)}`, text });
  for (const m of file.text.matchAll(/<%([\s\S]*?)%>/g)) {
    const code = m[1]!;
    if (/^\s*\/\*[\s\S]*\*\/\s*$/.test(code)) continue; // a template's comment
    for (const s of englishLiterals(code)) at(m.index, s);
  }
  let html = file.text
    .replace(/<%[\s\S]*?%>/g, blank)
    .replace(/<!--[\s\S]*?-->|<![a-zA-Z][^>]*>/g, blank)
    .replace(/(<(script|style)\b[^>]*>)([\s\S]*?)(<\/\2>)/gi, (_, open: string, _tag, body: string, close: string) => open + blank(body) + close);
  // Attributes first: what a reader sees is checked, the rest blanked with the tag.
  html = html.replace(/<[a-zA-Z][^>]*>/g, (tag, offset: number) => {
    const isButton = /^<input\b/i.test(tag) && /\btype\s*=\s*["']?(submit|button|reset)\b/i.test(tag);
    for (const a of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
      const name = a[1]!.toLowerCase();
      if (!VISIBLE_ATTRIBUTES.includes(name) && !(isButton && name === 'value')) continue;
      const value = a[2] ?? a[3] ?? a[4] ?? '';
      const w = words(value);
      if (w.length) at(offset + a.index, `${name}="${value.trim().replace(/\s{2,}/g, ' ')}"`);
    }
    return blank(tag);
  });
  html = html.replace(/<\/[a-zA-Z][^>]*>/g, blank);
  for (const m of html.matchAll(/[^\s][^\n]*/g)) {
    const w = words(m[0]);
    if (w.length) at(m.index, m[0].trim().replace(/\s{2,}/g, ' '));
  }
  return found;
}

t.test('the scan itself', async (t) => {
  const file = (text: string): SourceFile => ({ path: 'views/x.eta', text });
  t.same(scanTemplate(file('<h1><%= it.t(\'staff.queue.title\') %></h1>\n<p class="muted" id="x-1"><%~ it.tHtml(\'a.b\') %> · #<%= n %></p>')), [], 'lookups, classes, ids and punctuation pass');
  t.same(scanTemplate(file('<p>\n  Hello <%= name %>,\n  welcome</p>')).map((f) => f.where + ' ' + f.text), ['views/x.eta:2 Hello ,', 'views/x.eta:3 welcome'], 'text is reported with its line');
  t.same(scanTemplate(file('<input type="submit" value="Save"><input type="text" value="x y" placeholder="Your name"><td data-label="From"><a title="<%= it.t(\'k.x\') %>">')).map((f) => f.text), ['value="Save"', 'placeholder="Your name"', 'data-label="From"'], 'visible attributes, and only those');
  t.same(scanTemplate(file("<% const rows = [['From', m.from], ['Subject', m.subject]] %>")), [], 'mail header names in code');
  t.same(scanTemplate(file("<%= open ? 'Open' : 'closed' %><%= x ? ' in this department' : '' %><%= cls ? ' has-error' : '' %><%= it.t('staff.x', { q: 'open' }) %><% include('/partials/field') %>")).map((f) => f.text), ['Open', 'in this department'], 'word-like literals in code');
  t.same(scanTemplate(file('<script src="/a.js"></script><style>p { color: red }</style><!-- a note --><%/* a comment on it: { name } */%>')), [], 'scripts, styles and comments are not text');
  t.same(scanTemplate(file('<footer>Switchboard</footer>')), [], 'the allow-list');
});

t.test('no template shows English outside a catalog lookup', async (t) => {
  for (const file of templates()) {
    const found = scanTemplate(file);
    t.same(found.map((f) => `${f.where}: ${f.text}`), [], `${file.path}: text to move into a catalog (it.t / it.tHtml)`);
  }
});
