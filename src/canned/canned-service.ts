import { ValidationError, notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { MenuCache } from '../cache/menu-cache.js';
import type { Database } from '../db/database.js';
import { requireAdmin } from '../departments/department-service.js';
import type { DepartmentRepository } from '../departments/department-repository.js';
import type { Staff, StaffPrincipal } from '../staff/staff.js';
import { LIMITS } from '../tickets/ticket-rules.js';
import type { FileInput, Ticket } from '../tickets/ticket.js';
import type { AttachmentRepository } from '../attachments/attachment-repository.js';
import type { CannedFields, CannedFile, CannedRepository, CannedResponse, CannedSummary } from './canned-repository.js';
import { expandVariables, unknownVariables, unknownVariablesMessage } from './variables.js';

/**
 * Where a response is managed: `shared` is the administrators' pages (global and department responses),
 * `personal` an agent's own. An id from the other area answers "not found", as one the agent may not see.
 */
export type CannedArea = 'shared' | 'personal';

export interface CannedInput {
  title: string;
  body: string;
  /** Shared area only: '' for global, else the department's id (as the form sends it). */
  departmentId?: string;
}

export const TITLE_MAX = 120;

const cannedNotFound = () => notFound('CANNED_NOT_FOUND', 'errors.canned.not_found');
const fileNotFound = () => notFound('ATTACHMENT_NOT_FOUND', 'errors.attachment.not_found');
const ids = (raw: readonly string[]) => [...new Set(raw.filter((v) => /^\d{1,10}$/.test(v)).map(Number))];

export class CannedService {
  constructor(
    private readonly d: {
      db: Database;
      repo: CannedRepository;
      departments: DepartmentRepository;
      audit: AuditRepository;
      menus: MenuCache;
      /** The ticket if the agent may see it (TicketService.get: its access rules). */
      findTicket: (actor: StaffPrincipal, number: string) => Promise<Ticket>;
      /** The agent as the directory cache has them (name and signature). */
      activeStaff: (id: number) => Promise<Staff | null>;
      publicUrl: string;
      attachments: AttachmentRepository;
      /** The most files one response carries: as many as one reply may (config attachments.maxFiles). */
      maxFiles: number;
    },
  ) {}

  /** An agent may use the global responses, their departments' and their own. */
  private mayUse(actor: StaffPrincipal, c: CannedSummary): boolean {
    if (c.scope === 'personal') return c.staffId === actor.staffId;
    return c.scope === 'global' || actor.departmentIds.includes(c.departmentId!);
  }

  /** The reply form's menu, from the MenuCache: a ticket page reads no row for it. */
  async menuFor(actor: StaffPrincipal): Promise<CannedSummary[]> {
    const all = await this.d.menus.get('canned', () => this.d.repo.summaries());
    return all.filter((c) => this.mayUse(actor, c));
  }

  /** The responses managed in an area: all shared ones for an administrator; the agent's own. */
  list(actor: StaffPrincipal, area: CannedArea): Promise<CannedResponse[]> {
    if (area === 'shared') requireAdmin(actor);
    return this.d.repo.list(area === 'shared' ? { shared: true } : { staffId: actor.staffId });
  }

  /** One response to edit or delete in `area`, if the agent manages it there. */
  async get(actor: StaffPrincipal, area: CannedArea, id: number): Promise<CannedResponse> {
    if (area === 'shared') requireAdmin(actor);
    const c = id ? await this.d.repo.get(id) : null;
    const inArea = c && (area === 'shared' ? c.scope !== 'personal' : c.staffId === actor.staffId);
    if (!c || !inArea) throw cannedNotFound();
    return c;
  }

  /** The fields to store, or every problem with the input at once. */
  private async check(actor: StaffPrincipal, area: CannedArea, input: CannedInput): Promise<CannedFields> {
    const errors: FieldErrors = {};
    const title = input.title.trim();
    if (!title) errors.title = 'validation.required';
    else if (title.length > TITLE_MAX) errors.title = msg('validation.too_long', { max: TITLE_MAX });
    const body = input.body;
    const unknown = unknownVariables(body);
    if (!body.trim()) errors.body = 'validation.required';
    else if (body.length > LIMITS.message) errors.body = msg('validation.too_long', { max: LIMITS.message });
    else if (unknown.length) errors.body = unknownVariablesMessage(unknown);
    let departmentId: number | null = null;
    if (area === 'shared' && (input.departmentId ?? '').trim() !== '') {
      const raw = input.departmentId!.trim();
      const d = /^\d{1,10}$/.test(raw) ? await this.d.departments.get(Number(raw)) : null;
      if (!d || d.archivedAt) errors.departmentId = 'validation.choose_department';
      else departmentId = d.id;
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    return { title, body, departmentId, staffId: area === 'personal' ? actor.staffId : null };
  }

  async create(actor: StaffPrincipal, area: CannedArea, input: CannedInput, files: FileInput[] = []): Promise<number> {
    if (area === 'shared') requireAdmin(actor);
    const fields = await this.check(actor, area, input);
    this.checkFileCount(files.length);
    return this.d.db.transaction(async () => {
      const id = await this.d.repo.insert(fields, actor.staffId);
      await this.d.repo.addFiles(id, files, await this.d.attachments.storeBlobs(files));
      await this.audit(actor, 'canned.create', id, fields);
      return id;
    });
  }

  /** Saves the fields, adds `files` and drops the files `removeFileIds` names (the form's ticked boxes). */
  async update(actor: StaffPrincipal, area: CannedArea, id: number, input: CannedInput, files: FileInput[] = [], removeFileIds: readonly string[] = []): Promise<void> {
    const current = await this.get(actor, area, id);
    const fields = await this.check(actor, area, input);
    const remove = ids(removeFileIds);
    const kept = (await this.d.repo.files([current.id])).filter((f) => !remove.includes(f.id));
    this.checkFileCount(kept.length + files.length);
    await this.d.db.transaction(async () => {
      await this.d.repo.update(current.id, fields, actor.staffId);
      await this.d.repo.removeFiles(current.id, remove);
      await this.d.repo.addFiles(current.id, files, await this.d.attachments.storeBlobs(files));
      await this.audit(actor, 'canned.update', current.id, fields);
    });
  }

  private checkFileCount(count: number): void {
    if (count > this.d.maxFiles) throw new ValidationError({ attachments: msg('validation.too_many_files', { max: this.d.maxFiles }) });
  }

  /** The files of a response being edited. */
  async files(actor: StaffPrincipal, area: CannedArea, id: number): Promise<CannedFile[]> {
    return this.d.repo.files([(await this.get(actor, area, id)).id]);
  }

  /** A file to download: for those who may use its response, and for administrators, the shared ones. */
  async file(actor: StaffPrincipal, fileId: number): Promise<{ attachment: CannedFile; data: Buffer }> {
    const [f] = fileId ? await this.d.repo.filesWithData([fileId]) : [];
    const c = f ? await this.d.repo.get(f.cannedId) : null;
    if (!f || !c || !(this.mayUse(actor, c) || (actor.isAdmin && c.scope !== 'personal'))) throw fileNotFound();
    const { data, ...attachment } = f;
    return { attachment, data };
  }

  /**
   * Files of responses the agent may use, by id, as a form names them (ids not theirs are left out). Checked
   * against the responses as stored, not the menu cache: choosing is where stale entries are refused.
   */
  async usableFiles(actor: StaffPrincipal, fileIds: readonly string[]): Promise<CannedFile[]> {
    const wanted = ids(fileIds);
    return wanted.length ? this.usable(actor, await this.d.repo.filesById(wanted)) : [];
  }

  private async usable<F extends CannedFile>(actor: StaffPrincipal, files: F[]): Promise<F[]> {
    const owners = await this.d.repo.summariesById([...new Set(files.map((f) => f.cannedId))]);
    const usable = new Set(owners.filter((c) => this.mayUse(actor, c)).map((c) => c.id));
    return files.filter((f) => usable.has(f.cannedId));
  }

  /**
   * The canned responses' files a reply on the ticket carries, with their bytes. A file gone since it was
   * inserted (its response deleted or changed) or not the agent's to use refuses the reply: it would
   * otherwise go out without a file its text may mention.
   */
  async replyFiles(actor: StaffPrincipal, number: string, fileIds: readonly string[]): Promise<FileInput[]> {
    const wanted = ids(fileIds);
    if (!wanted.length) return [];
    await this.d.findTicket(actor, number);
    const found = await this.usable(actor, await this.d.repo.filesWithData(wanted));
    if (found.length !== wanted.length) throw new ValidationError({ cannedFiles: 'staff.canned.file_gone' });
    return found.map((f) => ({ filename: f.filename, contentType: f.contentType, data: f.data }));
  }

  async delete(actor: StaffPrincipal, area: CannedArea, id: number): Promise<CannedResponse> {
    const current = await this.get(actor, area, id);
    await this.d.db.transaction(async () => {
      await this.d.repo.delete(current.id);
      await this.audit(actor, 'canned.delete', current.id, current);
    });
    return current;
  }

  private audit(actor: StaffPrincipal, action: string, id: number, c: Pick<CannedFields, 'title' | 'departmentId' | 'staffId'>): Promise<void> {
    return this.d.audit.record({ staffId: actor.staffId, action, objectType: 'canned_response', objectId: id, details: { title: c.title, departmentId: c.departmentId, staffId: c.staffId } });
  }

  /**
   * A response's text for a reply on a ticket, its variables filled in, and the placeholders that are not
   * variables (left in place, for the agent to fix). The agent must see the ticket and may use the response.
   * The ticket link is the portal's address of the ticket, unsigned: the text is stored in the thread and may
   * be copied anywhere, and the response mail already carries the requester's signed link below it.
   */
  async expand(actor: StaffPrincipal, number: string, id: number): Promise<{ title: string; text: string; unknown: string[]; files: CannedFile[] }> {
    const ticket = await this.d.findTicket(actor, number);
    const c = id ? await this.d.repo.get(id) : null;
    if (!c || !this.mayUse(actor, c)) throw cannedNotFound();
    const me = await this.d.activeStaff(actor.staffId);
    const { text, unknown } = expandVariables(c.body, {
      'ticket.number': ticket.number,
      'ticket.subject': ticket.subject,
      'ticket.link': `${this.d.publicUrl}/tickets/${ticket.number}`,
      'requester.name': ticket.requesterName,
      'requester.email': ticket.requesterEmail,
      'agent.name': actor.name,
      'agent.signature': (me?.signature ?? '').trim(),
      'department.name': ticket.departmentName,
    });
    return { title: c.title, text, unknown, files: await this.d.repo.files([c.id]) };
  }
}
