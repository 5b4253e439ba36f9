import type { Database, PreparedSelect } from '../db/database.js';
import { fromDbTimeRequired, toDbTime } from '../db/time.js';

export const DRAFT_KINDS = ['reply', 'note'] as const;
export type DraftKind = (typeof DRAFT_KINDS)[number];
export const isDraftKind = (s: unknown): s is DraftKind => s === 'reply' || s === 'note';

export interface Draft {
  kind: DraftKind;
  body: string;
  updatedAt: Date;
}

export class DraftRepository {
  /** Prepared once: every ticket page reads the agent's drafts. */
  private readonly forTicketSelect: PreparedSelect<{ staffId: number; ticketId: number }>;

  constructor(private readonly db: Database) {
    this.forTicketSelect = db.select((q, p) => q('drafts').where('staff_id', p.staffId).where('ticket_id', p.ticketId).orderBy('kind').select('kind', 'body', 'updated_at'));
  }

  /** One draft per agent, ticket and kind: a save overwrites the previous one under the unique key. */
  async save(staffId: number, ticketId: number, kind: DraftKind, body: string, at: Date): Promise<void> {
    await this.db.run((q) =>
      q('drafts')
        .insert({ staff_id: staffId, ticket_id: ticketId, kind, body, updated_at: toDbTime(at) })
        .onConflict(['staff_id', 'ticket_id', 'kind'])
        .merge(['body', 'updated_at']),
    );
  }

  async forTicket(staffId: number, ticketId: number): Promise<Draft[]> {
    const rows = await this.forTicketSelect({ staffId, ticketId });
    return rows.map((r: Record<string, unknown>) => ({ kind: r.kind as DraftKind, body: r.body as string, updatedAt: fromDbTimeRequired(r.updated_at as string) }));
  }

  async delete(staffId: number, ticketId: number, kind: DraftKind): Promise<void> {
    await this.db.run((q) => q('drafts').where({ staff_id: staffId, ticket_id: ticketId, kind }).delete());
  }
}
