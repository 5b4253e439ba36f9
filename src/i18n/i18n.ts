import { pseudoCatalog, readCatalogs, type Catalog } from './catalog.js';
import { LANGUAGES, PSEUDO, SOURCE_LANGUAGE, parseAcceptLanguage, type Language } from './languages.js';
import { Translator } from './translator.js';

/**
 * The shipped catalogs and one Translator per language, made once at start. Choosing a reader's language is
 * `pick`: the first of their candidates (a preference, a cookie, a Content-Language) this installation
 * offers, else the site default. Unknown codes are skipped, never an error.
 */
export class I18n {
  private readonly translators = new Map<string, Translator>();
  readonly languages: readonly Language[];

  constructor(catalogs: Map<string, Catalog>, options: { pseudoLocale: boolean }) {
    const source = catalogs.get(SOURCE_LANGUAGE);
    if (!source) throw new Error(`the ${SOURCE_LANGUAGE} catalog is missing`);
    const english = new Translator(LANGUAGES.find((l) => l.code === SOURCE_LANGUAGE)!, source, null);
    this.translators.set(SOURCE_LANGUAGE, english);
    for (const lang of LANGUAGES) {
      if (lang.code === SOURCE_LANGUAGE) continue;
      this.translators.set(lang.code, new Translator(lang, catalogs.get(lang.code) ?? new Map(), english));
    }
    const offered = [...LANGUAGES];
    if (options.pseudoLocale) {
      this.translators.set(PSEUDO.code, new Translator(PSEUDO, pseudoCatalog(source), english));
      offered.push(PSEUDO);
    }
    this.languages = offered;
  }

  static load(dir: string, options: { pseudoLocale: boolean }): I18n {
    return new I18n(readCatalogs(dir), options);
  }

  /** The offered code this one names ("da", "DA", "da-DK" → "da"), or null. */
  supported(code: string | null | undefined): string | null {
    if (!code) return null;
    const c = code.trim().toLowerCase();
    for (const l of this.languages) if (l.code.toLowerCase() === c) return l.code;
    const base = c.split('-')[0]!;
    for (const l of this.languages) if (l.code === base) return l.code;
    return null;
  }

  /** The first offered language among the candidates, or null. */
  first(candidates: Array<string | null | undefined>): string | null {
    for (const c of candidates) {
      const s = this.supported(c);
      if (s) return s;
    }
    return null;
  }

  /** The first offered language among the candidates, else the fallback (the site default). */
  pick(candidates: Array<string | null | undefined>, fallback: string): string {
    return this.first(candidates) ?? this.supported(fallback) ?? SOURCE_LANGUAGE;
  }

  /** Accept-Language's codes, best first, as candidates for `pick`. */
  fromAcceptLanguage(header: string | undefined): string[] {
    return parseAcceptLanguage(header).filter((tag) => tag !== '*');
  }

  translator(code: string | null | undefined): Translator {
    return this.translators.get(this.supported(code) ?? SOURCE_LANGUAGE)!;
  }
}
