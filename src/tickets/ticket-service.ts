import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import { AppError, notFound } from '../errors.js';
import type { ApiPrincipal } from '../api-keys/api-key-service.js';
import type { EventRepository } from '../history/event-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Attachment, AttachmentRepository } from '../attachments/attachment-repository.js';
import type { Department, DepartmentRepository } from '../departments/department-repository.js';
import type { DraftService } from '../drafts/draft-service.js';
import type { LockService } from '../locks/lock-service.js';
import type { Notifier } from '../mail/outbound/notifier.js';
import type { StaffRepository } from '../staff/staff-repository.js';
import type { Staff, StaffPrincipal } from '../staff/staff.js';
import type { SystemKind, ThreadRepository } from '../threads/thread-repository.js';
import type { HelpTopic, TopicRepository } from '../topics/topic-repository.js';
import type { UserService } from '../users/user-service.js';
import type { SearchIndex } from '../search/search-index.js';
import type { AccessTokens } from './access-token.js';
import type { AssignmentRules } from './assignment-rules.js';
import type { Collaborator, CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRelationsRepository } from './ticket-relations.js';
import type { TicketRepository } from './ticket-repository.js';
import { TicketChanges } from './ticket-changes.js';
import { TicketCreation, type InboundMessageInput, type NewTicketInput } from './ticket-creation.js';
import { TicketEntries, type RespondOptions } from './ticket-entries.js';
import { TicketViews, type TicketView, type ViewOptions } from './ticket-view.js';
import { isTicketNumber, ticketNotFound as TICKET_NOT_FOUND, type TicketAccess } from './ticket-rules.js';
import {
  QUEUES, SORTS,
  type ClientPrincipal, type FileInput, type Principal, type Queue, type RequesterTicket, type Sort, type Ticket,
  type TicketListRow, type TicketSource, type TicketStatus,
} from './ticket.js';

export { LIMITS } from './ticket-rules.js';
export type { InboundMessageInput, NewTicketInput } from './ticket-creation.js';
export type { RespondOptions } from './ticket-entries.js';

export interface QueueParams {
  queue?: string;
  departmentId?: number | null;
  sort?: string;
  dir?: string;
  cursor?: string | null;
}

export interface QueuePage {
  queue: Queue;
  sort: Sort;
  dir: 'asc' | 'desc';
  departmentId: number | null;
  rows: TicketListRow[];
  nextCursor: string | null;
}

export interface TicketServiceDeps {
  db: Database;
  clock: Clock;
  tickets: TicketRepository;
  threads: ThreadRepository;
  attachments: AttachmentRepository;
  departments: DepartmentRepository;
  /** Where a ticket goes when its topic, mailbox and agent leave the department open. */
  defaultDepartment: () => Promise<Department | null>;
  topics: TopicRepository;
  /** The topic of a new ticket that names none, if the administrator set one (a cached setting). */
  defaultTopic: () => Promise<HelpTopic | null>;
  /** Active members of a department, cached: whom a topic's auto-assignment may reach. */
  departmentMembers: (departmentId: number) => Promise<Staff[]>;
  staff: StaffRepository;
  users: UserService;
  audit: AuditRepository;
  events: EventRepository;
  accessTokens: AccessTokens;
  locks: LockService;
  drafts: DraftService;
  notifier: Notifier;
  collaborators: CollaboratorRepository;
  /** Links and merges, read with the ticket page's extras (ticket-relations.ts). */
  relations: TicketRelationsRepository;
  assignments: AssignmentRules;
  /** The search index, written with every change it reflects (src/search/search-index.ts). */
  search: SearchIndex;
  /** A requester's mail to a resolved or closed ticket re-opens it. */
  reopenOnReply: boolean;
  publicUrl: string;
  pageSize: number;
}

/**
 * The ticket as callers see it. Reading and access checks live here; writing is split by use case into
 * TicketCreation (new tickets, mail on them), TicketEntries (responses, notes, portal replies) and
 * TicketChanges (status, priority, department, assignee), which this class forwards to.
 */
export class TicketService implements TicketAccess {
  private readonly creation: TicketCreation;
  private readonly entries: TicketEntries;
  private readonly changes: TicketChanges;
  /** The read side: the ticket page's and the API's assembled views (ticket-view.ts). */
  private readonly views: TicketViews;

