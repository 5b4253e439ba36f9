import MarkdownIt from 'markdown-it';
import { escapeHtml } from '../i18n/translator.js';
import { sanitizeMailHtml } from './sanitize.js';
import { decodePercent } from './text.js';

/**
 * What agents write responses and notes in: a Markdown subset (emphasis, lists, links, quotes, inline code and
 * code blocks). Built on markdown-it's empty preset with only those rules switched on, so a construct we did
 * not choose (headings, tables, raw HTML) stays the text it was written as. Raw HTML is off in the parser, and
 * the output still goes through the mail sanitiser: the parser is not trusted to be the only line.
 */
// Quotes and lists nested deeper than this are not Markdown anyone means (and markdown-it stops there).
const MAX_NESTING = 20;
// A variable, not a literal: the typings leave out maxNesting, which markdown-it reads.
const options = { html: false, breaks: true, linkify: true, typographer: false, maxNesting: MAX_NESTING };
const md = new MarkdownIt('zero', options);
md.enable(['blockquote', 'code', 'fence', 'list', 'reference', 'paragraph']);
md.enable(['emphasis', 'backticks', 'link', 'image', 'autolink', 'newline', 'escape', 'entity', 'linkify']);

const escape = md.utils.escapeHtml;

interface Env {
  cids: string[];
}

// Images by URL would tell the sender when and where the mail is read, and show whatever the URL serves later:
// only `cid:` images (attachments of the same entry, e.g. a pasted screenshot) become images; others their text.
md.renderer.rules.image = (tokens, idx, options, env: Env, self) => {
  const token = tokens[idx]!;
  const src = token.attrGet('src') ?? '';
  const alt = self.renderInlineAsText(token.children ?? [], options, env);
  if (!/^cid:/i.test(src)) return escape(alt);
  env.cids.push(decodePercent(src.slice(4)).trim());
  return `<img src="${escape(src)}" alt="${escape(alt)}">`;
};

export interface RenderedMarkdown {
  /** Sanitised HTML, safe to store as the entry's HTML and to mail. */
  html: string;
  /** The Content-IDs the text shows as inline images (`![name](cid:name)`). */
  cids: string[];
}

export function renderMarkdown(source: string): RenderedMarkdown {
  const env: Env = { cids: [] };
  const tokens = md.parse(source, env);
  // Past its nesting limit markdown-it drops the rest of the quote or list (a guard against hostile input):
  // text nested that deep is shown as the plain text it is, so that nothing written goes missing.
  if (tokens.some((tk) => tk.nesting === 1 && tk.level >= MAX_NESTING - 1)) return { html: textToHtml(source), cids: [] };
  const html = sanitizeMailHtml(md.renderer.render(tokens, md.options, env));
  return { html, cids: [...new Set(env.cids)] };
}

/** Plain text as HTML: paragraphs at blank lines, line breaks kept, everything escaped. */
export function textToHtml(text: string): string {
  return text
    .trim()
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

/**
 * The HTML of an agent's entry: the formatted text, then the signature as it was written (a signature is not
 * Markdown: an address with underscores must not turn italic).
 */
export function entryHtml(markdown: string, signature: string): RenderedMarkdown {
  const body = renderMarkdown(markdown);
  return signature ? { ...body, html: `${body.html}\n${textToHtml(signature)}` } : body;
}

const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp)$/;

/**
 * Files the text shows inline get their Content-ID: the name the text refers to. The thread shows them in
 * place through the attachment route, and the mail sends them as related parts the HTML points at.
 */
export function markInlineImages<F extends { filename: string; contentType: string }>(files: F[], cids: string[]): Array<F & { contentId?: string; inline?: boolean }> {
  const wanted = new Set(cids);
  return files.map((f) => (wanted.has(f.filename) && INLINE_IMAGE.test(f.contentType) ? { ...f, contentId: f.filename, inline: true } : f));
}
