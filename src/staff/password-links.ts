import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a link is for: resetting a forgotten password, or choosing the first one (an invitation). */
export type PasswordLinkPurpose = 'reset' | 'invite';

const TOKEN = /^(\d+)\.(reset|invite)\.(\d+)\.([A-Za-z0-9_-]{43})$/;

/**
 * Signed links that let an agent set their password: `<staffId>.<purpose>.<expiry seconds>.<hmac>`.
 * Stateless, so any node verifies them. The MAC also covers the account's current password hash (not in the
 * token), so a link stops working the moment any password is set with it or otherwise: single use without a
 * table of used tokens, and every older link dies with it.
 */
export class PasswordLinks {
  constructor(private readonly key: Buffer) {}

  private mac(payload: string, passwordHash: string): string {
    return createHmac('sha256', this.key).update(`password:${payload}:${passwordHash}`).digest('base64url');
  }

  sign(staffId: number, purpose: PasswordLinkPurpose, passwordHash: string, expiresAt: Date): string {
    const payload = `${staffId}.${purpose}.${Math.floor(expiresAt.getTime() / 1000)}`;
    return `${payload}.${this.mac(payload, passwordHash)}`;
  }

  /** The account a token names, before its signature is checked (to read that account's hash). */
  staffIdOf(token: string): number | null {
    const m = TOKEN.exec(token);
    return m ? Number(m[1]) : null;
  }

  verify(token: string, passwordHash: string, now: Date): { staffId: number; purpose: PasswordLinkPurpose } | null {
    const m = TOKEN.exec(token);
    if (!m) return null;
    const expected = Buffer.from(this.mac(`${m[1]}.${m[2]}.${m[3]}`, passwordHash));
    const given = Buffer.from(m[4]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (Number(m[3]) * 1000 < now.getTime()) return null;
    return { staffId: Number(m[1]), purpose: m[2] as PasswordLinkPurpose };
  }
}

/** The stored copy of a sent mail keeps the page a link led to, not a usable token (see access-token.ts). */
export function redactPasswordLinks(body: string): string {
  return body.replace(/(\/scp\/password\/reset)\?t=\d+\.(?:reset|invite)\.\d+\.[A-Za-z0-9_-]+/g, '$1');
}
