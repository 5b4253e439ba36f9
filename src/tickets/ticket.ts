import type { StaffPrincipal } from '../staff/staff.js';

/** The statuses agents set. */
export const STATUSES = ['open', 'resolved', 'closed'] as const;
/**
 * 'spam' is set only by "Mark as spam" (ticket-removal.ts): every queue lists one of the statuses above, so a
 * spam ticket leaves them all without a filter on the queue queries; the retention job deletes it later.
 */
export type TicketStatus = (typeof STATUSES)[number] | 'spam';

/** Stored as numbers so that queues sort by urgency. */
export const PRIORITIES = { 1: 'Low', 2: 'Normal', 3: 'High', 4: 'Urgent' } as const;
export type Priority = 1 | 2 | 3 | 4;
export const DEFAULT_PRIORITY: Priority = 2;
export const isPriority = (n: unknown): n is Priority => n === 1 || n === 2 || n === 3 || n === 4;

export const SOURCES = ['web', 'email', 'phone', 'api'] as const;
export type TicketSource = (typeof SOURCES)[number];

export const QUEUES = ['open', 'mine', 'unassigned', 'answered', 'closed'] as const;
export type Queue = (typeof QUEUES)[number];

export const SORTS = ['updated', 'created', 'number', 'priority', 'subject'] as const;
export type Sort = (typeof SORTS)[number];

export interface Ticket {
  id: number;
  number: string;
  subject: string;
  userId: number;
  requesterName: string;
  requesterEmail: string;
  /** The requester's stored language (null: the site default when mail is sent). */
  requesterLanguage: string | null;
  departmentId: number;
  departmentName: string;
  topicId: number | null;
  topicName: string | null;
  assigneeId: number | null;
  assigneeName: string | null;
  status: TicketStatus;
  isAnswered: boolean;
  priority: Priority;
  source: TicketSource;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  /** The mailbox the ticket arrived at; our mail about it comes from that address. */
  mailboxId: number | null;
  /** Signs the ticket's access links; bumped to revoke them. */
  accessEpoch?: number;
  /** Set once the ticket was merged into another: its number stays as an alias of that one. */
  mergedIntoId?: number | null;
}

/** Another ticket of the same requester, as the ticket page lists them. */
export interface RequesterTicket {
  number: string;
  subject: string;
  status: TicketStatus;
  updatedAt: Date;
}

export type TicketListRow = Omit<Ticket, 'topicId' | 'topicName' | 'closedAt' | 'source' | 'userId' | 'mailboxId' | 'requesterLanguage'> & {
  /** A queue row of a ticket merged into another: that one's number, which the row leads to. */
  mergedIntoNumber?: string | null;
};

/** A client in the portal. `ticketId` scopes a guest (status check, access link) to that one ticket. */
export interface ClientPrincipal {
  kind: 'client';
  userId: number;
  ticketId: number | null;
}

export type Principal = StaffPrincipal | ClientPrincipal;

export interface FileInput {
  filename: string;
  contentType: string;
  data: Buffer;
  contentId?: string | null;
  inline?: boolean;
}
