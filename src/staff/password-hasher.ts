import argon2 from 'argon2';

/** argon2id's costs (RFC 9106 §4): memory in KiB, passes, lanes. */
export interface PasswordHashCost {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Agents' passwords as argon2id hashes at the site's configured cost. A hash stores its own parameters, so a
 * raised (or lowered) cost applies to old hashes at their owner's next sign-in, through `needsRehash`.
 */
export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(private readonly cost: PasswordHashCost) {}

  private get options() {
    return { type: argon2.argon2id, memoryCost: this.cost.memoryKiB, timeCost: this.cost.timeCost, parallelism: this.cost.parallelism } as const;
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  /** False for a wrong password and for a stored value that is no hash at all (an invited account's). */
  verify(hash: string, password: string): Promise<boolean> {
    return argon2.verify(hash, password).catch(() => false);
  }

  /** Takes as long as `verify` does, for a name that matches no account: timing must not tell which exist. */
  async verifyNothing(password: string): Promise<false> {
    this.dummy ??= this.hash(`not-a-real-password-${Math.random()}`);
    await argon2.verify(await this.dummy, password);
    return false;
  }

  /** Whether a verified hash was made at other costs than today's, and should be replaced. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, { memoryCost: this.cost.memoryKiB, timeCost: this.cost.timeCost, parallelism: this.cost.parallelism });
  }
}
