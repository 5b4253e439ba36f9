import type { Database } from '../db/database.js';
import { deleteInBatches } from '../db/purge.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';

export interface AuditEvent {
  staffId: number | null;
  action: string;
  objectType: string;
  objectId: string | number;
  details?: Record<string, unknown>;
  ip?: string | null;
}

export interface AuditRecord extends Required<Omit<AuditEvent, 'details'>> {
  id: number;
  details: Record<string, unknown>;
  staffName: string | null;
  createdAt: Date;
}

export class AuditRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /** Written inside the caller's transaction when there is one, so the record and the change land together. */
  async record(e: AuditEvent): Promise<void> {
    await this.db.run((q) =>
      q('audit_log').insert({
        staff_id: e.staffId,
        action: e.action,
        object_type: e.objectType,
        object_id: String(e.objectId),
        details: JSON.stringify(e.details ?? {}),
        ip: e.ip ?? null,
        created_at: toDbTime(this.clock.now()),
      }),
    );
  }

  async forObject(objectType: string, objectId: string | number, limit = 100): Promise<AuditRecord[]> {
    const rows = await this.db.run((q) =>
      q('audit_log as a')
        .leftJoin('staff as s', 's.id', 'a.staff_id')
        .where({ 'a.object_type': objectType, 'a.object_id': String(objectId) })
        .orderBy('a.id', 'desc')
        .limit(limit)
        .select('a.*', 's.name as staff_name'),
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id),
      staffId: r.staff_id === null ? null : Number(r.staff_id),
      staffName: (r.staff_name as string | null) ?? null,
      action: r.action as string,
      objectType: r.object_type as string,
      objectId: r.object_id as string,
      details: JSON.parse(r.details as string) as Record<string, unknown>,
      ip: (r.ip as string | null) ?? null,
      createdAt: fromDbTimeRequired(r.created_at as string),
    }));
  }

  /** Retention: deletes records older than `cutoff`, in batches. */
  async purgeOlderThan(cutoff: Date, batchSize: number, signal?: AbortSignal): Promise<number> {
    return deleteInBatches(this.db, 'audit_log', (w) => w.where('created_at', '<', toDbTime(cutoff)), batchSize, signal);
  }
}
