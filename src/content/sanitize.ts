import sanitizeHtml from 'sanitize-html';
import { splitHtml } from './reply-trim.js';
import { decodePercent, wellFormed } from './text.js';

/**
 * HTML from outside (mail, and whatever else reaches a page as markup) is hostile until proven otherwise.
 * A strict allowlist: structure and emphasis, links and images, tables; no script, no style (it can hide or
 * overlay content), no event handlers, forms, frames, objects or SVG, no javascript:/data: links. The stored copy is sanitised once at intake; rendering
 * sanitises again while it resolves images, so a weakness in one pass is not enough. The page's CSP is
 * the third line.
 */
const ALLOWED_TAGS = [
  'a', 'abbr', 'address', 'b', 'big', 'blockquote', 'br', 'caption', 'center', 'cite', 'code', 'col', 'colgroup',
  'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'font', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins',
  'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup',
  'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var',
];

const CELL = ['colspan', 'rowspan', 'align', 'valign', 'width'];

const RASTER_DATA_URL = /^data:image\/(png|gif|jpeg|webp);base64,[a-z0-9+/=\s]+$/i;

// Quote containers of the common clients, renamed to one class that display code folds away.
const QUOTE_IDS = new Set(['appendonsend', 'divrplyfwdmsg', 'mail-editor-reference-message-container']);
const QUOTE_CLASSES = /\b(gmail_quote|yahoo_quoted|moz-cite-prefix|protonmail_quote|sb-quote)\b/;

function baseOptions(transformImg: sanitizeHtml.Transformer): sanitizeHtml.IOptions {
  return {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title', 'target', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      table: ['width', 'border', 'cellpadding', 'cellspacing', 'align'],
      td: CELL,
      th: CELL,
      col: ['span', 'width'],
      colgroup: ['span', 'width'],
      ol: ['start', 'type'],
      li: ['value'],
      div: ['class'],
      blockquote: ['class'],
      '*': ['dir', 'lang', 'title'],
    },
    allowedClasses: { div: ['sb-quote'], blockquote: ['sb-quote'], span: ['sb-blocked-image'] },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['http', 'https', 'cid', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    // Elements whose text content is dropped with them: code, styles, and the <title> of the mail's <head>.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'xmp', 'noembed', 'noframes', 'template'],
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' } }),
      div: (tagName, attribs) =>
        QUOTE_IDS.has((attribs.id ?? '').toLowerCase()) || QUOTE_CLASSES.test(attribs.class ?? '')
          ? { tagName, attribs: { class: 'sb-quote' } }
          : { tagName, attribs: { ...attribs, class: '' } },
      blockquote: (tagName, attribs) =>
        (attribs.type ?? '').toLowerCase() === 'cite' || QUOTE_CLASSES.test(attribs.class ?? '')
          ? { tagName, attribs: { class: 'sb-quote' } }
          : { tagName, attribs: { ...attribs, class: '' } },
      img: transformImg,
    },
  };
}

/** The Content-ID a `cid:` URL names (RFC 2392: percent-encoded, angle brackets optional). */
function cidOf(src: string): string {
  return decodePercent(src.slice(4)).trim().replace(/^<|>$/g, '');
}

const keepSafeImages: sanitizeHtml.Transformer = (tagName, attribs) => {
  const src = (attribs.src ?? '').trim();
  if (/^data:/i.test(src) && !RASTER_DATA_URL.test(src)) return { tagName, attribs: { ...attribs, src: '' } };
  // Stored in one well-formed spelling, so that nothing reading it later meets a malformed escape ("cid:%").
  if (/^cid:/i.test(src)) return { tagName, attribs: { ...attribs, src: `cid:${encodeURI(wellFormed(cidOf(src)))}` } };
  return { tagName, attribs };
};

const STORE_OPTIONS = baseOptions(keepSafeImages);

/** The copy stored with the entry: safe to render, images still pointing where the sender pointed them. */
export function sanitizeMailHtml(html: string): string {
  return sanitizeHtml(html, STORE_OPTIONS);
}

export interface RenderOptions {
  /** The URL of the stored attachment with this Content-ID, or null when there is none. */
  inlineImageUrl(contentId: string): string | null;
  /** The viewer asked to load this entry's remote images. */
  allowRemoteImages: boolean;
}

export interface RenderedHtml {
  bodyHtmlSanitized: string;
  /** Quoted history, folded away by the page; null when none was found. */
  quotedHtmlSanitized: string | null;
  /** How many remote images were held back (the page offers to show them when > 0). */
  blockedRemoteImages: number;
}

/**
 * Stored mail HTML made ready for a page: cid: images point at our stored attachments, remote images are
 * replaced by their alt text unless the viewer opted in (they tell the sender when and where mail is read),
 * and quoted history is split off to be folded.
 */
export function renderMailHtml(stored: string, opts: RenderOptions): RenderedHtml {
  let blocked = 0;
  const options = baseOptions((tagName, attribs) => {
    const src = (attribs.src ?? '').trim();
    const alt = attribs.alt ?? '';
    if (/^cid:/i.test(src)) {
      // Rows stored before intake normalised cids may still hold a malformed escape: cidOf never throws.
      const url = opts.inlineImageUrl(cidOf(src));
      return url ? { tagName, attribs: { ...attribs, src: url } } : { tagName: 'span', attribs: { class: 'sb-blocked-image' }, text: alt ? `[${alt}]` : '' };
    }
    if (/^https?:/i.test(src)) {
      if (opts.allowRemoteImages) return { tagName, attribs };
      blocked++;
      return { tagName: 'span', attribs: { class: 'sb-blocked-image' }, text: alt ? `[image: ${alt}]` : '[image]' };
    }
    if (RASTER_DATA_URL.test(src)) return { tagName, attribs };
    return { tagName: 'span', attribs: { class: 'sb-blocked-image' }, text: alt ? `[${alt}]` : '' };
  });
  try {
    const parts = splitHtml(stored);
    const bodyHtmlSanitized = sanitizeHtml(parts ? parts.visible : stored, options);
    const quotedHtmlSanitized = parts ? sanitizeHtml(parts.quoted, options) : null;
    return { bodyHtmlSanitized, quotedHtmlSanitized, blockedRemoteImages: blocked };
  } catch {
    // Rendering never fails on stored content (a page that answers 500 on every view loses the whole
    // ticket): an entry whose HTML cannot be rendered is shown by its text version, which every entry has.
    return { bodyHtmlSanitized: '', quotedHtmlSanitized: null, blockedRemoteImages: 0 };
  }
}

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' };

/** The text of an HTML message: line breaks where blocks end, tags dropped, entities decoded. */
export function htmlToText(html: string): string {
  const withBreaks = html.replace(/<br\s*\/?>/gi, '\n').replace(/<\/(p|div|li|tr|h[1-6]|blockquote|pre)>/gi, '$&\n');
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {}, nonTextTags: ['script', 'style', 'title', 'head', 'template'] });
  return text.replace(/&(lt|gt|quot|#39|amp);/g, (e) => ENTITIES[e]!).replace(/\n{3,}/g, '\n\n').trim();
}
