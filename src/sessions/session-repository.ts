import { createHash, randomBytes } from 'node:crypto';
import type { Database, PreparedSelect } from '../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { principalOf, type StaffPrincipal } from '../staff/staff.js';

export type SessionKind = 'staff' | 'client';

export interface Session {
  idHash: string;
  kind: SessionKind;
  staffId: number | null;
  userId: number | null;
  ticketId: number | null;
  expiresAt: Date;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Sessions live in the database so that any node answers any request. The cookie holds a random token; the
 * table holds only its hash, so a leaked backup cannot be replayed as a login.
 */
export class SessionRepository {
  /** Every panel request's first read: built once. */
  private readonly staffSession: PreparedSelect<{ idHash: string }>;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {
    this.staffSession = db.select<{ idHash: string }>((q, p) =>
      q('sessions as se')
        .join('staff as st', 'st.id', 'se.staff_id')
        .leftJoin('staff_departments as sd', 'sd.staff_id', 'st.id')
        .leftJoin('departments as d', 'd.id', 'sd.department_id')
        .where({ 'se.id_hash': p.idHash, 'se.kind': 'staff', 'st.is_active': true })
        // In the order StaffService.principal gives them: an agent's first department is their default.
        .orderBy('d.name')
        .select('se.*', 'st.name', 'st.is_admin', 'st.timezone', 'st.language', 'sd.department_id', 'sd.is_manager'),
    );
  }

  async create(s: { kind: SessionKind; staffId?: number | null; userId?: number | null; ticketId?: number | null; idleMinutes: number }): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.db.run((q) =>
      q('sessions').insert({
        id_hash: hash(token),
        kind: s.kind,
        staff_id: s.staffId ?? null,
        user_id: s.userId ?? null,
        ticket_id: s.ticketId ?? null,
        created_at: toDbTime(now),
        expires_at: toDbTime(new Date(now.getTime() + s.idleMinutes * 60_000)),
      }),
    );
    return token;
  }

  /**
   * The live session for a token, sliding its expiry forward (at most once a minute, to spare writes) but never
   * past `absoluteMinutes` after sign-in: a stolen cookie kept busy does not live for ever.
   */
  async resolve(token: string, kind: SessionKind, idleMinutes: number, absoluteMinutes: number): Promise<Session | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const r = await this.db.run((q) => q('sessions').where({ id_hash: hash(token), kind }).first());
    return r ? this.keepAlive(r, idleMinutes, absoluteMinutes) : null;
  }

  /**
   * A staff session with its agent, read in one query (every panel request asks for both): the agent's row
   * and their department memberships, one row per membership. Null when the session or the agent is gone or
   * the agent is deactivated.
   */
  async resolveStaff(token: string, idleMinutes: number, absoluteMinutes: number): Promise<{ session: Session; staff: StaffPrincipal } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const rows = await this.staffSession({ idHash: hash(token) });
    const first = rows[0];
    const session = first ? await this.keepAlive(first, idleMinutes, absoluteMinutes) : null;
    if (!first || !session) return null;
    const memberships = rows.filter((r) => r.department_id !== null)
      .map((r) => ({ id: Number(r.department_id), isManager: Boolean(r.is_manager) }));
    return { session, staff: principalOf({ id: Number(first.staff_id), name: first.name as string, isAdmin: Boolean(first.is_admin), timezone: first.timezone as string, language: (first.language as string | null) ?? null }, memberships) };
  }

  /** The session in row `r` if it is still live, its expiry slid forward (written at most once a minute). */
  private async keepAlive(r: Record<string, unknown>, idleMinutes: number, absoluteMinutes: number): Promise<Session | null> {
    const now = this.clock.now();
    const expiresAt = fromDbTimeRequired(r.expires_at as string);
    const endOfLife = fromDbTimeRequired(r.created_at as string).getTime() + absoluteMinutes * 60_000;
    if (expiresAt <= now || endOfLife <= now.getTime()) return null;
    const renewed = new Date(Math.min(now.getTime() + idleMinutes * 60_000, endOfLife));
    if (renewed.getTime() - expiresAt.getTime() > 60_000) {
      await this.db.run((q) => q('sessions').where({ id_hash: r.id_hash as string }).update({ expires_at: toDbTime(renewed) }));
    }
    return {
      idHash: r.id_hash as string,
      kind: r.kind as SessionKind,
      staffId: r.staff_id === null ? null : Number(r.staff_id),
      userId: r.user_id === null ? null : Number(r.user_id),
      ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
      expiresAt: renewed,
    };
  }

  async destroy(token: string): Promise<void> {
    await this.db.run((q) => q('sessions').where({ id_hash: hash(token) }).delete());
  }

  /** Ends every session of an agent, but the one whose token is `keep` (the agent's own, on a password change). */
  async destroyForStaff(staffId: number, keep?: string): Promise<number> {
    return this.db.run((q) => {
      const query = q('sessions').where({ staff_id: staffId });
      if (keep) query.whereNot('id_hash', hash(keep));
      return query.delete();
    });
  }

  /** Ends the client sessions an access link opened on one ticket. */
  /** A user merge: the merged user's portal sessions are the survivor's (the same person, signed in). */
  async moveUser(fromUserId: number, toUserId: number): Promise<void> {
    await this.db.run((q) => q('sessions').where('user_id', fromUserId).update({ user_id: toUserId }));
  }

  async destroyForTicket(ticketId: number): Promise<number> {
    return this.db.run((q) => q('sessions').where({ kind: 'client', ticket_id: ticketId }).delete());
  }

  async purgeExpired(): Promise<number> {
    return this.db.run((q) => q('sessions').where('expires_at', '<=', toDbTime(this.clock.now())).delete());
  }
}
