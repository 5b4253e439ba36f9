import { isCjk, tokenize } from './tokenize.js';

/**
 * One thing a ticket must (or must not) contain: a single token, matched as a prefix when `prefix`, or a
 * phrase of several tokens that must stand next to each other in one field or entry.
 */
export interface Term {
  tokens: string[];
  prefix: boolean;
}

export interface ParsedQuery {
  /** Every one must match somewhere in the ticket (subject, any visible entry, requester, ...). */
  terms: Term[];
  /** None may match anywhere visible in the ticket. */
  excluded: Term[];
}

/** Longer input is cut: no question a person types needs more, and every term is a scan of the index. */
export const MAX_QUERY_CHARS = 500;
/** Terms past this many are ignored, for the same reason. */
export const MAX_TERMS = 12;
/**
 * Shorter words match exactly: "pr*" would read a large part of the index for a result nobody wants. A single
 * CJK character is the exception, as it is a word of its own.
 */
export const MIN_PREFIX_CHARS = 3;

/**
 * Words that alone find nearly every ticket, in the languages we ship (en, da, et): dropped from the words of a
 * query, kept inside "quoted phrases" (the index keeps every word, so "to be or not to be" is still found).
 */
const STOP_WORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'from', 'has', 'have', 'i', 'if', 'in', 'is', 'it', 'its', 'me', 'my',
  'no', 'not', 'of', 'on', 'or', 'our', 'so', 'that', 'the', 'their', 'this', 'to', 'was', 'we', 'were', 'will', 'with', 'you', 'your',
  'af', 'at', 'de', 'den', 'der', 'det', 'du', 'en', 'er', 'et', 'for', 'har', 'jeg', 'med', 'og', 'om', 'pa', 'som', 'til', 'vi',
  'ei', 'ja', 'ka', 'kui', 'mis', 'ning', 'oli', 'on', 'see', 'et', 'ma', 'sa', 'ta',
]);

const termKey = (t: Term): string => `${t.prefix ? '*' : ''}${t.tokens.join(' ')}`;

function wordTerm(chunk: string): Term | null {
  const tokens = tokenize(chunk, 'query');
  if (!tokens.length) return null;
  if (tokens.length > 1) return { tokens, prefix: false };
  const [token] = tokens as [string];
  if (STOP_WORDS.has(token)) return null;
  return { tokens, prefix: [...token].length >= MIN_PREFIX_CHARS || isCjk(token) };
}

/**
 * Reads what a person typed in the search box. Words are matched as prefixes (`print` finds printer, every
 * word, not only the last); "quoted phrases" exactly; `-word` or `-"a phrase"` excludes. A word that our
 * tokenising splits (bob@example.com, e-mail, 打印机) is a phrase of its parts. A quote left open is ignored, so
 * `"printer` reads as the word printer; symbols are separators and never reach an engine (each engine builds
 * its own syntax from the tokens, which are letters and digits only). A query left with no words (only stop
 * words, symbols or exclusions) has no terms and no exclusions: the caller searches by its filters alone.
 */
export function parseQuery(raw: string): ParsedQuery {
  const text = [...raw].slice(0, MAX_QUERY_CHARS).join('');
  const quotes = (text.match(/"/g) ?? []).length;
  // With an odd number of quotes the last one opens nothing.
  const balanced = quotes % 2 === 0 ? text : text.replace(/"(?=[^"]*$)/, ' ');
  const terms: Term[] = [];
  const excluded: Term[] = [];
  const seen = new Set<string>();
  for (const [, minus, phrase, word] of balanced.matchAll(/(-?)(?:"([^"]*)"|([^\s"]+))/g)) {
    let term: Term | null;
    if (phrase !== undefined) {
      const tokens = tokenize(phrase, 'query');
      term = tokens.length ? { tokens, prefix: false } : null;
    } else {
      term = wordTerm(word!);
    }
    if (!term || seen.has(termKey(term))) continue;
    seen.add(termKey(term));
    (minus ? excluded : terms).push(term);
  }
  // Exclusions alone would mean every ticket but a few: a scan of the whole desk, so they apply only to words.
  return terms.length ? { terms: terms.slice(0, MAX_TERMS), excluded: excluded.slice(0, MAX_TERMS) } : { terms: [], excluded: [] };
}
