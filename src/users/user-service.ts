import { UniqueViolation } from '../db/errors.js';
import { ValidationError } from '../errors.js';
import { isEmail, normaliseEmail } from './email.js';
import type { User, UserRepository } from './user-repository.js';

export class UserService {
  constructor(private readonly users: UserRepository) {}

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
    if (!isEmail(address)) throw new ValidationError({ email: 'validation.email_invalid' });
    const existing = await this.users.findByEmail(address);
    if (existing) return existing;
    const displayName = name.trim() || address.split('@')[0]!;
    try {
      return await this.users.insert(displayName.slice(0, 120), address);
    } catch (err) {
      // Two first messages from one new address at once (API, portal, mail): the other one's user won. The
      // insert ran under a savepoint, so the caller's transaction goes on with the winner.
      if (!(err instanceof UniqueViolation)) throw err;
      const winner = await this.users.findByEmail(address, { latest: true });
      if (!winner) throw err;
      return winner;
    }
  }
}
