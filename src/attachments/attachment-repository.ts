import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import { safeFilename } from '../content/file-name.js';
import type { FileInput } from '../tickets/ticket.js';

export interface Attachment {
  id: number;
  entryId: number;
  ticketId: number;
  filename: string;
  contentType: string;
  size: number;
  contentId: string | null;
  isInline: boolean;
}

const map = (r: Record<string, unknown>): Attachment => ({
  id: Number(r.id),
  entryId: Number(r.entry_id),
  ticketId: Number(r.ticket_id),
  // Read through the same rules too: names stored before a rule was added are shown and sent by it.
  filename: safeFilename(r.filename as string),
  contentType: r.content_type as string,
  size: Number(r.size),
  contentId: (r.content_id as string | null) ?? null,
  isInline: Boolean(r.is_inline),
});

/** The columns an Attachment is read from, in the JSON of `listJson` as in rows. */
const COLUMNS = ['id', 'entry_id', 'ticket_id', 'filename', 'content_type', 'size', 'content_id', 'is_inline'] as const;

export class AttachmentRepository {
  constructor(private readonly db: Database) {}

  /**
   * SQL for a column holding, as JSON, the attachments of the thread entry aliased `entry`: lets a thread be
   * read with its files in one query. Read the value back with `fromJson`.
   */
  listJson(entry: string): string {
    return this.db.jsonArray('attachments', COLUMNS, `a.ticket_id = ${entry}.ticket_id AND a.entry_id = ${entry}.id`, 'a.id');
  }

  fromJson(value: unknown): Attachment[] {
    return this.db.jsonRows(value).map(map);
  }

  /**
   * Stores each file's bytes once (content-addressed) and links them to the entry: one statement for the
   * blobs, one for all the links. Runs in the caller's transaction.
   */
  async add(ticketId: number, entryId: number, files: FileInput[]): Promise<void> {
    if (!files.length) return;
    const hashes = await this.storeBlobs(files);
    await this.db.q('attachments').insert(
      files.map((f, i) => ({
        entry_id: entryId,
        ticket_id: ticketId,
        filename: safeFilename(f.filename),
        content_type: (f.contentType || 'application/octet-stream').slice(0, 255),
        size: f.data.length,
        sha256: hashes[i]!,
        content_id: f.contentId ?? null,
        is_inline: Boolean(f.inline),
      })),
    );
  }

  /**
   * The files' bytes, each stored once under its SHA-256 (which it answers, in the files' order), for whatever
   * links to them: thread entries here, canned responses (canned/canned-repository.ts). In the caller's transaction.
   * One statement for all of them, where a read for the stored ones and an insert per new one were 2–3 round
   * trips per file (bench:mail). Bytes already stored are sent again and left as they are: the same hash is the
   * same bytes. Rows go in hash order, so that two messages sharing files lock them in the same order.
   */
  async storeBlobs(files: FileInput[]): Promise<string[]> {
    const hashes = files.map((f) => createHash('sha256').update(f.data).digest('hex'));
    const blobs = new Map<string, Buffer>();
    files.forEach((f, i) => blobs.set(hashes[i]!, f.data));
    if (!blobs.size) return [];
    const rows = [...blobs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([sha256, data]) => ({ sha256, size: data.length, data }));
    await this.db.insertOrKeep('attachment_blobs', rows, 'sha256');
    return hashes;
  }

  async forTicket(ticketId: number): Promise<Attachment[]> {
    const rows = await this.db.run((q) => q('attachments').where({ ticket_id: ticketId }).orderBy('id').select(...COLUMNS));
    return rows.map(map);
  }

  async get(id: number): Promise<Attachment | null> {
    const r = await this.db.run((q) => q('attachments').where({ id }).first(...COLUMNS));
    return r ? map(r) : null;
  }

  /** The blobs a ticket's attachments point at, read before the ticket is deleted (its links go with it). */
  async blobsOfTicket(ticketId: number): Promise<string[]> {
    return this.db.run((q) => q('attachments').where({ ticket_id: ticketId }).distinct('sha256').pluck('sha256'));
  }

  /** Deletes those of the blobs no attachment links to any more: bytes shared with another ticket stay. */
  async deleteUnlinkedBlobs(sha256s: string[]): Promise<number> {
    if (!sha256s.length) return 0;
    return this.db.run((q) => q('attachment_blobs').whereIn('sha256', sha256s).whereNotExists((w) => w.select(q.raw('1')).from('attachments as a').whereRaw('a.sha256 = attachment_blobs.sha256')).delete());
  }

  /** An entry's files with their bytes, in one query: what a mailed response carries. */
  async withContent(entryId: number): Promise<Array<Attachment & { data: Buffer }>> {
    const rows = await this.db.run((q) =>
      q('attachments as a').join('attachment_blobs as b', 'b.sha256', 'a.sha256').where('a.entry_id', entryId).orderBy('a.id').select(...COLUMNS.map((c) => `a.${c}`), 'b.data'),
    );
    return rows.map((r) => ({ ...map(r), data: Buffer.from(r.data as Uint8Array) }));
  }

  async content(id: number): Promise<Buffer | null> {
    const r = await this.db.run((q) => q('attachments as a').join('attachment_blobs as b', 'b.sha256', 'a.sha256').where('a.id', id).first('b.data'));
    return r ? Buffer.from(r.data as Uint8Array) : null;
  }
}
