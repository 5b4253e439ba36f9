import { LOCALES_DIR } from '../paths.js';
import { I18n } from './i18n.js';

/** The settings key holding the administrator's choice of site language. */
export const DEFAULT_LANGUAGE_SETTING = 'default_language';

const loaded = new Map<boolean, I18n>();

/** The shipped catalogs, read once per process (every app a test builds shares them). */
export function loadI18n(pseudoLocale: boolean): I18n {
  let i18n = loaded.get(pseudoLocale);
  if (!i18n) {
    i18n = I18n.load(LOCALES_DIR, { pseudoLocale });
    loaded.set(pseudoLocale, i18n);
  }
  return i18n;
}
