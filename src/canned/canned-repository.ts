import type { Database } from '../db/database.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { safeFilename } from '../content/file-name.js';
import type { FileInput } from '../tickets/ticket.js';

/** Global: every agent's; department: its members'; personal: one agent's own. */
export type CannedScope = 'global' | 'department' | 'personal';

/** What a menu needs: no body, which is read when one is chosen. */
export interface CannedSummary {
  id: number;
  title: string;
  scope: CannedScope;
  departmentId: number | null;
  staffId: number | null;
}

export interface CannedResponse extends CannedSummary {
  body: string;
  createdAt: Date;
  updatedAt: Date;
  createdBy: number | null;
  updatedBy: number | null;
  /** The name of the agent who changed it last, when they still exist. */
  updatedByName: string | null;
}

/** A file that goes with a response (its bytes in attachment_blobs). */
export interface CannedFile {
  id: number;
  cannedId: number;
  filename: string;
  contentType: string;
  size: number;
}

export interface CannedFields {
  title: string;
  body: string;
  departmentId: number | null;
  staffId: number | null;
}

const scopeOf = (r: Record<string, unknown>): CannedScope => (r.staff_id !== null && r.staff_id !== undefined ? 'personal' : r.department_id !== null && r.department_id !== undefined ? 'department' : 'global');
const optionalNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const file = (r: Record<string, unknown>): CannedFile => ({
  id: Number(r.id),
  cannedId: Number(r.canned_id),
  // Read through the same rules as stored: names are shown and sent as safeFilename makes them.
  filename: safeFilename(r.filename as string),
  contentType: r.content_type as string,
  size: Number(r.size),
});

const summary = (r: Record<string, unknown>): CannedSummary => ({
  id: Number(r.id),
  title: r.title as string,
  scope: scopeOf(r),
  departmentId: optionalNumber(r.department_id),
  staffId: optionalNumber(r.staff_id),
});

const full = (r: Record<string, unknown>): CannedResponse => ({
  ...summary(r),
  body: r.body as string,
  createdAt: fromDbTimeRequired(r.created_at as string),
  updatedAt: fromDbTimeRequired(r.updated_at as string),
  createdBy: optionalNumber(r.created_by),
  updatedBy: optionalNumber(r.updated_by),
  updatedByName: (r.updated_by_name as string | null) ?? null,
});

/**
 * All SQL of canned responses. Every write raises the directory version in its transaction: the reply form's
 * menu of responses is kept in the MenuCache with the other menus, so the ticket page reads no row for it.
 */
export class CannedRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
  ) {}

  /** Every response's menu entry, by title: few enough to cache whole and filter per agent. */
  async summaries(): Promise<CannedSummary[]> {
    const rows = await this.db.run((q) => q('canned_responses').orderBy([{ column: 'title' }, { column: 'id' }]).select('id', 'title', 'department_id', 'staff_id'));
    return rows.map(summary);
  }

  /** The menu entries of the given responses (those that still exist). */
  async summariesById(ids: number[]): Promise<CannedSummary[]> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) => q('canned_responses').whereIn('id', ids).select('id', 'title', 'department_id', 'staff_id'));
    return rows.map(summary);
  }

  /** The shared responses (global and departments'), or one agent's own, with their bodies, by title. */
  async list(owner: { shared: true } | { staffId: number }): Promise<CannedResponse[]> {
    const rows = await this.db.run((q) => {
      const query = this.withEditor(q);
      if ('staffId' in owner) query.where('c.staff_id', owner.staffId);
      else query.whereNull('c.staff_id');
      return query.orderBy([{ column: 'c.title' }, { column: 'c.id' }]);
    });
    return rows.map(full);
  }

  async get(id: number): Promise<CannedResponse | null> {
    const r = await this.db.run((q) => this.withEditor(q).where('c.id', id).first());
    return r ? full(r) : null;
  }

  private withEditor(q: Database['q']) {
    return q('canned_responses as c').leftJoin('staff as s', 's.id', 'c.updated_by').select('c.*', 's.name as updated_by_name');
  }

  async insert(fields: CannedFields, by: number): Promise<number> {
    const now = toDbTime(this.clock.now());
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) =>
        q('canned_responses').insert({ title: fields.title, body: fields.body, department_id: fields.departmentId, staff_id: fields.staffId, created_by: by, updated_by: by, created_at: now, updated_at: now }),
      );
      await this.version.bump();
      return Number(id);
    });
  }

  async update(id: number, fields: CannedFields, by: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) =>
        q('canned_responses').where({ id }).update({ title: fields.title, body: fields.body, department_id: fields.departmentId, staff_id: fields.staffId, updated_by: by, updated_at: toDbTime(this.clock.now()) }),
      );
      await this.version.bump();
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('canned_responses').where({ id }).delete());
      await this.version.bump();
    });
  }

  /** The files of the given responses, by response and name. */
  async files(cannedIds: number[]): Promise<CannedFile[]> {
    if (!cannedIds.length) return [];
    const rows = await this.db.run((q) => q('canned_attachments').whereIn('canned_id', cannedIds).orderBy([{ column: 'canned_id' }, { column: 'filename' }, { column: 'id' }]));
    return rows.map(file);
  }

  /** Files by their ids, without their bytes: for showing which ones a form carries. */
  async filesById(ids: number[]): Promise<CannedFile[]> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) => q('canned_attachments').whereIn('id', ids).orderBy('id'));
    return rows.map(file);
  }

  /** Files by their ids, with their bytes: what a reply that uses them attaches. */
  async filesWithData(ids: number[]): Promise<Array<CannedFile & { data: Buffer }>> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) => q('canned_attachments as a').join('attachment_blobs as b', 'b.sha256', 'a.sha256').whereIn('a.id', ids).orderBy('a.id').select('a.*', 'b.data'));
    return rows.map((r) => ({ ...file(r), data: Buffer.from(r.data as Uint8Array) }));
  }

  /** Links stored blobs (`hashes`, in the files' order) to a response. In the caller's transaction. */
  async addFiles(cannedId: number, files: FileInput[], hashes: string[]): Promise<void> {
    if (!files.length) return;
    await this.db.q('canned_attachments').insert(
      files.map((f, i) => ({
        canned_id: cannedId,
        filename: safeFilename(f.filename),
        content_type: (f.contentType || 'application/octet-stream').slice(0, 255),
        size: f.data.length,
        sha256: hashes[i]!,
      })),
    );
  }

  /** Unlinks files from a response; the blobs stay (other entries or responses may share them). */
  async removeFiles(cannedId: number, ids: number[]): Promise<void> {
    if (!ids.length) return;
    await this.db.run((q) => q('canned_attachments').where('canned_id', cannedId).whereIn('id', ids).delete());
  }
}
