/**
 * The languages Switchboard ships. `intl` is the locale Intl formats dates and numbers with (English pages use
 * day-month-year, as the sites we serve expect). `dir` goes on <html>: a right-to-left catalog added here needs
 * no layout work, the CSS uses logical properties.
 */
export interface Language {
  code: string;
  /** The language's own name, as a switcher shows it. */
  name: string;
  intl: string;
  dir: 'ltr' | 'rtl';
}

export const LANGUAGES: readonly Language[] = [
  { code: 'en', name: 'English', intl: 'en-GB', dir: 'ltr' },
  { code: 'da', name: 'Dansk', intl: 'da-DK', dir: 'ltr' },
  { code: 'et', name: 'Eesti', intl: 'et-EE', dir: 'ltr' },
];

/**
 * Accented and about 35% longer English, generated from the English catalog: pages rendered in it show at a
 * glance which text bypasses the catalogs and where a longer language would overflow. Offered only when the
 * configuration enables it (i18n.pseudoLocale).
 */
export const PSEUDO: Language = { code: 'en-XA', name: 'Ƥšéûðö', intl: 'en-GB', dir: 'ltr' };

export const SOURCE_LANGUAGE = 'en';

/**
 * The codes a browser asks for, best first (RFC 9110 §12.5.4): q=0 excluded, malformed parts ignored, at most
 * 20 parts read so a hostile header costs nothing.
 */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  const out: Array<{ tag: string; q: number; i: number }> = [];
  const parts = header.slice(0, 1000).split(',').slice(0, 20);
  parts.forEach((part, i) => {
    const [rawTag, ...params] = part.trim().split(';');
    const tag = rawTag?.trim().toLowerCase() ?? '';
    if (!/^[a-z]{1,8}(-[a-z0-9]{1,8})*$|^\*$/.test(tag)) return;
    let q = 1;
    for (const p of params) {
      if (!/^\s*q\s*=/i.test(p)) continue;
      // An unreadable or out-of-range weight (q=2, q=x) makes the part malformed, not a first choice.
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      q = m ? Number(m[1]) : Number.NaN;
    }
    if (q > 0 && q <= 1) out.push({ tag, q, i });
  });
  return out.sort((a, b) => b.q - a.q || a.i - b.i).map((x) => x.tag);
}
