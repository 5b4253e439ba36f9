import { notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { Principal, Ticket } from './ticket.js';

/** Longest values of a ticket's fields; mail intake shortens to these rather than refusing a message. */
export const LIMITS = { subject: 255, message: 200_000, name: 120 } as const;

/** At most this many attachments are stored per entry; the raw message keeps the rest. */
export const MAX_INBOUND_FILES = 50;

export const ticketNotFound = () => notFound('TICKET_NOT_FOUND', 'errors.ticket.not_found');

/** Whether `s` can be a ticket number at all: anything else is not looked up. */
export const isTicketNumber = (s: string) => /^\d{4,16}$/.test(s);

export function validateBody(fields: FieldErrors, message: string, field = 'message'): void {
  if (!message.trim()) fields[field] = 'validation.message_required';
  else if (message.length > LIMITS.message) fields[field] = msg('validation.too_long', { max: LIMITS.message });
}

/** What the write-side services ask of the read side: the access rule, and the requester's link. */
export interface TicketAccess {
  get(p: Principal, number: string): Promise<Ticket>;
  /** `t`, read by the caller, if the principal may see it; not found otherwise (as `get`). */
  visible(p: Principal, t: Ticket | null): Ticket;
  accessLink(ticket: Pick<Ticket, 'id' | 'number' | 'userId' | 'accessEpoch'>): string;
}