  constructor(private readonly d: TicketServiceDeps) {
    this.creation = new TicketCreation(d, this);
    this.entries = new TicketEntries(d, this);
    this.changes = new TicketChanges(d, this);
    this.views = new TicketViews(d, this);
  }

  create(actor: StaffPrincipal | null, input: NewTicketInput): Promise<{ ticket: Ticket; entryId: number }> {
    return this.creation.create(actor, input);
  }

  addInboundMessage(ticketId: number, input: InboundMessageInput): Promise<{ ticket: Ticket; entryId: number; reopened: boolean }> {
    return this.creation.addInboundMessage(ticketId, input);
  }

  addSystemNote(ticketId: number, note: { kind: SystemKind; bodyText: string; attachments: FileInput[]; source: TicketSource }): Promise<number> {
    return this.creation.addSystemNote(ticketId, note);
  }

  respond(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = [], opts: RespondOptions = {}): Promise<number> {
    return this.entries.respond(actor, number, message, files, opts);
  }

  note(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = [], opts: Pick<RespondOptions, 'markdown'> = {}): Promise<number> {
    return this.entries.note(actor, number, message, files, opts);
  }

  clientReply(actor: ClientPrincipal, number: string, message: string, files: FileInput[] = []): Promise<number> {
    return this.entries.clientReply(actor, number, message, files);
  }

  setStatus(actor: StaffPrincipal, number: string, status: TicketStatus): Promise<void> {
    return this.changes.setStatus(actor, number, status);
  }

  setPriority(actor: StaffPrincipal, number: string, priority: number): Promise<void> {
    return this.changes.setPriority(actor, number, priority);
  }

  transfer(actor: StaffPrincipal, number: string, departmentId: number): Promise<void> {
    return this.changes.transfer(actor, number, departmentId);
  }

  assign(actor: StaffPrincipal, number: string, assigneeId: number | null): Promise<void> {
    return this.changes.assign(actor, number, assigneeId);
  }

  updateProperties(actor: StaffPrincipal, number: string, p: { priority: number | null; assigneeId?: number | null; departmentId: number | null }): Promise<{ unassignedId: number | null }> {
    return this.changes.updateProperties(actor, number, p);
  }

  /** The client's link to a ticket, signed for its requester. */
  accessLink(ticket: Pick<Ticket, 'id' | 'number' | 'userId' | 'accessEpoch'>): string {
    return `${this.d.publicUrl}/tickets/${ticket.number}?t=${this.d.accessTokens.sign(ticket.id, ticket.userId, this.d.clock.now(), ticket.accessEpoch)}`;
  }

  canStaffSee(p: StaffPrincipal, t: Pick<Ticket, 'departmentId' | 'assigneeId'>): boolean {
    return p.isAdmin || p.departmentIds.includes(t.departmentId) || t.assigneeId === p.staffId;
  }

  private canSee(p: Principal, t: Ticket): boolean {
    if (p.kind === 'staff') return this.canStaffSee(p, t);
    return t.userId === p.userId && (p.ticketId === null || p.ticketId === t.id);
  }

  /** The ticket if the principal may see it. Missing and forbidden answer alike, so numbers cannot be probed. */
  async get(p: Principal, number: string): Promise<Ticket> {
    return this.visible(p, isTicketNumber(number) ? await this.d.tickets.findBy({ number }) : null);
  }

  visible(p: Principal, t: Ticket | null): Ticket {
    if (!t || !this.canSee(p, t)) throw TICKET_NOT_FOUND();
    return t;
  }

