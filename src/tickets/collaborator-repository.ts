import type { Database } from '../db/database.js';
import { UniqueViolation } from '../db/errors.js';
import { toDbTime } from '../db/time.js';

export interface Collaborator {
  userId: number;
  name: string;
  email: string;
}

/** People copied on a ticket (Cc on the first mail): they receive the responses and may reply. */
export class CollaboratorRepository {
  constructor(private readonly db: Database) {}

  /**
   * Whether the person was added: false, and nothing changed, when already copied. The insert goes first and
   * meets the primary key: a look before it would let two agents adding the same person at once both see no
   * row, and one of them fail.
   */
  async add(ticketId: number, userId: number, at: Date): Promise<boolean> {
    try {
      await this.db.run((q) => q('ticket_collaborators').insert({ ticket_id: ticketId, user_id: userId, created_at: toDbTime(at) }));
      return true;
    } catch (err) {
      if (err instanceof UniqueViolation) return false;
      throw err;
    }
  }

  /** Whether anything was removed. */
  async remove(ticketId: number, userId: number): Promise<boolean> {
    return (await this.db.run((q) => q('ticket_collaborators').where({ ticket_id: ticketId, user_id: userId }).delete())) > 0;
  }

  async list(ticketId: number): Promise<Collaborator[]> {
    const rows = await this.db.run((q) =>
      q('ticket_collaborators as c')
        .join('users as u', 'u.id', 'c.user_id')
        .join('user_emails as e', (j) => j.on('e.user_id', 'u.id').andOn('e.is_primary', q.raw('?', [true])))
        .where('c.ticket_id', ticketId)
        .orderBy([{ column: 'c.created_at' }, { column: 'c.user_id' }])
        .select('u.id', 'u.name', 'e.address'),
    );
    return rows.map((r: Record<string, unknown>) => ({ userId: Number(r.id), name: r.name as string, email: r.address as string }));
  }

  /** The requester or a collaborator of the ticket writes from this (lower-cased) address. */
  async isParticipant(ticketId: number, address: string): Promise<boolean> {
    const r = await this.db.run((q) =>
      q('user_emails as e')
        .where('e.address', address)
        .where((w) =>
          w
            .whereExists(q('tickets as t').whereRaw('t.user_id = e.user_id').where('t.id', ticketId))
            .orWhereExists(q('ticket_collaborators as c').whereRaw('c.user_id = e.user_id').where('c.ticket_id', ticketId)),
        )
        .first('e.id'),
    );
    return Boolean(r);
  }

  /**
   * A user merge: the merged user's places on tickets become the survivor's, except where the survivor is
   * already copied or is the requester (one row per person and ticket; a requester is not copied). Call it after
   * the tickets moved.
   */
  async moveUser(fromUserId: number, toUserId: number): Promise<void> {
    await this.db.run(async (q) => {
      // Read first: MySQL refuses a DELETE whose subquery reads the table it deletes from.
      const clashing = await q('ticket_collaborators as c')
        .where('c.user_id', fromUserId)
        .where((w) => w.whereExists(q('ticket_collaborators as s').whereRaw('s.ticket_id = c.ticket_id').where('s.user_id', toUserId)).orWhereExists(q('tickets as t').whereRaw('t.id = c.ticket_id').where('t.user_id', toUserId)))
        .pluck('c.ticket_id');
      if (clashing.length) await q('ticket_collaborators').where('user_id', fromUserId).whereIn('ticket_id', clashing).delete();
      await q('ticket_collaborators').where('user_id', fromUserId).update({ user_id: toUserId });
      // The survivor copied on the merged user's tickets, which are now the survivor's own.
      await q('ticket_collaborators').where('user_id', toUserId).whereIn('ticket_id', q('tickets').where('user_id', toUserId).select('id')).delete();
    });
  }
}
