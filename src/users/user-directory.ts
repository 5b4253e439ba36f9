import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import { toDbTime } from '../db/time.js';
import { requireAdmin } from '../departments/department-service.js';
import { AppError, notFound, ValidationError, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { SessionRepository } from '../sessions/session-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { ThreadRepository } from '../threads/thread-repository.js';
import type { CollaboratorRepository } from '../tickets/collaborator-repository.js';
import type { TicketRepository, TicketVisibility } from '../tickets/ticket-repository.js';
import type { TicketListRow } from '../tickets/ticket.js';
import { decodeCursor, encodeCursor, paged, type Paged } from './cursor.js';
import { NAME_MAX, nameKey } from './name-key.js';
import type { DirectoryUser, UserDetails, UserNote, UserRepository } from './user-repository.js';

export interface DirectoryRow extends DirectoryUser {
  /** Open tickets of theirs that the viewing agent sees. */
  openTickets: number;
}

export interface UserPage {
  user: UserDetails;
  notes: UserNote[];
  tickets: TicketListRow[];
  /** The cursor of the next page of tickets, or null. */
  moreTickets: string | null;
}

export interface UserEdit {
  name: string;
  /** A language code, or '' for the site default. */
  language: string;
  /** An organization's name, or '' for none. */
  organization: string;
}

/** What a merge would move from one user to the other. */
export interface MergePreview {
  merged: UserDetails;
  survivor: UserDetails;
  tickets: number;
  notes: number;
}

/** A note about a person: a few paragraphs, not a document. */
export const NOTE_MAX = 4000;

const USER_NOT_FOUND = () => notFound('USER_NOT_FOUND', 'staff.users.not_found');

/**
 * The staff's view of requesters (issue 11, item 5). Any agent finds people, reads their page and writes notes
 * about them; their tickets are only those the agent sees, and nothing counts the others. Changing a person
 * (name, language, organization) and merging two are for administrators: both change what every department sees.
 */
export class UserDirectory {
  constructor(
    private readonly d: {
      db: Database;
      users: UserRepository;
      tickets: TicketRepository;
      threads: ThreadRepository;
      collaborators: CollaboratorRepository;
      sessions: SessionRepository;
      audit: AuditRepository;
      /** The organization of this exact name (case-folded), or null. */
      organizationIdByName: (name: string) => Promise<number | null>;
      /** A language code this site offers, or null. */
      supportedLanguage: (code: string) => string | null;
      /** Rewrites the search tokens of the person's tickets (search/search-index.ts). */
      reindexPerson: (userId: number) => Promise<void>;
      pageSize: number;
    },
  ) {}

  /** An agent sees their departments' tickets and those assigned to them; an administrator all. */
  visibility(actor: StaffPrincipal): TicketVisibility {
    return { staffId: actor.staffId, departmentIds: actor.isAdmin ? null : actor.departmentIds };
  }

  /** A directory page: everyone, or those whose name, address or organization starts with `q`. */
  async search(actor: StaffPrincipal, p: { q?: string; after?: string }): Promise<Paged<DirectoryRow>> {
    const prefix = nameKey(p.q ?? '') || null;
    const page = paged(await this.d.users.directoryPage(prefix, decodeCursor(p.after), this.d.pageSize + 1), this.d.pageSize);
    const counts = await this.d.tickets.openCountsByRequester(page.rows.map((r) => r.id), this.visibility(actor));
    return { ...page, rows: page.rows.map((r) => ({ ...r, openTickets: counts.get(r.id) ?? 0 })) };
  }

  /** The user, or where a merged one went: the survivor's id. */
  async find(_actor: StaffPrincipal, id: number): Promise<UserDetails | { mergedInto: number }> {
    const user = await this.d.users.details(id);
    if (user) return user;
    const into = await this.d.users.mergedInto(id);
    if (into !== null) return { mergedInto: into };
    throw USER_NOT_FOUND();
  }

  async page(actor: StaffPrincipal, user: UserDetails, p: { after?: string }): Promise<UserPage> {
    const cursor = decodeCursor(p.after);
    const [notes, rows] = await Promise.all([
      this.d.users.notes(user.id),
      this.d.tickets.pageForRequester({ userId: user.id }, this.visibility(actor), cursor && { updatedAt: cursor.key, id: cursor.id }, this.d.pageSize + 1),
    ]);
    const tickets = rows.slice(0, this.d.pageSize);
    const last = tickets[tickets.length - 1];
    return { user, notes, tickets, moreTickets: rows.length > this.d.pageSize && last ? encodeCursor({ key: toDbTime(last.updatedAt), id: last.id }) : null };
  }

  async get(actor: StaffPrincipal, id: number): Promise<UserDetails> {
    const found = await this.find(actor, id);
    if ('mergedInto' in found) throw USER_NOT_FOUND();
    return found;
  }

  /** The user, for an administrator about to change or merge them. */
  async forEdit(actor: StaffPrincipal, id: number): Promise<UserDetails> {
    requireAdmin(actor);
    return this.get(actor, id);
  }

  async update(actor: StaffPrincipal, id: number, input: UserEdit): Promise<void> {
    requireAdmin(actor);
    const before = await this.get(actor, id);
    const errors: FieldErrors = {};
    const name = input.name.trim();
    if (!name) errors.name = 'validation.required';
    else if (name.length > NAME_MAX) errors.name = msg('validation.too_long', { max: NAME_MAX });
    const language = input.language ? this.d.supportedLanguage(input.language) : null;
    if (input.language && !language) errors.language = 'validation.choose_from_list';
    const organizationId = input.organization.trim() ? await this.d.organizationIdByName(input.organization) : null;
    if (input.organization.trim() && organizationId === null) errors.organization = 'staff.users.errors.organization_unknown';
    if (Object.keys(errors).length) throw new ValidationError(errors);
    await this.d.db.transaction(async () => {
      await this.d.users.update(id, { name, language, organizationId });
      // Their tickets are found by their name.
      if (name !== before.name) await this.d.reindexPerson(id);
      await this.d.audit.record({
        staffId: actor.staffId, action: 'user.update', objectType: 'user', objectId: id,
        details: { from: { name: before.name, language: before.language, organizationId: before.organizationId }, to: { name, language, organizationId } },
      });
    });
  }

  async addNote(actor: StaffPrincipal, id: number, body: string): Promise<void> {
    await this.get(actor, id);
    const text = body.trim();
    if (!text) throw new ValidationError({ note: 'validation.required' });
    if (text.length > NOTE_MAX) throw new ValidationError({ note: msg('validation.too_long', { max: NOTE_MAX }) });
    await this.d.users.addNote(id, actor.staffId, text);
  }

  /** The other user of a merge, by one of their addresses or their number. */
  async findOther(actor: StaffPrincipal, id: number, given: string): Promise<UserDetails> {
    requireAdmin(actor);
    const text = given.trim().replace(/^#/, '');
    const other = /^\d{1,10}$/.test(text) ? await this.d.users.details(Number(text)) : await this.byAddress(text);
    if (!other) throw new ValidationError({ other: 'staff.users.merge.errors.unknown' });
    if (other.id === id) throw new ValidationError({ other: 'staff.users.merge.errors.same' });
    return other;
  }

  private async byAddress(address: string): Promise<UserDetails | null> {
    const u = await this.d.users.findByEmail(address.normalize('NFC').toLowerCase());
    return u ? this.d.users.details(u.id) : null;
  }

  async mergePreview(actor: StaffPrincipal, mergedId: number, survivorId: number): Promise<MergePreview> {
    requireAdmin(actor);
    if (mergedId === survivorId) throw new ValidationError({ other: 'staff.users.merge.errors.same' });
    const [merged, survivor] = await Promise.all([this.get(actor, mergedId), this.get(actor, survivorId)]);
    const [tickets, notes] = await Promise.all([this.d.tickets.countForRequester(mergedId), this.d.users.noteCount(mergedId)]);
    return { merged, survivor, tickets, notes };
  }

  /**
   * One person: the merged user's tickets, addresses, notes, authorship, places on tickets and sessions become
   * the survivor's, in one transaction. Its addresses stay on file as the survivor's, so intake's lookup by
   * address puts future mail from them on the survivor.
   */
  async merge(actor: StaffPrincipal, mergedId: number, survivorId: number): Promise<MergePreview> {
    const preview = await this.mergePreview(actor, mergedId, survivorId);
    await this.d.db.transaction(async () => {
      // Both still people (not merged meanwhile by another administrator): checked inside the transaction.
      if ((await this.d.users.mergedInto(mergedId)) !== null || (await this.d.users.mergedInto(survivorId)) !== null) {
        throw new AppError('USER_MERGED', 'conflict', 'staff.users.merge.errors.already_merged');
      }
      const moved = await this.d.tickets.moveRequester(mergedId, survivorId);
      await this.d.collaborators.moveUser(mergedId, survivorId);
      await this.d.threads.moveAuthor(mergedId, survivorId);
      await this.d.sessions.moveUser(mergedId, survivorId);
      await this.d.users.mergeInto(mergedId, survivorId);
      // The moved tickets are found by the survivor's name now, and its tickets by the moved addresses.
      await this.d.reindexPerson(survivorId);
      await this.d.audit.record({
        staffId: actor.staffId, action: 'user.merge', objectType: 'user', objectId: survivorId,
        details: { merged: mergedId, name: preview.merged.name, addresses: preview.merged.addresses.map((a) => a.address), tickets: moved, notes: preview.notes },
      });
    });
    return preview;
  }
}
