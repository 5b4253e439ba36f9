import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Our outgoing Message-IDs carry the ticket and entry they belong to and an HMAC over both, so a reply that
 * quotes one in In-Reply-To or References finds its ticket without a lookup and cannot be forged to land on
 * someone else's ticket. Format (version 1): `sb1.<ticketId>.<entryId>.<nonce>.<mac>@<mail domain>`; the
 * version prefix lets a later format coexist with mails already out in the world.
 */
const VERSION = 'sb1';
const MAC_HEX = 32;
const OURS = /^sb1\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{1,32})\.([0-9a-f]{32})$/;

export interface SignedRef {
  ticketId: number;
  entryId: number;
}

export class MessageIdSigner {
  constructor(
    private readonly key: Buffer,
    private readonly domain: string,
  ) {}

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(`message-id:${payload}`).digest('hex').slice(0, MAC_HEX);
  }

  private build(ticketId: number, entryId: number, nonce: string): string {
    const payload = `${VERSION}.${ticketId}.${entryId}.${nonce}`;
    return `${payload}.${this.mac(payload)}@${this.domain}`;
  }

  /** A fresh id for one outgoing mail (without angle brackets). */
  sign(ticketId: number, entryId: number): string {
    return this.build(ticketId, entryId, randomBytes(8).toString('hex'));
  }

  /** The stable id that every mail about a ticket references, so a reply to any of them finds the ticket. */
  root(ticketId: number): string {
    return this.build(ticketId, 0, '0');
  }

  /** The ticket and entry a Message-ID of ours names, or null for a foreign or tampered one. */
  verify(messageId: string): SignedRef | null {
    const id = normaliseMessageId(messageId);
    if (!id) return null;
    const at = id.lastIndexOf('@');
    const m = OURS.exec(at > 0 ? id.slice(0, at) : id);
    if (!m) return null;
    const expected = Buffer.from(this.mac(`${VERSION}.${m[1]}.${m[2]}.${m[3]}`));
    const given = Buffer.from(m[4]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return { ticketId: Number(m[1]), entryId: Number(m[2]) };
  }
}

/** `<a@b>` and ` a@b ` name the same message; the id itself is compared case-sensitively (RFC 5322 §3.6.4). */
export function normaliseMessageId(id: string): string | null {
  const s = id.trim().replace(/^<+/, '').replace(/>+$/, '').trim();
  return s && s.length <= 998 && !/[\s<>]/.test(s) ? s : null;
}

export function messageIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The ids in an In-Reply-To or References header value, in order. */
export function splitMessageIds(value: string | string[] | undefined | null): string[] {
  if (!value) return [];
  const text = Array.isArray(value) ? value.join(' ') : value;
  const out: string[] = [];
  for (const m of text.matchAll(/<([^<>\s]+)>/g)) {
    const id = normaliseMessageId(m[1]!);
    if (id) out.push(id);
  }
  return out;
}
