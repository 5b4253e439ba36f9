import { messageIdHash, type MessageIdSigner } from '../message-id.js';

/** What threading needs to look up; the intake service answers from the database, tests from a table. */
export interface ThreadingLookups {
  ticketExists(ticketId: number): Promise<boolean>;
  /** The ticket of the most recent entry stored with one of these Message-ID hashes. */
  ticketForMessageIdHashes(hashes: string[]): Promise<number | null>;
  ticketIdByNumber(number: string): Promise<number | null>;
  /** The requester or a collaborator of the ticket. */
  isParticipant(ticketId: number, address: string): Promise<boolean>;
  /** The ticket a merged one lives on in (merges keep one hop: ticket-merge.ts); any other ticket itself. */
  survivorOf(ticketId: number): Promise<number>;
}

export interface ThreadingInput {
  inReplyTo: string[];
  references: string[];
  subject: string;
  /** Lower-cased sender address. */
  from: string;
}

export type ThreadMatch = { ticketId: number; via: 'signed_id' | 'stored_id' | 'subject_tag' };

const SUBJECT_TAG = /\[#(\d{4,16})\]/g;

/**
 * The Message-IDs a message answers, nearest first: References lists the oldest ancestor first (RFC 5322
 * §3.6.4), so the nearest parent is In-Reply-To, then the end of References.
 */
export function parentIds(m: Pick<ThreadingInput, 'inReplyTo' | 'references'>): string[] {
  return [...new Set([...m.inReplyTo, ...[...m.references].reverse()])];
}

/**
 * Finds the ticket a message answers, in the order DESIGN.md §4 gives: our own signed Message-IDs in
 * In-Reply-To/References (the nearest parent first), then Message-IDs stored for earlier entries, then a
 * `[#NUMBER]` subject tag, trusted only from someone already on that ticket (anyone can type a number).
 * A merged ticket's number and ids stay aliases: what names it lands on the ticket it was merged into.
 */
export async function findThread(m: ThreadingInput, signer: MessageIdSigner, lookups: ThreadingLookups): Promise<ThreadMatch | null> {
  const candidates = parentIds(m);
  for (const id of candidates) {
    const ref = signer.verify(id);
    if (ref && (await lookups.ticketExists(ref.ticketId))) return { ticketId: await lookups.survivorOf(ref.ticketId), via: 'signed_id' };
  }
  if (candidates.length) {
    const ticketId = await lookups.ticketForMessageIdHashes(candidates.map(messageIdHash));
    if (ticketId !== null) return { ticketId: await lookups.survivorOf(ticketId), via: 'stored_id' };
  }
  for (const match of m.subject.matchAll(SUBJECT_TAG)) {
    const tagged = await lookups.ticketIdByNumber(match[1]!);
    const ticketId = tagged === null ? null : await lookups.survivorOf(tagged);
    if (ticketId !== null && (await lookups.isParticipant(ticketId, m.from))) return { ticketId, via: 'subject_tag' };
  }
  return null;
}
