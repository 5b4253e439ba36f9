import type { Database } from '../db/database.js';
import { UniqueViolation } from '../db/errors.js';
import { fromDbTimeRequired, toDbTime } from '../db/time.js';
import type { Collaborator } from './collaborator-repository.js';
import type { TicketStatus } from './ticket.js';

/** A ticket linked to another, as the ticket page lists it. */
export interface LinkedTicket {
  id: number;
  number: string;
  subject: string;
  status: TicketStatus;
  departmentId: number;
  assigneeId: number | null;
  linkedAt: Date;
}

/** What the ticket page shows around the thread: who is copied, related tickets, numbers merged into this one. */
export interface TicketRelations {
  collaborators: Collaborator[];
  links: LinkedTicket[];
  mergedFrom: string[];
}

/** Collaborators with their name and primary address, as one row per (ticket, user). */
const COLLABORATORS = `(SELECT c.ticket_id, c.user_id, c.created_at, u.name, e.address FROM ticket_collaborators c
  JOIN users u ON u.id = c.user_id JOIN user_emails e ON e.user_id = u.id AND e.is_primary = 1)`;
const LINKS = `(SELECT l.ticket_id, l.linked_id, l.created_at, lt.number, lt.subject, lt.status, lt.department_id, lt.assignee_id
  FROM ticket_links l JOIN tickets lt ON lt.id = l.linked_id)`;

/**
 * Collaborators, links and merges of a ticket. The ticket page reads them as JSON subselects (`columns`) in
 * one statement with its other extras, since the page has a statement budget; the writes are plain rows.
 */
export class TicketRelationsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Columns for the ticket page's extras statement (TicketRepository.extras): each a function of the SQL that
   * stands for the ticket's id. Read back with `fromRow`.
   */
  columns(): Record<'rel_collaborators' | 'rel_links' | 'rel_merged_from', (ticketId: string) => string> {
    const db = this.db;
    return {
      rel_collaborators: (id) => db.jsonArray(COLLABORATORS, ['user_id', 'name', 'address', 'created_at'], `a.ticket_id = ${id}`, 'a.created_at, a.user_id'),
      rel_links: (id) => db.jsonArray(LINKS, ['linked_id', 'number', 'subject', 'status', 'department_id', 'assignee_id', 'created_at'], `a.ticket_id = ${id}`, 'a.created_at, a.linked_id'),
      rel_merged_from: (id) => db.jsonArray('tickets', ['number'], `a.merged_into_id = ${id}`, 'a.number'),
    };
  }

  fromRow(r: Partial<Record<string, unknown>>): TicketRelations {
    return {
      collaborators: this.db.jsonRows(r.rel_collaborators).map((c) => ({ userId: Number(c.user_id), name: String(c.name), email: String(c.address) })),
      links: this.db.jsonRows(r.rel_links).map((l) => ({
        id: Number(l.linked_id), number: String(l.number), subject: String(l.subject), status: l.status as TicketStatus,
        departmentId: Number(l.department_id), assigneeId: l.assignee_id === null ? null : Number(l.assignee_id), linkedAt: fromDbTimeRequired(String(l.created_at)),
      })),
      mergedFrom: this.db.jsonRows(r.rel_merged_from).map((m) => String(m.number)),
    };
  }

  /** Links both ways; false when they were linked already. */
  async link(a: number, b: number, staffId: number | null, at: Date): Promise<boolean> {
    const exists = await this.db.run((q) => q('ticket_links').where({ ticket_id: a, linked_id: b }).first('ticket_id'));
    if (exists) return false;
    const created_at = toDbTime(at);
    try {
      await this.db.savepoint(() => this.db.run((q) => q('ticket_links').insert([{ ticket_id: a, linked_id: b, staff_id: staffId, created_at }, { ticket_id: b, linked_id: a, staff_id: staffId, created_at }])));
    } catch (err) {
      // Another agent linked the same two tickets a moment ago (the primary key): linked, as asked.
      if (err instanceof UniqueViolation) return false;
      throw err;
    }
    return true;
  }

  /** Both directions; false when they were not linked. */
  async unlink(a: number, b: number): Promise<boolean> {
    const n = await this.db.run((q) => q('ticket_links').where((w) => w.where({ ticket_id: a, linked_id: b }).orWhere({ ticket_id: b, linked_id: a })).delete());
    return n > 0;
  }

  /** A merge: the merged tickets' links become the survivor's (never to itself), and their own rows go. */
  async moveLinks(fromIds: number[], toId: number, at: Date): Promise<void> {
    const rows = await this.db.run((q) => q('ticket_links').whereIn('ticket_id', fromIds).select('linked_id', 'staff_id'));
    await this.db.run((q) => q('ticket_links').whereIn('ticket_id', fromIds).orWhereIn('linked_id', fromIds).delete());
    for (const r of rows as Array<{ linked_id: number; staff_id: number | null }>) {
      const other = Number(r.linked_id);
      if (other !== toId && !fromIds.includes(other)) await this.link(toId, other, r.staff_id === null ? null : Number(r.staff_id), at);
    }
  }

  /**
   * A merge's first write: the merged tickets point at the survivor, if none of them nor the survivor was
   * merged meanwhile. Checked by conditional UPDATEs and their row counts, not by the reads before them
   * (DESIGN.md §9 "row locks"): two agents merging A into B and B into A at once would otherwise make a
   * cycle. All rows are touched first in one statement, so that concurrent merges lock them in the same order.
   * False: something changed, and the caller's transaction must roll back.
   */
  async claimMerge(fromIds: number[], toId: number, at: Date): Promise<boolean> {
    const all = [toId, ...fromIds];
    await this.db.run((q) => q('tickets').whereIn('id', all).update({ updated_at: toDbTime(at) }));
    const survivor = await this.db.run((q) => q('tickets').where('id', toId).whereNull('merged_into_id').update({ updated_at: toDbTime(at) }));
    const merged = await this.db.run((q) => q('tickets').whereIn('id', fromIds).whereNull('merged_into_id').update({ merged_into_id: toId }));
    if (survivor !== 1 || merged !== fromIds.length) return false;
    // Tickets merged into these before now point at the survivor too: an alias is always one hop.
    await this.db.run((q) => q('tickets').whereIn('merged_into_id', fromIds).update({ merged_into_id: toId }));
    return true;
  }
}
