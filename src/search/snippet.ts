import type { Term } from './query.js';
import { fold, isCjk, tokenize } from './tokenize.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const RUN_RE = /[\p{L}\p{N}\p{M}]+/gu;

/** How much text a snippet shows around the first match, in characters. */
const BEFORE = 60;
const LENGTH = 220;

/** Whether a word of the text, as tokenised, is one the query asked for. */
function matches(tokens: string[], terms: Term[]): boolean {
  return tokens.some((tok) => terms.some((t) => t.tokens.some((want, i) => (t.prefix && i === t.tokens.length - 1 ? tok.startsWith(want) : tok === want))));
}

/** Where in a CJK run a query's characters stand (runs have no words to mark whole). */
function cjkRanges(run: string, offset: number, terms: Term[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const t of terms) {
    const want = t.tokens.filter(isCjk);
    if (!want.length) continue;
    // Bigrams overlap by one character: the phrase's text is the first character of each plus the last one.
    const text = want.length === 1 ? want[0]! : want.map((b) => [...b][0]).join('') + [...want[want.length - 1]!].slice(1).join('');
    for (let i = fold(run).indexOf(text); i >= 0; i = fold(run).indexOf(text, i + text.length)) out.push([offset + i, offset + i + text.length]);
  }
  return out;
}

/**
 * A short piece of `text` around the first words the query matched, HTML-escaped, with those words in
 * <mark>. Null when none of the text matched (the ticket matched by its subject or people).
 */
export function snippetHtml(text: string, terms: Term[]): string | null {
  const ranges: Array<[number, number]> = [];
  for (const m of text.matchAll(RUN_RE)) {
    const start = m.index;
    if (isCjk(fold(m[0]))) ranges.push(...cjkRanges(m[0], start, terms));
    else if (matches(tokenize(m[0], 'query'), terms)) ranges.push([start, start + m[0].length]);
    if (ranges.length >= 20) break;
  }
  if (!ranges.length) return null;
  ranges.sort((a, b) => a[0] - b[0]);
  let from = Math.max(0, ranges[0]![0] - BEFORE);
  // Start at a word boundary, unless the word is the text's first.
  if (from > 0) from = text.slice(from).search(/\s/) >= 0 && text.slice(from).search(/\s/) < BEFORE ? from + text.slice(from).search(/\s/) + 1 : from;
  const to = Math.min(text.length, from + LENGTH);
  let html = from > 0 ? '… ' : '';
  let at = from;
  for (const [s, e] of ranges) {
    if (s < at || e > to) continue;
    html += `${escapeHtml(text.slice(at, s))}<mark>${escapeHtml(text.slice(s, e))}</mark>`;
    at = e;
  }
  html += escapeHtml(text.slice(at, to)) + (to < text.length ? ' …' : '');
  return html.replace(/\s+/g, ' ').trim();
}
