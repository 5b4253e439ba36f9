import type { Database } from '../db/database.js';
import type { Clock } from '../db/time.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../errors.js';
import type { ApiPrincipal } from '../api-keys/api-key-service.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Attachment, AttachmentRepository } from '../attachments/attachment-repository.js';
import type { Department, DepartmentRepository } from '../departments/department-repository.js';
import type { DraftService } from '../drafts/draft-service.js';
import type { LockService } from '../locks/lock-service.js';
import type { Notifier } from '../mail/outbound/notifier.js';
import type { StaffRepository } from '../staff/staff-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { ThreadRepository, Verification } from '../threads/thread-repository.js';
import type { HelpTopic, TopicRepository } from '../topics/topic-repository.js';
import type { UserService } from '../users/user-service.js';
import { isEmail, normaliseEmail } from '../users/email.js';
import type { AccessTokens } from './access-token.js';
import type { AssignmentRules } from './assignment-rules.js';
import type { CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRepository } from './ticket-repository.js';
import { TICKET_NOT_FOUND, TicketViews, type TicketView, type ViewOptions } from './ticket-view.js';
import {
  DEFAULT_PRIORITY, QUEUES, SORTS, isPriority,
  type ClientPrincipal, type FileInput, type Principal, type Priority, type Queue, type Sort, type Ticket,
  type TicketListRow, type TicketSource, type TicketStatus,
} from './ticket.js';

export interface NewTicketInput {
  name: string;
  email: string;
  subject: string;
  message: string;
  topicId?: number | null;
  /** The help topic `topicId` names, when the caller has just read it (mail intake): not read a second time. */
  topic?: HelpTopic | null;
  departmentId?: number | null;
  /** The department `departmentId` names, when the caller read it under a guarantee it still exists: not read again. */
  department?: Pick<Department, 'id' | 'name'> | null;
  priority?: number | null;
  source: TicketSource;
  attachments?: FileInput[];
  /** Mail the requester a confirmation with an access link (default true). */
  notifyRequester?: boolean;
  /** The portal asks for a name; mail and the API may not have one. */
  requireName?: boolean;
  /** Problems the caller found in its own fields (uploads), reported with these so a form lists them all. */
  knownErrors?: FieldErrors;
  /** Sanitised HTML body of a mail (content/sanitize.ts); `message` stays the text version. */
  bodyHtml?: string | null;
  /** The Message-ID the first message arrived with, for threading replies that quote it. */
  messageId?: string | null;
  /** People copied on the first mail: they receive the responses and may reply. */
  collaborators?: Array<{ name: string; email: string }>;
  /** The mailbox a mail arrived at: its replies are sent from that address. */
  mailbox?: { id: number; localPart: string } | null;
  /** How the sender of a mail was verified (mail/inbound/authenticate.ts). */
  verification?: Verification | null;
}

/** A mail for an existing ticket (listener, pipe or API intake). */
export interface InboundMessageInput {
  name: string;
  email: string;
  bodyText: string;
  bodyHtml: string | null;
  attachments: FileInput[];
  messageId: string | null;
  source: TicketSource;
  /** The agent the mail is proven to come from (mail/inbound/authenticate.ts): it becomes their note. */
  agent: { id: number; name: string } | null;
  verification: Verification;
  /** Neither requester, collaborator nor agent: kept, flagged, and it re-opens and alerts nothing. */
  fromNonParticipant: boolean;
}

/** At most this many attachments are stored per entry; the raw message keeps the rest. */
const MAX_INBOUND_FILES = 50;

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

export const LIMITS = { subject: 255, message: 200_000, name: 120 } as const;

