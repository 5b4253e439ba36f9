/**
 * Our tokens, for both engines and for both sides of a search (issue 11, item 7). FTS5 and InnoDB split and
 * fold text differently, InnoDB drops words shorter than `innodb_ft_min_token_size` (3) and its own stop words,
 * and neither segments Chinese or Japanese: so the index never holds the text, only what this function makes
 * of it, encoded so that neither engine can drop or re-split a token (`encodeToken`).
 *
 * - NFKC (full-width letters and digits, ligatures), then lower case.
 * - Diacritics are folded on Latin, Greek and Cyrillic letters (é→e, å→a, õ→o, ё→е, ά→α), and the letters
 *   Unicode does not decompose are mapped to their base (ø→o, æ→ae, ß→ss, ł→l): "søndag" and "sondag" find
 *   each other, which is what Danish and Estonian users typing without their keyboard layout expect. Marks on
 *   other scripts stay (a Japanese dakuten changes the word).
 * - A token is a run of letters, digits and marks; everything else separates. An address like bob@example.com
 *   is the tokens bob, example, com: found by any part, and whole as the phrase of all three (query.ts).
 * - Han, Hiragana, Katakana and Hangul runs, written without spaces, become overlapping bigrams ("打印机" →
 *   打印 印机); a lone character is itself. In a document the run's last character is also a token of its own,
 *   so that every character of a run starts some token and a one-character query (a prefix, query.ts) finds it
 *   wherever it stands. Queries leave it out, so that a query's bigrams stay one phrase.
 */

/** Unicode folds nothing of these: mapped by hand (after lower-casing). */
const BASE_LETTERS: Record<string, string> = { ø: 'o', æ: 'ae', œ: 'oe', ß: 'ss', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i', ħ: 'h', ŧ: 't', ς: 'σ' };
const BASE_RE = new RegExp(`[${Object.keys(BASE_LETTERS).join('')}]`, 'gu');
const MARKED_RE = /([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu;
const RUN_RE = /[\p{L}\p{N}\p{M}]+/gu;
const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u30fc';
const SEGMENT_RE = new RegExp(`[${CJK}]+|[^${CJK}]+`, 'gu');
const CJK_RE = new RegExp(`^[${CJK}]`, 'u');

/**
 * InnoDB ignores tokens longer than `innodb_ft_max_token_size` (84 characters): longer runs (hashes, base64)
 * are cut, so a prefix of them is still found.
 */
export const MAX_TOKEN_CHARS = 60;

/** Lower-cased and folded text, as tokens see it. */
export function fold(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(MARKED_RE, '$1')
    .normalize('NFC')
    .replace(BASE_RE, (c) => BASE_LETTERS[c]!);
}

export const isCjk = (token: string): boolean => CJK_RE.test(token);

/** The tokens of a text; `query` leaves out the extra last character of CJK runs (see above). */
export function tokenize(text: string, mode: 'document' | 'query' = 'document'): string[] {
  const out: string[] = [];
  for (const [run] of fold(text).matchAll(RUN_RE)) {
    for (const [segment] of run.matchAll(SEGMENT_RE)) {
      const chars = [...segment];
      if (!isCjk(segment)) {
        out.push(chars.length > MAX_TOKEN_CHARS ? chars.slice(0, MAX_TOKEN_CHARS).join('') : segment);
      } else if (chars.length === 1) {
        out.push(segment);
      } else {
        for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
        if (mode === 'document') out.push(chars[chars.length - 1]!);
      }
    }
  }
  return out;
}

/**
 * Every token is stored and searched with this mark in front: two letters, so a one-character token is three
 * characters long (InnoDB's minimum token size), and no marked token is one of InnoDB's stop words ("the",
 * "about", "will", "com"), which would otherwise vanish from the index and from phrases. Letters, so that
 * FTS5's unicode61 and InnoDB both keep the marked token whole. A prefix of a token stays a prefix once marked.
 */
export const TOKEN_MARK = 'zz';

export const encodeToken = (token: string): string => TOKEN_MARK + token;

/** What the index stores for a text: its marked tokens, space-separated. */
export const indexText = (text: string): string => tokenize(text).map(encodeToken).join(' ');
