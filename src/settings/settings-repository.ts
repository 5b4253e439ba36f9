import type { Database } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';

export class SettingsRepository {
  constructor(private readonly db: Database) {}

  async get(key: string): Promise<string | null> {
    const row = await this.db.run((q) => q('settings').where({ key }).first('value'));
    return row ? (row.value as string) : null;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      const n = await trx('settings').where({ key }).update({ value });
      if (n === 0) await trx('settings').insert({ key, value });
    });
  }

  async delete(key: string): Promise<void> {
    await this.db.run((q) => q('settings').where({ key }).delete());
  }

  /** Deletes the key only while it still holds `value`: a compare-and-delete between nodes. */
  async deleteIfEquals(key: string, value: string): Promise<void> {
    await this.db.run((q) => q('settings').where({ key, value }).delete());
  }

  /** Inserts only if absent and returns whichever value won: two nodes starting together agree on one. */
  async getOrInsert(key: string, make: () => string): Promise<string> {
    const existing = await this.get(key);
    if (existing !== null) return existing;
    try {
      await this.db.run((q) => q('settings').insert({ key, value: make() }));
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return (await this.get(key))!;
  }
}
