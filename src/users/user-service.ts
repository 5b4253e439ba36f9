import type { Database } from '../db/database.js';
import { UniqueViolation } from '../db/errors.js';
import { ValidationError } from '../errors.js';
import { isEmail, normaliseEmail } from './email.js';
import type { User, UserRepository } from './user-repository.js';

export class UserService {
  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
  ) {}

  get(id: number): Promise<User | null> {
    return this.users.get(id);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findByEmail(normaliseEmail(email));
  }

  /**
   * The requester for a new ticket: the user who owns this address, or a new one. A user who exists keeps
   * their name; a second form submission with another spelling does not rename them.
   */
  async findOrCreate(name: string, email: string): Promise<User> {
    const address = normaliseEmail(email);
    if (!isEmail(address)) throw new ValidationError({ email: 'Enter a valid e-mail address.' });
    const existing = await this.users.findByEmail(address);
    if (existing) return existing;
    const displayName = name.trim() || address.split('@')[0]!;
    try {
      // A savepoint would be needed to recover from the unique violation inside an outer transaction; the
      // race it guards against (two first messages from one new address at once) is rare enough to retry instead.
      return await this.users.insert(displayName.slice(0, 120), address);
    } catch (err) {
      if (err instanceof UniqueViolation && !this.db.inTransaction) return (await this.users.findByEmail(address))!;
      throw err;
    }
  }
}
