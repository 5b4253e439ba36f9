import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import { requireAdmin } from '../departments/department-service.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import { ValidationError } from '../errors.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { SettingsRepository } from './settings-repository.js';

export interface SiteLanguageDeps {
  db: Database;
  settings: SettingsRepository;
  /** Raised with the setting: the directory cache holds it, so every node reads the change within DIRECTORY_REFRESH_MS. */
  version: DirectoryVersion;
  audit: AuditRepository;
  /** The settings key (the i18n module's; domain code does not import it). */
  key: string;
  /** The offered language a code names, else null (I18n.supported). */
  supported: (code: string) => string | null;
  /** The language in effect: the stored choice, else the configuration's. */
  current: () => Promise<string>;
}

/** The administrator's choice of the language for everyone who has not chosen their own. */
export class SiteLanguageService {
  constructor(private readonly deps: SiteLanguageDeps) {}

  /** The offered code, or the field error the settings form shows; nothing written. */
  check(code: string): string {
    const language = this.deps.supported(code);
    if (!language) throw new ValidationError({ defaultLanguage: 'validation.choose_from_list' });
    return language;
  }

  async set(actor: StaffPrincipal, code: string): Promise<void> {
    requireAdmin(actor);
    const language = this.check(code);
    const { db, settings, version, audit, key, current } = this.deps;
    // Saving the settings form without touching the language writes nothing and reloads no node's directory,
    // and does not pin the configuration's default into the database.
    if ((await current()) === language) return;
    await db.transaction(async () => {
      // The write first: a SQLite transaction that reads before it writes cannot wait for another writer.
      await version.bump();
      await settings.set(key, language);
      await audit.record({ staffId: actor.staffId, action: 'settings.default_language', objectType: 'settings', objectId: key, details: { language } });
    });
  }
}
