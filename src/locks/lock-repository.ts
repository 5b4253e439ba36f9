import type { Database, PreparedSelect } from '../db/database.js';
import { RetryableConflict, UniqueViolation } from '../db/errors.js';
import { fromDbTimeRequired, toDbTime } from '../db/time.js';
import type { LockNotice, TicketLock, Viewer } from './lock.js';

const mapLock = (r: Record<string, unknown>): TicketLock => ({
  ticketId: Number(r.ticket_id),
  staffId: Number(r.staff_id),
  holderName: r.holder_name as string,
  acquiredAt: fromDbTimeRequired(r.acquired_at as string),
  expiresAt: fromDbTimeRequired(r.expires_at as string),
  token: (r.token as string | null) ?? null,
});

/**
 * Lock rows, their release notices and presence. Correctness rests on the primary key of `ticket_locks` and
 * on conditional updates with an affected-row check, never on FOR UPDATE (dropped silently on SQLite;
 * DESIGN.md §9 "row locks").
 */
export class LockRepository {
  /** Prepared once: every ticket page and every poll runs it. */
  private readonly liveWithViewersSelect: PreparedSelect<{ ticketId: number; now: string; since: string }>;

  constructor(private readonly db: Database) {
    this.liveWithViewersSelect = db.select((q, p) =>
      q('ticket_locks as l')
        .join('staff as s', 's.id', 'l.staff_id')
        .where('l.ticket_id', p.ticketId)
        .where('l.expires_at', '>=', p.now)
        .select(q.raw("'lock' AS row_kind"), 'l.staff_id', 's.name', 'l.acquired_at AS at', 'l.expires_at', 'l.token')
        .unionAll((u) =>
          u.from('ticket_presence as p')
            .join('staff as s', 's.id', 'p.staff_id')
            .where('p.ticket_id', p.ticketId)
            .where('p.seen_at', '>=', p.since)
            .select(q.raw("'viewer'"), 'p.staff_id', 's.name', 'p.seen_at', q.raw('NULL'), q.raw('NULL')),
        ),
    );
  }

  /**
   * Takes the lock for `staffId` if the ticket has no lock, an expired one, or one this agent already holds,
   * under the new `token` (even when this agent held it already: the page taking it now owns it). 'new' when
   * it was free (nothing to read back), 'kept' when this agent holds it after an update, false when someone
   * else holds a live lock. Safe against any number of concurrent callers on any number of
   * nodes: the insert lets exactly one through the primary key, and the update changes a row only where the
   * holder is this agent or the lock is dead, which InnoDB re-checks on the latest row version and SQLite
   * evaluates under its single writer.
   */
  async claim(ticketId: number, staffId: number, now: Date, expiresAt: Date, token: string): Promise<'new' | 'kept' | false> {
    const n = toDbTime(now);
    const e = toDbTime(expiresAt);
    for (let attempt = 0; ; attempt++) {
      try {
        try {
          await this.db.run((q) => q('ticket_locks').insert({ ticket_id: ticketId, staff_id: staffId, acquired_at: n, expires_at: e, version: 1, token }));
          return 'new';
        } catch (err) {
          if (!(err instanceof UniqueViolation)) throw err;
        }
        const changed = await this.db.run((q) =>
          q('ticket_locks')
            .where('ticket_id', ticketId)
            .where((w) => w.where('staff_id', staffId).orWhere('expires_at', '<', n))
            // MySQL assigns SET clauses left to right and later ones see earlier results, so acquired_at is
            // computed first, from the row's previous holder and expiry; SQLite always reads the old row.
            .update({
              acquired_at: q.raw('CASE WHEN staff_id = ? AND expires_at >= ? THEN acquired_at ELSE ? END', [staffId, n, n]),
              staff_id: staffId,
              expires_at: e,
              version: q.raw('version + 1'),
              token,
            }),
        );
        return changed > 0 ? 'kept' : false;
      } catch (err) {
        // Two insert-then-update sequences on InnoDB can deadlock on the duplicate key's shared lock; the
        // loser is rolled back whole and may simply try again.
        if (!(err instanceof RetryableConflict) || attempt >= 4) throw err;
      }
    }
  }

  /** Extends the lock only for its holder; a lock that lapsed but was not taken by anyone else is its holder's still. */
  async renew(ticketId: number, staffId: number, now: Date, expiresAt: Date): Promise<boolean> {
    const n = toDbTime(now);
    const changed = await this.db.run((q) =>
      q('ticket_locks')
        .where({ ticket_id: ticketId, staff_id: staffId })
        .update({
          acquired_at: q.raw('CASE WHEN expires_at < ? THEN ? ELSE acquired_at END', [n, n]),
          expires_at: toDbTime(expiresAt),
          version: q.raw('version + 1'),
        }),
    );
    return changed > 0;
  }

  /** Deletes the lock if `staffId` holds it, live or not, under `token` (null: a lock older than tokens). */
  async release(ticketId: number, staffId: number, token: string | null): Promise<boolean> {
    return (await this.db.run((q) => q('ticket_locks').where({ ticket_id: ticketId, staff_id: staffId, token }).delete())) > 0;
  }

