import { createHmac, timingSafeEqual } from 'node:crypto';

const TOKEN = /^(\d+)\.(\d+)\.(\d+)\.([A-Za-z0-9_-]+)$/;

/**
 * Signed, expiring links for clients: `<ticketId>.<userId>.<expiry seconds>.<hmac>`. Stateless, so any node
 * verifies them; bound to one ticket and one user, so a forwarded link opens nothing else. The MAC also covers
 * the ticket's access epoch (not in the token): revoking a ticket's links bumps the epoch, and every link
 * signed before stops verifying. Epoch 0 signs as links did before epochs existed, so those keep working.
 */
export class AccessTokens {
  constructor(
    private readonly key: Buffer,
    private readonly ttlDays = 30,
  ) {}

  private mac(payload: string, epoch: number): string {
    return createHmac('sha256', this.key).update(`access:${payload}${epoch ? `:${epoch}` : ''}`).digest('base64url');
  }

  sign(ticketId: number, userId: number, now: Date, epoch = 0): string {
    const expiry = Math.floor(now.getTime() / 1000) + this.ttlDays * 86400;
    const payload = `${ticketId}.${userId}.${expiry}`;
    return `${payload}.${this.mac(payload, epoch)}`;
  }

  /** The ticket a token claims, before its signature is checked (to look up that ticket's epoch). */
  ticketIdOf(token: string): number | null {
    const m = TOKEN.exec(token);
    return m ? Number(m[1]) : null;
  }

  verify(token: string, now: Date, epoch = 0): { ticketId: number; userId: number } | null {
    const m = TOKEN.exec(token);
    if (!m) return null;
    const payload = `${m[1]}.${m[2]}.${m[3]}`;
    const expected = Buffer.from(this.mac(payload, epoch));
    const given = Buffer.from(m[4]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (Number(m[3]) * 1000 < now.getTime()) return null;
    return { ticketId: Number(m[1]), userId: Number(m[2]) };
  }
}

/**
 * A sent mail's stored body without its access links' tokens: the outbox keeps what was sent for admins to
 * read, but a usable credential in it would outlive the mail. The link stays, pointing at the ticket page.
 */
export function redactAccessTokens(body: string): string {
  return body.replace(/(\/tickets\/\d+)\?t=\d+\.\d+\.\d+\.[A-Za-z0-9_-]+/g, '$1');
}
