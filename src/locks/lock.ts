/** A live lock on a ticket: while it lasts, only its holder may respond or change the ticket. */
export interface TicketLock {
  ticketId: number;
  staffId: number;
  holderName: string;
  acquiredAt: Date;
  expiresAt: Date;
  /**
   * Names this taking of the lock: new on every acquire, kept by renewals. Releases must name it, so a page
   * that took or saw an earlier lock cannot release one taken since. Null only for locks older than tokens.
   */
  token: string | null;
}

/** Left for an agent whose lock an administrator or manager broke; shown once, on their next renewal. */
export interface LockNotice {
  ticketId: number;
  releasedById: number | null;
  releasedByName: string;
  releasedAt: Date;
}

/** What an agent's page needs to know after taking, renewing or looking at a lock. */
export interface LockState {
  /** The live lock, whoever holds it; null when the ticket is free. */
  lock: TicketLock | null;
  /** The acting agent holds `lock`. */
  mine: boolean;
  notice: LockNotice | null;
}

export interface Viewer {
  staffId: number;
  name: string;
  seenAt: Date;
}

/** What a lock guards: responses always, notes unless the setting allows them, every change of the ticket's properties. */
export type LockedAction = 'respond' | 'note' | 'change';

export const LOCK_MODES = ['activity', 'view'] as const;
export type LockMode = (typeof LOCK_MODES)[number];