  async live(ticketId: number, now: Date): Promise<TicketLock | null> {
    const r = await this.db.run((q) =>
      q('ticket_locks as l')
        .join('staff as s', 's.id', 'l.staff_id')
        .where('l.ticket_id', ticketId)
        .where('l.expires_at', '>=', toDbTime(now))
        .first('l.*', 's.name as holder_name'),
    );
    return r ? mapLock(r) : null;
  }

  async liveFor(ticketIds: number[], now: Date): Promise<Map<number, TicketLock>> {
    const out = new Map<number, TicketLock>();
    if (!ticketIds.length) return out;
    const rows = await this.db.run((q) =>
      q('ticket_locks as l')
        .join('staff as s', 's.id', 'l.staff_id')
        .whereIn('l.ticket_id', ticketIds)
        .where('l.expires_at', '>=', toDbTime(now))
        .select('l.*', 's.name as holder_name'),
    );
    for (const r of rows) out.set(Number(r.ticket_id), mapLock(r));
    return out;
  }

  async purgeExpired(before: Date): Promise<number> {
    return this.db.run((q) => q('ticket_locks').where('expires_at', '<', toDbTime(before)).delete());
  }

  async addNotice(n: { ticketId: number; staffId: number; releasedById: number; releasedByName: string; releasedAt: Date }): Promise<void> {
    await this.db.run((q) =>
      q('ticket_lock_notices').insert({
        ticket_id: n.ticketId,
        staff_id: n.staffId,
        released_by: n.releasedById,
        released_by_name: n.releasedByName.slice(0, 120),
        released_at: toDbTime(n.releasedAt),
      }),
    );
  }

  /** The latest notice for this agent and ticket, deleted as it is read so it is shown once. */
  async takeNotice(ticketId: number, staffId: number): Promise<LockNotice | null> {
    const rows = await this.db.run((q) => q('ticket_lock_notices').where({ ticket_id: ticketId, staff_id: staffId }).orderBy('id', 'desc'));
    if (!rows.length) return null;
    const taken = await this.db.run((q) => q('ticket_lock_notices').whereIn('id', rows.map((r: Record<string, unknown>) => Number(r.id))).delete());
    // A concurrent renewal from a second tab took it first: that tab shows it.
    if (!taken) return null;
    const r = rows[0] as Record<string, unknown>;
    return {
      ticketId: Number(r.ticket_id),
      releasedById: r.released_by === null ? null : Number(r.released_by),
      releasedByName: r.released_by_name as string,
      releasedAt: fromDbTimeRequired(r.released_at as string),
    };
  }

  async purgeNotices(before: Date): Promise<number> {
    return this.db.run((q) => q('ticket_lock_notices').where('released_at', '<', toDbTime(before)).delete());
  }

  /** Presence for many agents and tickets in one statement per 500 (PresenceBuffer's flush). */
  async touchPresenceMany(rows: Array<{ ticketId: number; staffId: number; seenAt: Date }>): Promise<void> {
    if (!rows.length) return;
    // In key order, so two nodes flushing overlapping batches on InnoDB take their row locks in the same order.
    const sorted = [...rows].sort((a, b) => a.ticketId - b.ticketId || a.staffId - b.staffId);
    // In slices, well below SQLite's limit on bound values in one statement.
    for (let i = 0; i < sorted.length; i += 500) {
      await this.db.run((q) =>
        q('ticket_presence')
          .insert(sorted.slice(i, i + 500).map((r) => ({ ticket_id: r.ticketId, staff_id: r.staffId, seen_at: toDbTime(r.seenAt) })))
          .onConflict(['ticket_id', 'staff_id'])
          .merge(['seen_at']),
      );
    }
  }

  async leavePresence(ticketId: number, staffId: number): Promise<void> {
    await this.db.run((q) => q('ticket_presence').where({ ticket_id: ticketId, staff_id: staffId }).delete());
  }

  /**
   * The live lock and the agents seen on the ticket since `since`, in one query: what a ticket page and its
   * poll show. The two row kinds share columns: a viewer's `at` is when it was seen, a lock's when it was taken.
   */
  async liveWithViewers(ticketId: number, now: Date, since: Date): Promise<{ lock: TicketLock | null; viewers: Viewer[] }> {
    const rows = await this.liveWithViewersSelect({ ticketId, now: toDbTime(now), since: toDbTime(since) });
    let lock: TicketLock | null = null;
    const viewers: Viewer[] = [];
    for (const r of rows as Array<Record<string, unknown>>) {
      if (r.row_kind === 'lock') lock = mapLock({ ...r, ticket_id: ticketId, holder_name: r.name, acquired_at: r.at });
      else viewers.push({ staffId: Number(r.staff_id), name: r.name as string, seenAt: fromDbTimeRequired(r.at as string) });
    }
    return { lock, viewers };
  }

  async purgePresence(before: Date): Promise<number> {
    return this.db.run((q) => q('ticket_presence').where('seen_at', '<', toDbTime(before)).delete());
  }
}
