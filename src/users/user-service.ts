import { UniqueViolation } from '../db/errors.js';
import { ValidationError } from '../errors.js';
import { domainOf, isEmail, normaliseEmail } from './email.js';
import type { User, UserRepository } from './user-repository.js';

/**
 * The language a new ticket's requester is known to use: `code` is one this site offers. From the portal
 * (`replace`) it is what they are reading and replaces what was stored; from a mail's Content-Language it only
 * starts a new user off, since a mail client's header says less than a choice made in the portal.
 */
export interface RequesterLanguage {
  code: string;
  replace: boolean;
}

export class UserService {
  constructor(
    private readonly users: UserRepository,
    /** The organization whose domains include this one: new users join it (mail, portal, API alike). */
    private readonly organizationForDomain: (domain: string) => Promise<number | null> = async () => null,
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
  async findOrCreate(name: string, email: string, language: RequesterLanguage | null = null): Promise<User> {
    const address = normaliseEmail(email);
    if (!isEmail(address)) throw new ValidationError({ email: 'validation.email_invalid' });
    const existing = await this.users.findByEmail(address);
    if (existing) {
      if (!language?.replace || existing.language === language.code) return existing;
      await this.users.setLanguage(existing.id, language.code);
      return { ...existing, language: language.code };
    }
    const displayName = name.trim() || address.split('@')[0]!;
    try {
      const organizationId = await this.organizationForDomain(domainOf(address));
      return await this.users.insert(displayName.slice(0, 120), address, language?.code ?? null, organizationId);
    } catch (err) {
      // Two first messages from one new address at once (API, portal, mail): the other one's user won. The
      // insert took its own row back, so the caller's transaction goes on with the winner.
      if (!(err instanceof UniqueViolation)) throw err;
      const winner = await this.users.findByEmail(address, { latest: true });
      if (!winner) throw err;
      return winner;
    }
  }

  /** The user a merged user became, or null: one hop, since a merge re-points earlier merges to its survivor. */
  mergedInto(id: number): Promise<number | null> {
    return this.users.mergedInto(id);
  }

  /** `code` is one this site offers (the web layer checks); null returns the user to the site default. */
  setLanguage(userId: number, code: string | null): Promise<void> {
    return this.users.setLanguage(userId, code);
  }
}
