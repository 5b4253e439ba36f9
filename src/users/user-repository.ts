import type { Database } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';

export interface User {
  id: number;
  name: string;
  email: string;
  /** The language their notices are written in; null: the site's default at sending time. */
  language: string | null;
  createdAt: Date;
}

export class UserRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.q('users as u').join('user_emails as e', (j) => j.on('e.user_id', 'u.id').andOn('e.is_primary', this.db.q.raw('?', [true]))).select('u.id', 'u.name', 'u.language', 'u.created_at', 'e.address');
  }

  private map = (r: Record<string, unknown>): User => ({
    id: Number(r.id),
    name: r.name as string,
    email: r.address as string,
    language: (r.language as string | null) ?? null,
    createdAt: fromDbTimeRequired(r.created_at as string),
  });

  async get(id: number): Promise<User | null> {
    const r = await this.db.run(() => this.base().where('u.id', id).first());
    return r ? this.map(r) : null;
  }

  /**
   * `address` must already be normalised (lower-cased). `latest`: read the newest committed row even inside a
   * transaction whose MySQL snapshot predates it (a locking read; SQLite has one writer and needs none).
   */
  async findByEmail(address: string, opts: { latest?: boolean } = {}): Promise<User | null> {
    // One query for every inbound mail's sender: the address may be a secondary one, the user comes with the primary.
    const r = await this.db.run(() => {
      const query = this.base().join('user_emails as given', 'given.user_id', 'u.id').where('given.address', address);
      return (opts.latest ? query.forShare() : query).first();
    });
    return r ? this.map(r) : null;
  }

  /**
   * The new user as stored, without reading it back: every value is known here. Someone else may create the
   * same address first (a UniqueViolation on it): then this user row goes again, so no orphan stays, and the
   * caller's transaction goes on, since MySQL and SQLite undo only the failed statement. A savepoint did the same
   * for two more round trips on every new sender (bench:mail), where the race is rare.
   */
  async insert(name: string, address: string, language: string | null = null): Promise<User> {
    const createdAt = toDbTime(this.clock.now());
    return this.db.transaction(async (trx) => {
      const [id] = await trx('users').insert({ name, language, created_at: createdAt });
      try {
        await trx('user_emails').insert({ user_id: id, address, is_primary: true });
      } catch (err) {
        if (isUniqueViolation(err)) await trx('users').where({ id }).delete();
        throw err;
      }
      return { id: Number(id), name, email: address, language, createdAt: fromDbTimeRequired(createdAt) };
    });
  }

  async setLanguage(id: number, language: string | null): Promise<void> {
    await this.db.run((q) => q('users').where({ id }).update({ language }));
  }
}
