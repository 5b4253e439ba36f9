import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Our outgoing Message-IDs carry the ticket and entry they belong to and an HMAC over both, so a reply that
 * quotes one in In-Reply-To or References finds its ticket without a lookup and cannot be forged to land on
 * someone else's ticket. The version prefix lets a newer format coexist with mails already out in the world:
 * - `sb1.<ticketId>.<entryId>.<nonce>.<mac>`: places a reply on its ticket, nothing more (also the ticket's
 *   root id, which every mail about the ticket references and which names nobody);
 * - `sb2.<ticketId>.<entryId>.<recipient>.<nonce>.<mac>`: also names, as a keyed hash, the one address the
 *   mail was sent to, so a reply quoting it proves its sender received that mail (DESIGN.md §11). A hash,
 *   not the address, because the id travels on in every later reply's References.
 */
const MAC_HEX = 32;
const RECIPIENT_HEX = 16;
const V1 = /^sb1\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{1,32})\.([0-9a-f]{32})$/;
const V2 = /^sb2\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{1,32})\.([0-9a-f]{32})$/;

export interface SignedRef {
  ticketId: number;
  entryId: number;
  /** The keyed hash of the address the mail was sent to; null for an id that names nobody (version 1, root). */
  recipient: string | null;
}

export class MessageIdSigner {
  constructor(
    private readonly key: Buffer,
    private readonly domain: string,
  ) {}

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(`message-id:${payload}`).digest('hex').slice(0, MAC_HEX);
  }

  private recipientTag(address: string): string {
    return createHmac('sha256', this.key).update(`recipient:${address.trim().toLowerCase()}`).digest('hex').slice(0, RECIPIENT_HEX);
  }

  private build(payload: string): string {
    return `${payload}.${this.mac(payload)}@${this.domain}`;
  }

  /** A fresh id for one outgoing mail to one recipient (without angle brackets). */
  sign(ticketId: number, entryId: number, recipient: string): string {
    return this.build(`sb2.${ticketId}.${entryId}.${this.recipientTag(recipient)}.${randomBytes(8).toString('hex')}`);
  }

  /** The stable id that every mail about a ticket references, so a reply to any of them finds the ticket. */
  root(ticketId: number): string {
    return this.build(`sb1.${ticketId}.0.0`);
  }

  /** The ticket and entry a Message-ID of ours names, or null for a foreign or tampered one. */
  verify(messageId: string): SignedRef | null {
    const id = normaliseMessageId(messageId);
    if (!id) return null;
    const at = id.lastIndexOf('@');
    const local = at > 0 ? id.slice(0, at) : id;
    const m = V2.exec(local) ?? V1.exec(local);
    if (!m) return null;
    const given = Buffer.from(m[m.length - 1]!);
    const expected = Buffer.from(this.mac(local.slice(0, local.length - MAC_HEX - 1)));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return { ticketId: Number(m[1]), entryId: Number(m[2]), recipient: m.length === 6 ? m[3]! : null };
  }

  /** Whether a verified id was sent to this address. */
  isSignedTo(ref: SignedRef, address: string): boolean {
    if (!ref.recipient) return false;
    return timingSafeEqual(Buffer.from(ref.recipient), Buffer.from(this.recipientTag(address)));
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
