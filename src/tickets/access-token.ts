import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, expiring links for clients: `<ticketId>.<userId>.<expiry seconds>.<hmac>`. Stateless, so any node
 * verifies them; bound to one ticket and one user, so a forwarded link opens nothing else.
 */
export class AccessTokens {
  constructor(
    private readonly key: Buffer,
    private readonly ttlDays = 30,
  ) {}

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(`access:${payload}`).digest('base64url');
  }

  sign(ticketId: number, userId: number, now: Date): string {
    const expiry = Math.floor(now.getTime() / 1000) + this.ttlDays * 86400;
    const payload = `${ticketId}.${userId}.${expiry}`;
    return `${payload}.${this.mac(payload)}`;
  }

  verify(token: string, now: Date): { ticketId: number; userId: number } | null {
    const m = /^(\d+)\.(\d+)\.(\d+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) return null;
    const payload = `${m[1]}.${m[2]}.${m[3]}`;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(m[4]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (Number(m[3]) * 1000 < now.getTime()) return null;
    return { ticketId: Number(m[1]), userId: Number(m[2]) };
  }
}