export interface RespondOptions {
  /**
   * The newest thread entry the agent saw when writing. Newer entries refuse the response with STALE_THREAD
   * until the agent has seen them (and sends again with the newer id). Omitted: no check (API clients).
   */
  seenEntryId?: number | null;
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
  staff: StaffRepository;
  users: UserService;
  audit: AuditRepository;
  accessTokens: AccessTokens;
  locks: LockService;
  drafts: DraftService;
  notifier: Notifier;
  collaborators: CollaboratorRepository;
  assignments: AssignmentRules;
  /** A requester's mail to a resolved or closed ticket re-opens it. */
  reopenOnReply: boolean;
  publicUrl: string;
  pageSize: number;
}

export class TicketService {
  /** The read side: the ticket page's and the API's assembled views (ticket-view.ts). */
  private readonly views: TicketViews;

  constructor(private readonly d: TicketServiceDeps) {
    this.views = new TicketViews(d, (p, number) => this.get(p, number));
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
    const t = /^\d{4,16}$/.test(number) ? await this.d.tickets.findBy({ number }) : null;
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

  private validateBody(fields: FieldErrors, message: string, field = 'message'): void {
    if (!message.trim()) fields[field] = 'Enter a message.';
    else if (message.length > LIMITS.message) fields[field] = `At most ${LIMITS.message.toLocaleString('en')} characters.`;
  }

  /** Opens a ticket with its first message, attachments and the requester's confirmation in one transaction. */
  async create(actor: StaffPrincipal | null, input: NewTicketInput): Promise<{ ticket: Ticket; entryId: number }> {
    const fields: FieldErrors = { ...input.knownErrors };
    const name = input.name.trim();
    const subject = input.subject.trim();
    if (input.requireName && !name) fields.name = 'Enter your name.';
    else if (name.length > LIMITS.name) fields.name = `At most ${LIMITS.name} characters.`;
    if (!isEmail(input.email)) fields.email = 'Enter a valid e-mail address.';
    if (!subject) fields.subject = 'Enter a subject.';
    else if (subject.length > LIMITS.subject) fields.subject = `At most ${LIMITS.subject} characters.`;
    this.validateBody(fields, input.message);

    let departmentId = input.departmentId ?? null;
    let priority: Priority = DEFAULT_PRIORITY;
    let topicId: number | null = null;
    let topicName: string | null = null;
    if (input.topicId) {
      const topic = input.topic?.id === input.topicId ? input.topic : await this.d.topics.get(input.topicId);
      if (!topic || !topic.isActive || (!actor && !topic.isPublic)) fields.topicId = 'Choose a help topic from the list.';
      else {
        topicId = topic.id;
        topicName = topic.name;
        departmentId ??= topic.departmentId;
        if (isPriority(topic.defaultPriority)) priority = topic.defaultPriority;
      }
    }
    if (input.priority !== undefined && input.priority !== null) {
      if (isPriority(input.priority)) priority = input.priority;
      else fields.priority = 'Choose a priority from the list.';
    }
    let department: Pick<Department, 'id' | 'name'> | null = null;
    if (departmentId !== null) {
      department = input.department?.id === departmentId ? input.department : await this.d.departments.get(departmentId);
      if (!department || ('archivedAt' in department && department.archivedAt)) fields.departmentId = 'Choose a department from the list.';
      else if (actor && !actor.isAdmin && !actor.departmentIds.includes(departmentId)) fields.departmentId = 'You can only open tickets in your own departments.';
    } else {
      const fallback = await this.d.defaultDepartment();
      if (!fallback) throw new AppError('NO_DEPARTMENT', 'unavailable', 'The help desk has no department yet.');
      // An agent outside the default department opens the ticket in one of their own, where they can see it.
      const own = actor && !actor.isAdmin && !actor.departmentIds.includes(fallback.id) ? actor.departmentIds[0] : undefined;
      department = own !== undefined ? await this.d.departments.get(own) : fallback;
      if (!department) fields.departmentId = 'Choose a department from the list.';
      else departmentId = department.id;
    }
    if (Object.keys(fields).length) throw new ValidationError(fields);

    const now = this.d.clock.now();
    return this.d.db.transaction(async () => {
      const user = await this.d.users.findOrCreate(name, input.email);
      const { id: ticketId, number } = await this.d.tickets.insertNumbered({ subject, userId: user.id, departmentId: departmentId!, topicId, assigneeId: null, priority, source: input.source, createdAt: now, mailboxId: input.mailbox?.id ?? null });
      const sender = input.verification ? { senderEmail: user.email, verification: input.verification } : {};
      const entryId = await this.d.threads.insert({ ticketId, type: 'message', userId: user.id, authorName: user.name, bodyText: input.message, bodyHtml: input.bodyHtml ?? null, source: input.source, createdAt: now, ...sender });
      await this.d.attachments.add(ticketId, entryId, (input.attachments ?? []).slice(0, MAX_INBOUND_FILES));
      if (input.messageId) await this.d.threads.addMessageId(ticketId, entryId, input.messageId, now);
      for (const c of (input.collaborators ?? []).slice(0, 20)) {
        if (normaliseEmail(c.email) === user.email || !isEmail(c.email)) continue;
        const collaborator = await this.d.users.findOrCreate(c.name, c.email);
        await this.d.collaborators.add(ticketId, collaborator.id, now);
      }
      // Every value of the new row is known here, so it is not read back (a join of six tables per new ticket).
      const ticket: Ticket = {
        id: ticketId, number, subject, userId: user.id, requesterName: user.name, requesterEmail: user.email,
        departmentId: department!.id, departmentName: department!.name,
        topicId, topicName, assigneeId: null, assigneeName: null, status: 'open', isAnswered: false, priority,
        source: input.source, createdAt: now, updatedAt: now, closedAt: null,
        mailboxId: input.mailbox?.id ?? null, accessEpoch: 0,
      };
      const notices = await this.d.notifier.context(ticket, { messageIds: input.messageId ? [input.messageId] : [], mailboxLocalPart: input.mailbox?.localPart ?? null });
      if (input.notifyRequester !== false) await this.d.notifier.ticketCreated(ticket, entryId, this.accessLink(ticket), notices);
      await this.d.notifier.newTicketAlert(ticket, entryId, input.message, actor?.staffId ?? null, notices);
      if (actor) await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.create', objectType: 'ticket', objectId: ticketId, details: { number, source: input.source } });
      return { ticket, entryId };
    });
  }

  /** Checks the text of a new entry, then finds the ticket it goes on (which the actor must be allowed to see). */
  private async entryTarget(actor: Principal, number: string, message: string, field: 'message' | 'note'): Promise<{ ticket: Ticket; now: Date }> {
    const fields: FieldErrors = {};
    this.validateBody(fields, message, field);
    if (Object.keys(fields).length) throw new ValidationError(fields);
    return { ticket: await this.get(actor, number), now: this.d.clock.now() };
  }

  /** A staff response: mailed to the requester through the outbox, marks the ticket answered. */
  async respond(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = [], opts: RespondOptions = {}): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'message');
    return this.d.db.transaction(async () => {
      // Writing the ticket row first serialises concurrent posts to one ticket (InnoDB row lock; SQLite's
      // single writer), so the lock and thread checks below read everything committed before this post.
      await this.d.tickets.update(ticket.id, { isAnswered: true, updatedAt: now });
      const ownLock = await this.d.locks.assertMayAct(actor, ticket.id, 'respond');
      if (opts.seenEntryId !== undefined && opts.seenEntryId !== null) await this.assertThreadSeen(ticket.id, opts.seenEntryId);
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'response', staffId: actor.staffId, authorName: actor.name, bodyText: message, source: 'web', createdAt: now });
      await this.d.attachments.add(ticket.id, entryId, files);
      if (ownLock) await this.d.locks.releaseAfterPost(ownLock);
      await this.d.drafts.discard(actor.staffId, ticket.id, 'reply');
      const dept = await this.d.departments.get(ticket.departmentId);
      const cc = (await this.d.collaborators.list(ticket.id)).map((c) => c.email);
      await this.d.notifier.response(ticket, entryId, { agentName: actor.name, body: message, signature: dept?.signature ?? '', accessLink: this.accessLink(ticket), cc });
      return entryId;
    });
  }

  /** An internal note: staff only, never mailed to the requester. */
  async note(actor: StaffPrincipal, number: string, message: string, files: FileInput[] = []): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'note');
    return this.d.db.transaction(async () => {
      await this.d.tickets.update(ticket.id, { updatedAt: now });
      await this.d.locks.assertMayAct(actor, ticket.id, 'note');
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'note', staffId: actor.staffId, authorName: actor.name, bodyText: message, source: 'web', createdAt: now });
      await this.d.attachments.add(ticket.id, entryId, files);
      await this.d.drafts.discard(actor.staffId, ticket.id, 'note');
      return entryId;
    });
  }

  private async assertThreadSeen(ticketId: number, seenEntryId: number): Promise<void> {
    const newer = await this.d.threads.idsAfter(ticketId, seenEntryId);
    if (newer.length) {
      throw new AppError('STALE_THREAD', 'conflict', 'New messages arrived while you were writing. Read them, then send your response again.', {
        newEntryIds: newer,
        latestEntryId: newer[newer.length - 1],
      });
    }
  }

  /** The requester's reply from the portal; a reply to a resolved or closed ticket re-opens it. */
  async clientReply(actor: ClientPrincipal, number: string, message: string, files: FileInput[] = []): Promise<number> {
    const { ticket, now } = await this.entryTarget(actor, number, message, 'message');
    return this.d.db.transaction(async () => {
      const user = (await this.d.users.get(actor.userId))!;
      const entryId = await this.d.threads.insert({ ticketId: ticket.id, type: 'message', userId: user.id, authorName: user.name, bodyText: message, source: 'web', createdAt: now });
      await this.d.attachments.add(ticket.id, entryId, files);
      await this.d.tickets.update(ticket.id, { isAnswered: false, status: 'open', closedAt: null, updatedAt: now });
      await this.d.notifier.newMessageAlert(ticket, entryId, user.name, message);
      return entryId;
    });
  }

  /**
   * A mail that answers an existing ticket. From an agent's address (an alert answered by mail) it becomes
   * an internal note, so nothing reaches the requester unreviewed; otherwise a message from its sender that
   * re-opens a resolved or closed ticket when so configured. Runs in the caller's transaction when there is one.
   */
  async addInboundMessage(ticketId: number, input: InboundMessageInput): Promise<{ ticket: Ticket; entryId: number; reopened: boolean }> {
    return this.d.db.transaction(async () => {
      const ticket = await this.d.tickets.findBy({ id: ticketId });
      if (!ticket) throw TICKET_NOT_FOUND();
      const now = this.d.clock.now();
      let entryId: number;
      let reopened = false;
      let requesterName: string | null = null;
      const body = { bodyText: input.bodyText, bodyHtml: input.bodyHtml, source: input.source, createdAt: now, senderEmail: normaliseEmail(input.email), verification: input.verification };
      if (input.agent) {
        entryId = await this.d.threads.insert({ ticketId, type: 'note', staffId: input.agent.id, authorName: input.agent.name, ...body });
        await this.d.tickets.update(ticketId, { updatedAt: now });
      } else {
        const user = await this.d.users.findOrCreate(input.name, input.email);
        entryId = await this.d.threads.insert({ ticketId, type: 'message', userId: user.id, authorName: user.name, fromNonParticipant: input.fromNonParticipant, ...body });
        if (input.fromNonParticipant) await this.d.tickets.update(ticketId, { updatedAt: now });
        else {
          requesterName = user.name;
          reopened = ticket.status !== 'open' && this.d.reopenOnReply;
          await this.d.tickets.update(ticketId, { isAnswered: false, updatedAt: now, ...(reopened ? { status: 'open' as const, closedAt: null } : {}) });
        }
      }
      await this.d.attachments.add(ticketId, entryId, input.attachments.slice(0, MAX_INBOUND_FILES));
      // Stored before the alert is written, so the alert's In-Reply-To/References name this message.
      if (input.messageId) await this.d.threads.addMessageId(ticketId, entryId, input.messageId, now);
      if (requesterName !== null) await this.d.notifier.newMessageAlert(ticket, entryId, requesterName, input.bodyText);
      return { ticket, entryId, reopened };
    });
  }

  /** A note written by the system itself (a delivery failure report), visible to staff only. */
  async addSystemNote(ticketId: number, note: { authorName: string; bodyText: string; attachments: FileInput[]; source: TicketSource }): Promise<number> {
    return this.d.db.transaction(async () => {
      const now = this.d.clock.now();
      const entryId = await this.d.threads.insert({ ticketId, type: 'note', authorName: note.authorName, bodyText: note.bodyText, source: note.source, createdAt: now });
      await this.d.attachments.add(ticketId, entryId, note.attachments.slice(0, MAX_INBOUND_FILES));
      await this.d.tickets.update(ticketId, { updatedAt: now });
      return entryId;
    });
  }

  private async change(actor: StaffPrincipal, number: string, action: string, apply: (t: Ticket) => Promise<Record<string, unknown> | null>): Promise<Ticket> {
    const ticket = await this.get(actor, number);
    await this.d.db.transaction(async () => {
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      const details = await apply(ticket);
      if (details) await this.d.audit.record({ staffId: actor.staffId, action, objectType: 'ticket', objectId: ticket.id, details: { number, ...details } });
    });
    return ticket;
  }

  async setStatus(actor: StaffPrincipal, number: string, status: TicketStatus): Promise<void> {
    await this.change(actor, number, 'ticket.status', async (t) => {
      if (t.status === status) return null;
      const now = this.d.clock.now();
      await this.d.tickets.update(t.id, { status, closedAt: status === 'open' ? null : now, updatedAt: now });
      return { from: t.status, to: status };
    });
  }

  async setPriority(actor: StaffPrincipal, number: string, priority: number): Promise<void> {
    if (!isPriority(priority)) throw new ValidationError({ priority: 'Choose a priority from the list.' });
    await this.change(actor, number, 'ticket.priority', async (t) => {
      if (t.priority === priority) return null;
      await this.d.tickets.update(t.id, { priority, updatedAt: this.d.clock.now() });
      return { from: t.priority, to: priority };
    });
  }

  /**
   * Moves the ticket to another department. An agent may transfer out of their own departments into any. An
   * assignee who does not work in the new department is unassigned.
   */
  async transfer(actor: StaffPrincipal, number: string, departmentId: number): Promise<void> {
    const target = await this.d.departments.get(departmentId);
    if (!target) throw new ValidationError({ departmentId: 'Choose a department from the list.' });
    await this.change(actor, number, 'ticket.transfer', async (t) => {
      if (t.departmentId === departmentId) return null;
      if (target.archivedAt) throw new ValidationError({ departmentId: 'This department is archived: choose another one.' });
      await this.d.tickets.update(t.id, { departmentId, updatedAt: this.d.clock.now() });
      const unassigned = await this.d.assignments.afterTransfer(actor.staffId, t, departmentId);
      await this.d.notifier.transferAlert({ ...t, departmentId, departmentName: target.name }, t.departmentName, actor);
      return { from: t.departmentId, to: departmentId, ...(unassigned !== null ? { unassigned } : {}) };
    });
  }

  /** Assigns to an agent who can work the ticket's department, or unassigns with null. */
  async assign(actor: StaffPrincipal, number: string, assigneeId: number | null): Promise<void> {
    await this.change(actor, number, 'ticket.assign', async (t) => {
      if (assigneeId !== null && !(await this.d.assignments.mayBeAssigned(assigneeId, t.departmentId))) {
        throw new ValidationError({ assigneeId: 'This agent does not work in the ticket’s department.' });
      }
      if (t.assigneeId === assigneeId) return null;
      await this.d.tickets.update(t.id, { assigneeId, updatedAt: this.d.clock.now() });
      if (assigneeId !== null) await this.d.notifier.assignedAlert(t, assigneeId, actor);
      return { from: t.assigneeId, to: assigneeId };
    });
  }

  /**
   * The ticket page's properties form: priority, assignee (undefined leaves it) and department, all saved or
   * none, so a refused transfer does not leave a half-applied form behind. A newly chosen assignee must work in
   * the department the ticket ends up in; the existing one is unassigned by a transfer that leaves them out
   * (their id is returned, to tell the agent).
   */
  async updateProperties(actor: StaffPrincipal, number: string, p: { priority: number | null; assigneeId?: number | null; departmentId: number | null }): Promise<{ unassignedId: number | null }> {
    return this.d.db.transaction(async () => {
      const before = await this.get(actor, number);
      const newAssignee = p.assigneeId !== undefined && p.assigneeId !== null && p.assigneeId !== before.assigneeId ? p.assigneeId : null;
      if (newAssignee !== null && p.departmentId !== null && p.departmentId !== before.departmentId && !(await this.d.assignments.mayBeAssigned(newAssignee, p.departmentId))) {
        throw new ValidationError({ assigneeId: 'This agent does not work in the department the ticket is being transferred to.' });
      }
      if (p.priority !== null) await this.setPriority(actor, number, p.priority);
      if (p.assigneeId !== undefined) await this.assign(actor, number, p.assigneeId);
      if (p.departmentId === null) return { unassignedId: null };
      const assigned = p.assigneeId !== undefined ? p.assigneeId : before.assigneeId;
      await this.transfer(actor, number, p.departmentId);
      // Read without the access check: the transfer may have taken the ticket out of the agent's sight.
      const after = await this.d.tickets.findBy({ id: before.id });
      return { unassignedId: assigned !== null && after?.assigneeId === null ? assigned : null };
    });
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

  async listForClient(p: ClientPrincipal): Promise<TicketListRow[]> {
    if (p.ticketId === null) return this.d.tickets.listForUser(p.userId, 100);
    const t = await this.d.tickets.findBy({ id: p.ticketId });
    return t && t.userId === p.userId ? [t] : [];
  }

  /** An attachment's metadata and bytes, if the principal may see its ticket (and, for clients, its entry). */
  async attachment(p: Principal, number: string, attachmentId: number): Promise<{ attachment: Attachment; data: Buffer }> {
    const ticket = await this.get(p, number);
    const attachment = await this.d.attachments.get(attachmentId);
    if (!attachment || attachment.ticketId !== ticket.id) throw notFound('ATTACHMENT_NOT_FOUND', 'No such attachment.');
    if (p.kind === 'client') {
      const entry = await this.d.threads.get(attachment.entryId);
      if (!entry || entry.type === 'note') throw notFound('ATTACHMENT_NOT_FOUND', 'No such attachment.');
    }
    const data = await this.d.attachments.content(attachmentId);
    if (!data) throw notFound('ATTACHMENT_NOT_FOUND', 'No such attachment.');
    return { attachment, data };
  }

  /** Requester e-mail + ticket number, the guest credential pair. Same answer for a wrong number and a wrong address. */
  async findForGuest(email: string, number: string): Promise<Ticket> {
    const t = /^\d{4,16}$/.test(number.trim()) ? await this.d.tickets.findBy({ number: number.trim() }) : null;
    if (!t || t.requesterEmail !== email.trim().toLowerCase()) {
      throw new AppError('TICKET_NOT_FOUND', 'not_found', 'No ticket matches this e-mail address and ticket number.');
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
