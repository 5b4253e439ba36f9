import { AppError, ValidationError, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { Department } from '../departments/department-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { SystemKind, Verification } from '../threads/thread-repository.js';
import type { HelpTopic } from '../topics/topic-repository.js';
import { isEmail, normaliseEmail } from '../users/email.js';
import type { RequesterLanguage } from '../users/user-service.js';
import { LIMITS, MAX_INBOUND_FILES, ticketNotFound, validateBody, type TicketAccess } from './ticket-rules.js';
import type { TicketServiceDeps } from './ticket-service.js';
import { DEFAULT_PRIORITY, isPriority, type FileInput, type Priority, type Ticket, type TicketSource } from './ticket.js';

export interface NewTicketInput {
  name: string;
  email: string;
  subject: string;
  message: string;
  /** The topic the requester or agent chose: checked (active; public unless an agent chose it). */
  topicId?: number | null;
  /**
   * The topic the caller's configuration names (a mailbox's, as read with it): applied, public or internal, when
   * no topic was chosen and it is not archived. Without either, the default topic (a setting), if any.
   */
  configuredTopic?: HelpTopic | null;
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
  /** The language the requester uses (portal page, mail's Content-Language): their notices are written in it. */
  requesterLanguage?: RequesterLanguage | null;
  /**
   * A mail as intake read it, which may lack a subject or text: they are stored empty and said in the reader's
   * language where shown. `truncated`: `message` is the start of a longer text.
   */
  received?: { truncated: boolean };
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
  /** `bodyText` is the start of a longer text (the raw message keeps it all). */
  bodyTruncated?: boolean;
  /** The ticket as the caller read it in the same transaction (mail threading): not read a second time. */
  ticket?: Ticket;
}

/** New tickets and the entries that arrive without an agent at the keyboard (mail, the system). */
export class TicketCreation {
  constructor(
    private readonly d: TicketServiceDeps,
    private readonly access: TicketAccess,
  ) {}

  /** Opens a ticket with its first message, attachments and the requester's confirmation in one transaction. */
  async create(actor: StaffPrincipal | null, input: NewTicketInput): Promise<{ ticket: Ticket; entryId: number }> {
    const fields: FieldErrors = { ...input.knownErrors };
    const name = input.name.trim();
    const subject = input.subject.trim();
    if (input.requireName && !name) fields.name = 'validation.name_required';
    else if (name.length > LIMITS.name) fields.name = msg('validation.too_long', { max: LIMITS.name });
    if (!isEmail(input.email)) fields.email = 'validation.email_invalid';
    if (!subject && !input.received) fields.subject = 'validation.subject_required';
    else if (subject.length > LIMITS.subject) fields.subject = msg('validation.too_long', { max: LIMITS.subject });
    if (!input.received) validateBody(fields, input.message);

    let departmentId = input.departmentId ?? null;
    let priority: Priority = DEFAULT_PRIORITY;
    const topic = await this.topicFor(actor, input, fields);
    if (topic) {
      departmentId ??= topic.departmentId;
      if (isPriority(topic.defaultPriority)) priority = topic.defaultPriority;
    }
    if (input.priority !== undefined && input.priority !== null) {
      if (isPriority(input.priority)) priority = input.priority;
      else fields.priority = 'validation.choose_priority';
    }
    let department: Pick<Department, 'id' | 'name'> | null = null;
    if (departmentId !== null) {
      department = input.department?.id === departmentId ? input.department : await this.d.departments.get(departmentId);
      if (!department || ('archivedAt' in department && department.archivedAt)) fields.departmentId = 'validation.choose_department';
      else if (actor && !actor.isAdmin && !actor.departmentIds.includes(departmentId)) fields.departmentId = 'validation.ticket.own_departments_only';
    } else {
      const fallback = await this.d.defaultDepartment();
      if (!fallback) throw new AppError('NO_DEPARTMENT', 'unavailable', 'errors.no_department');
      // An agent outside the default department opens the ticket in one of their own, where they can see it.
      const own = actor && !actor.isAdmin && !actor.departmentIds.includes(fallback.id) ? actor.departmentIds[0] : undefined;
      department = own !== undefined ? await this.d.departments.get(own) : fallback;
      if (!department) fields.departmentId = 'validation.choose_department';
      else departmentId = department.id;
    }
    if (Object.keys(fields).length) throw new ValidationError(fields);
    // The topic's agent, while they work the department the ticket lands in (a mailbox or an agent may have
    // placed it elsewhere, or they may have left the department since the topic was saved).
    const assignee = topic?.assignStaffId ? ((await this.d.departmentMembers(departmentId!)).find((s) => s.id === topic.assignStaffId) ?? null) : null;
    // An agent's own choice on the form stands; otherwise the topic may turn the acknowledgement off.
    const acknowledge = input.notifyRequester !== false && (actor !== null || topic?.autoResponse !== false);
    const topicId = topic?.id ?? null;
    const topicName = topic?.name ?? null;

    const now = this.d.clock.now();
    return this.d.db.transaction(async () => {
      const user = await this.d.users.findOrCreate(name, input.email, input.requesterLanguage ?? null);
      // The people copied are known before the ticket row is written: search finds it by them (its tokens).
      const collaborators = [];
      for (const c of (input.collaborators ?? []).slice(0, 20)) {
        if (normaliseEmail(c.email) === user.email || !isEmail(c.email)) continue;
        collaborators.push(await this.d.users.findOrCreate(c.name, c.email));
      }
      const people = [user, ...collaborators].map((p) => ({ name: p.name, email: p.email }));
      const { id: ticketId, number } = await this.d.tickets.insertNumbered({ subject, userId: user.id, departmentId: departmentId!, topicId, assigneeId: assignee?.id ?? null, priority, source: input.source, createdAt: now, mailboxId: input.mailbox?.id ?? null, people });
      const sender = input.verification ? { senderEmail: user.email, verification: input.verification } : {};
      const files = (input.attachments ?? []).slice(0, MAX_INBOUND_FILES);
      const entryId = await this.d.threads.insert({ ticketId, type: 'message', userId: user.id, authorName: user.name, bodyText: input.message, bodyHtml: input.bodyHtml ?? null, source: input.source, createdAt: now, messageId: input.messageId ?? null, bodyTruncated: input.received?.truncated ?? false, files, ...sender });
      await this.d.attachments.add(ticketId, entryId, files);
      for (const c of collaborators) await this.d.collaborators.add(ticketId, c.id, now);
      // Every value of the new row is known here, so it is not read back (a join of six tables per new ticket).
      const ticket: Ticket = {
        id: ticketId, number, subject, userId: user.id, requesterName: user.name, requesterEmail: user.email, requesterLanguage: user.language,
        departmentId: department!.id, departmentName: department!.name,
        topicId, topicName, assigneeId: assignee?.id ?? null, assigneeName: assignee?.name ?? null, status: 'open', isAnswered: false, priority,
        source: input.source, createdAt: now, updatedAt: now, closedAt: null,
        mailboxId: input.mailbox?.id ?? null, accessEpoch: 0, mergedIntoId: null,
      };
      const notices = await this.d.notifier.context(ticket, { messageIds: input.messageId ? [input.messageId] : [], mailboxLocalPart: input.mailbox?.localPart ?? null });
      if (assignee) await this.d.events.record({ ticketId, actor: 'system', kind: 'assignee', data: { from: null, to: assignee.id, toName: assignee.name, reason: 'topic', topic: topicName } });
      const accessLink = acknowledge ? this.access.accessLink(ticket) : null;
      await this.d.notifier.newTicket(ticket, entryId, { accessLink, body: input.message, exceptStaffId: actor?.staffId ?? null }, notices);
      if (actor) await this.d.audit.record({ staffId: actor.staffId, action: 'ticket.create', objectType: 'ticket', objectId: ticketId, details: { number, source: input.source } });
      return { ticket, entryId };
    });
  }

  /** The topic a new ticket gets: the one chosen (a field error if it may not be), else the configured, else the default. */
  private async topicFor(actor: StaffPrincipal | null, input: NewTicketInput, fields: FieldErrors): Promise<HelpTopic | null> {
    if (input.topicId) {
      const chosen = await this.d.topics.get(input.topicId);
      if (chosen?.isActive && (actor || chosen.isPublic)) return chosen;
      fields.topicId = 'validation.choose_topic';
      return null;
    }
    if (input.configuredTopic?.isActive) return input.configuredTopic;
    return this.d.defaultTopic();
  }

  /**
   * A mail that answers an existing ticket. From an agent's address (an alert answered by mail) it becomes
   * an internal note, so nothing reaches the requester unreviewed; otherwise a message from its sender that
   * re-opens a resolved or closed ticket when so configured, and whose agents the outbox job alerts. Runs in
   * the caller's transaction when there is one.
   */
  async addInboundMessage(ticketId: number, input: InboundMessageInput): Promise<{ ticket: Ticket; entryId: number; reopened: boolean }> {
    return this.d.db.transaction(async () => {
      const ticket = input.ticket?.id === ticketId ? input.ticket : await this.d.tickets.findBy({ id: ticketId });
      if (!ticket) throw ticketNotFound();
      const now = this.d.clock.now();
      let entryId: number;
      let reopened = false;
      const files = input.attachments.slice(0, MAX_INBOUND_FILES);
      const body = { bodyText: input.bodyText, bodyHtml: input.bodyHtml, bodyTruncated: input.bodyTruncated ?? false, source: input.source, createdAt: now, senderEmail: normaliseEmail(input.email), verification: input.verification, messageId: input.messageId, files };
      if (input.agent) {
        entryId = await this.d.threads.insert({ ticketId, type: 'note', staffId: input.agent.id, authorName: input.agent.name, ...body });
        await this.d.tickets.update(ticketId, { updatedAt: now });
      } else {
        // The requester answering, as most replies are: the ticket row already names them.
        const user = body.senderEmail === ticket.requesterEmail ? { id: ticket.userId, name: ticket.requesterName } : await this.d.users.findOrCreate(input.name, input.email);
        // The agents' alerts are written after the commit from the marked entry (pending-alerts.ts): one
        // statement fewer while the sender waits for its 250, and the mark is as crash-safe as an outbox row.
        // Mail to a ticket marked as spam is kept, but alerts nobody.
        entryId = await this.d.threads.insert({ ticketId, type: 'message', userId: user.id, authorName: user.name, fromNonParticipant: input.fromNonParticipant, alertPending: !input.fromNonParticipant && ticket.status !== 'spam', ...body });
        if (input.fromNonParticipant) await this.d.tickets.update(ticketId, { updatedAt: now });
        else {
          // Spam stays spam, whatever its sender writes next (an agent may re-open it).
          reopened = ticket.status !== 'open' && ticket.status !== 'spam' && this.d.reopenOnReply;
          await this.d.tickets.update(ticketId, { isAnswered: false, updatedAt: now, ...(reopened ? { status: 'open' as const, closedAt: null } : {}) });
          if (reopened) await this.d.events.record({ ticketId, actor: 'requester', kind: 'status', data: { from: ticket.status, to: 'open' } });
        }
      }
      await this.d.attachments.add(ticketId, entryId, files);
      return { ticket, entryId, reopened };
    });
  }

  /**
   * A note written by the system itself (a delivery failure report), visible to staff only. Its author is its
   * kind, named in the reader's language where shown, so none is stored.
   */
  async addSystemNote(ticketId: number, note: { kind: SystemKind; bodyText: string; attachments: FileInput[]; source: TicketSource }): Promise<number> {
    return this.d.db.transaction(async () => {
      const now = this.d.clock.now();
      const files = note.attachments.slice(0, MAX_INBOUND_FILES);
      const entryId = await this.d.threads.insert({ ticketId, type: 'note', systemKind: note.kind, authorName: '', bodyText: note.bodyText, source: note.source, createdAt: now, files });
      await this.d.attachments.add(ticketId, entryId, files);
      await this.d.tickets.update(ticketId, { updatedAt: now });
      return entryId;
    });
  }
}
