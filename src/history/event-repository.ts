import type { Database } from '../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';

/**
 * What changed on a ticket. `data` holds the kind's own values, typically `from` and `to`; ids are kept with
 * the names they had (`fromName`, `toName`) so the history reads the same after a rename or a deletion.
 */
export const EVENT_KINDS = [
  'status', 'priority', 'department', 'assignee', 'collaborator_added', 'collaborator_removed',
  'lock_released', 'entry_moved_out', 'entry_moved_in',
  // Merges and links (tickets/ticket-merge.ts, tickets/ticket-relations-service.ts).
  'merged', 'merged_into', 'linked', 'unlinked',
  // Marked as spam, the sender maybe banned (tickets/ticket-removal.ts).
  'spam',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** An agent (by id, with their name at the time), the ticket's requester, or the system (rules, the scheduler). */
export type EventActor = { staffId: number; name: string } | 'requester' | 'system';

export interface NewTicketEvent {
  ticketId: number;
  actor: EventActor;
  kind: EventKind;
  data: Record<string, unknown>;
}

export interface TicketEvent {
  id: number;
  ticketId: number;
  actor: 'staff' | 'requester' | 'system';
  staffId: number | null;
  actorName: string | null;
  kind: EventKind;
  data: Record<string, unknown>;
  createdAt: Date;
}

const COLUMNS = ['id', 'ticket_id', 'actor', 'staff_id', 'actor_name', 'kind', 'data', 'created_at'] as const;

export class EventRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** In the caller's transaction, so the history and the change land together or not at all. */
  async record(...events: NewTicketEvent[]): Promise<void> {
    if (!events.length) return;
    const at = toDbTime(this.clock.now());
    await this.db.run((q) =>
      q('ticket_events').insert(
        events.map((e) => ({
          ticket_id: e.ticketId,
          actor: typeof e.actor === 'string' ? e.actor : 'staff',
          staff_id: typeof e.actor === 'string' ? null : e.actor.staffId,
          actor_name: typeof e.actor === 'string' ? null : e.actor.name,
          kind: e.kind,
          data: JSON.stringify(e.data),
          created_at: at,
        })),
      ),
    );
  }

  /**
   * SQL for a column holding, as JSON, the events of the ticket whose id is bound at `ticketId` (a placeholder
   * or a column), oldest first: the ticket page reads them with its other extras in one statement.
   */
  listJson(ticketId: string, latest?: number): string {
    const cut = latest ? ` AND a.id >= COALESCE((SELECT b.id FROM ticket_events b WHERE b.ticket_id = ${ticketId} ORDER BY b.id DESC LIMIT 1 OFFSET ${Math.trunc(latest) - 1}), 0)` : '';
    return this.db.jsonArray('ticket_events', COLUMNS, `a.ticket_id = ${ticketId}${cut}`, 'a.id');
  }

  /** SQL for a column holding how many events the ticket whose id is bound at `ticketId` has. */
  countSql(ticketId: string): string {
    return `(SELECT COUNT(*) FROM ticket_events c WHERE c.ticket_id = ${ticketId})`;
  }

  fromJson(value: unknown): TicketEvent[] {
    return this.db.jsonRows(value).map(map);
  }

  async list(ticketId: number): Promise<TicketEvent[]> {
    const rows = await this.db.run((q) => q('ticket_events').where({ ticket_id: ticketId }).orderBy('id').select(...COLUMNS));
    return rows.map(map);
  }
}

function map(r: Record<string, unknown>): TicketEvent {
  return {
    id: Number(r.id),
    ticketId: Number(r.ticket_id),
    actor: r.actor as TicketEvent['actor'],
    staffId: r.staff_id === null || r.staff_id === undefined ? null : Number(r.staff_id),
    actorName: (r.actor_name as string | null) ?? null,
    kind: r.kind as EventKind,
    data: parseData(r.data),
    createdAt: fromDbTimeRequired(String(r.created_at)),
  };
}

/** Rendering never throws on stored content: a row whose data is not an object shows as a bare event. */
function parseData(v: unknown): Record<string, unknown> {
  if (v && typeof v === 'object') return v as Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(String(v));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