  /** Whether the principal may see the ticket. Any other failure (the database down) propagates. */
  async isVisible(p: Principal, number: string): Promise<boolean> {
    try {
      await this.get(p, number);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'TICKET_NOT_FOUND') return false;
      throw err;
    }
  }

  async findByNumber(number: string): Promise<Ticket | null> {
    return this.d.tickets.findBy({ number });
  }

  view(p: Principal, number: string, opts: ViewOptions = {}): Promise<TicketView> {
    return this.views.view(p, number, opts);
  }

  viewForIntegration(key: ApiPrincipal, number: string): Promise<TicketView> {
    return this.views.viewForIntegration(key, number);
  }

  collaborators(p: Principal, number: string): Promise<Collaborator[]> {
    return this.views.collaborators(p, number);
  }

  private visibleDepartments(p: StaffPrincipal, departmentId: number | null): number[] | null {
    if (departmentId !== null) {
      if (!p.isAdmin && !p.departmentIds.includes(departmentId)) return [];
      return [departmentId];
    }
    return p.isAdmin ? null : p.departmentIds;
  }

  async queue(p: StaffPrincipal, params: QueueParams): Promise<QueuePage> {
    const queue = (QUEUES as readonly string[]).includes(params.queue ?? '') ? (params.queue as Queue) : 'open';
    const sort = (SORTS as readonly string[]).includes(params.sort ?? '') ? (params.sort as Sort) : 'updated';
    const dir = params.dir === 'asc' ? 'asc' : 'desc';
    const departmentId = params.departmentId ?? null;
    const after = decodeCursor(params.cursor);
    const rows = await this.d.tickets.queuePage({
      queue, staffId: p.staffId, departmentIds: this.visibleDepartments(p, departmentId), sort, dir, after, limit: this.d.pageSize + 1,
    });
    const more = rows.length > this.d.pageSize;
    const page = rows.slice(0, this.d.pageSize);
    const last = page[page.length - 1];
    return {
      queue, sort, dir, departmentId, rows: page,
      nextCursor: more && last ? encodeCursor({ value: this.d.tickets.sortValue(last, sort), id: last.id }) : null,
    };
  }

  queueCounts(p: StaffPrincipal, departmentId: number | null = null): Promise<Record<Queue, number>> {
    return this.d.tickets.queueCounts(p.staffId, this.visibleDepartments(p, departmentId));
  }

  /** The requester's other tickets that the agent may see (never one outside their departments). */
  requesterTickets(p: StaffPrincipal, t: Ticket, limit = 10): Promise<RequesterTicket[]> {
    return this.d.tickets.othersOfRequester(t.userId, t.id, this.visibleDepartments(p, null), limit);
  }

  async listForClient(p: ClientPrincipal): Promise<TicketListRow[]> {
    if (p.ticketId === null) return this.d.tickets.listForUser(p.userId, 100);
    const t = await this.d.tickets.findBy({ id: p.ticketId });
    return t && t.userId === p.userId ? [t] : [];
  }

  /** An attachment's metadata and bytes, if the principal may see its ticket (and, for clients, its entry). */
  async attachment(p: Principal, number: string, attachmentId: number): Promise<{ attachment: Attachment; data: Buffer }> {
    const ticket = await this.get(p, number);
    const attachment = await this.d.attachments.get(attachmentId);
    if (!attachment || attachment.ticketId !== ticket.id) throw notFound('ATTACHMENT_NOT_FOUND', 'errors.attachment.not_found');
    if (p.kind === 'client') {
      const entry = await this.d.threads.get(attachment.entryId);
      if (!entry || entry.type === 'note') throw notFound('ATTACHMENT_NOT_FOUND', 'errors.attachment.not_found');
    }
    const data = await this.d.attachments.content(attachmentId);
    if (!data) throw notFound('ATTACHMENT_NOT_FOUND', 'errors.attachment.not_found');
    return { attachment, data };
  }

  /** Requester e-mail + ticket number, the guest credential pair. Same answer for a wrong number and a wrong address. */
  async findForGuest(email: string, number: string): Promise<Ticket> {
    const t = isTicketNumber(number.trim()) ? await this.d.tickets.findBy({ number: number.trim() }) : null;
    if (!t || t.requesterEmail !== email.trim().toLowerCase()) {
      throw new AppError('TICKET_NOT_FOUND', 'not_found', 'errors.ticket.guest_not_found');
    }
    return t;
  }
}

function encodeCursor(c: { value: string | number; id: number }): string {
  return Buffer.from(JSON.stringify([c.value, c.id])).toString('base64url');
}

function decodeCursor(s: string | null | undefined): { value: string | number; id: number } | null {
  if (!s) return null;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && Number.isInteger(v[1])) {
      return { value: v[0], id: v[1] as number };
    }
  } catch {
    // A mangled cursor starts from the first page, like a bookmark to a page that no longer exists.
  }
  return null;
}
