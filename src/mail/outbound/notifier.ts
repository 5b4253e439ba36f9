import type { Clock } from '../../db/time.js';
import type { DirectoryCache } from '../../directory/directory-cache.js';
import type { Translator } from '../../i18n/translator.js';
import type { AlertKind, Staff } from '../../staff/staff.js';
import type { ThreadRepository } from '../../threads/thread-repository.js';
import type { Ticket } from '../../tickets/ticket.js';
import { DEFAULT_MAILBOX } from '../mailboxes/mailbox-service.js';
import type { MessageIdSigner } from '../message-id.js';
import type { AutoReplyBudget } from './auto-reply-budget.js';
import { assignedAlert, mergedNotice, newMessageAlert, newTicketAlert, responseNotice, ticketCreatedNotice, transferAlert, type AlertReader, type Notice } from './notices.js';
import type { OutboxMessage, OutboxRepository } from './outbox-repository.js';

export interface NotifierDeps {
  outbox: OutboxRepository;
  threads: ThreadRepository;
  /** Department members and assignees, from the cache every node keeps (directory-cache.ts). */
  staff: Pick<DirectoryCache, 'departmentMembers' | 'activeStaff'>;
  mailboxes: Pick<DirectoryCache, 'mailboxById'>;
  signer: MessageIdSigner;
  autoReplies: AutoReplyBudget;
  clock: Clock;
  /** The translator for a stored language (a requester's, an agent's); null or one not offered: the site default. */
  translatorFor: (language: string | null) => Promise<Translator>;
  mailDomain: string;
  publicUrl: string;
  helpdeskName: string;
  alertOnNewTicket: boolean;
  alertOnNewMessage: boolean;
}

type NoticeTicket = Pick<Ticket, 'id' | 'number' | 'subject' | 'userId' | 'requesterName' | 'requesterEmail' | 'departmentId' | 'departmentName'> & {
  mailboxId?: number | null;
  /** The agent the ticket is assigned to: alerted about its new messages wherever they work. */
  assigneeId?: number | null;
};

/** What a caller that has just written the ticket already knows; each field left out is read from the database. */
export interface KnownContext {
  /** The Message-IDs of the ticket's entries that came in by mail, oldest first. */
  messageIds?: string[];
  /** The local part of the ticket's mailbox; null for none (the default mailbox sends). */
  mailboxLocalPart?: string | null;
}

export interface NoticeContext {
  thread: Record<string, string>;
  from: string;
}

/** The agent preference that decides each kind of alert. */
const ALERT_PREFERENCE = {
  alert_new_ticket: 'newTicket',
  alert_new_message: 'newMessage',
  alert_assigned: 'assigned',
  alert_transfer: 'transfer',
} as const satisfies Record<string, AlertKind>;

// RFC 3834 §5: auto-replied for answers to a message, auto-generated for notices nobody asked for.
const AUTO_REPLIED = { 'Auto-Submitted': 'auto-replied' };
const AUTO_GENERATED = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' };

/**
 * Writes notices to the outbox, inside the caller's transaction. Each gets a signed Message-ID naming its
 * ticket and entry, and In-Reply-To/References pointing at the requester's last message and at the ticket's
 * root id, so that mail clients thread the conversation and a reply finds its ticket.
 */
export class Notifier {
  constructor(private readonly d: NotifierDeps) {}

  private async fromAddress(t: NoticeTicket, known: KnownContext): Promise<string> {
    const localPart = known.mailboxLocalPart !== undefined ? known.mailboxLocalPart : t.mailboxId ? (await this.d.mailboxes.mailboxById(t.mailboxId))?.localPart : null;
    return `${localPart ?? DEFAULT_MAILBOX}@${this.d.mailDomain}`;
  }

  private async threadHeaders(ticketId: number, known: KnownContext): Promise<Record<string, string>> {
    const root = this.d.signer.root(ticketId);
    const inbound = known.messageIds ?? (await this.d.threads.messageIds(ticketId));
    const last = inbound[inbound.length - 1];
    // RFC 5322 §3.6.4: References carries the parent's ancestry; ours is first message, root, latest.
    const refs = [...new Set([inbound[0], root, last].filter((x): x is string => Boolean(x)))];
    return { 'In-Reply-To': `<${last ?? root}>`, References: refs.map((r) => `<${r}>`).join(' ') };
  }

  /**
   * Thread headers and sender address: the same for every mail about one event, so looked up once for all.
   * A caller that has just written the ticket passes what it knows, and nothing is read back.
   */
  async context(t: NoticeTicket, known: KnownContext = {}): Promise<NoticeContext> {
    return { thread: await this.threadHeaders(t.id, known), from: await this.fromAddress(t, known) };
  }

  private async enqueue(t: NoticeTicket, entryId: number, kind: string, to: string[], notice: Notice, headers: Record<string, string>, cc: string[] = [], ctx?: NoticeContext): Promise<void> {
    await this.d.outbox.enqueue(this.message(t, entryId, kind, to, notice, headers, cc, ctx ?? (await this.context(t))));
  }

  private message(t: NoticeTicket, entryId: number | null, kind: string, to: string[], { language, ...notice }: Notice, headers: Record<string, string>, cc: string[], { thread, from }: NoticeContext): OutboxMessage {
    return {
      ticketId: t.id,
      entryId,
      kind,
      to,
      cc,
      ...notice,
      headers: { ...thread, 'Content-Language': language, ...headers },
      // Signed for the addressee, so that their reply proves who received this mail (DESIGN.md §11); a notice
      // about no entry (an assignment) is signed with entry 0, the ticket's root.
      messageId: this.d.signer.sign(t.id, entryId ?? 0, to[0] ?? ''),
      fromAddress: from,
    };
  }

  /** An agent's response, to the requester with the collaborators in copy. */
  async response(t: NoticeTicket & Pick<Ticket, 'requesterLanguage'>, entryId: number, r: { agentName: string; body: string; bodyHtml?: string | null; accessLink: string; cc: string[] }): Promise<void> {
    const cc = r.cc.filter((a) => a !== t.requesterEmail);
    // The collaborators in copy read the requester's language: one mail, one language.
    const tr = await this.d.translatorFor(t.requesterLanguage);
    await this.enqueue(t, entryId, 'response', [t.requesterEmail], responseNotice(tr, t, r.agentName, r.body, r.accessLink, r.bodyHtml ?? null), {}, cc);
  }

  /**
   * To the requester of a merged ticket: the survivor's thread headers, signed for the survivor, so that a
   * reply threads there. `old` keeps its own requester (who is a collaborator on the survivor now).
   */
  async merged(old: NoticeTicket & Pick<Ticket, 'requesterLanguage'>, survivor: NoticeTicket, accessLink: string | null): Promise<void> {
    const tr = await this.d.translatorFor(old.requesterLanguage);
    const notice = mergedNotice(tr, this.d.helpdeskName, old, survivor, old.requesterName, accessLink);
    await this.d.outbox.enqueue(this.message(survivor, null, 'merged', [old.requesterEmail], notice, AUTO_GENERATED, [], await this.context(survivor)));
  }

  /**
   * One alert to each agent of the ticket's department and to its assignee, who may work elsewhere (an
   * administrator, or an agent who kept a ticket that moved on); never to the agent whose action caused it.
   * Each in the agent's language (else the site's) and time zone.
   */
  private async alerts(t: NoticeTicket, entryId: number | null, kind: keyof typeof ALERT_PREFERENCE, notice: (reader: AlertReader) => Notice, actorStaffId: number | null, known?: NoticeContext, opts: { department?: boolean; assignee?: boolean } = {}): Promise<OutboxMessage[]> {
    const agents: Staff[] = opts.department === false ? [] : [...(await this.d.staff.departmentMembers(t.departmentId))];
    if (opts.assignee !== false && t.assigneeId && !agents.some((a) => a.id === t.assigneeId)) {
      const assignee = await this.d.staff.activeStaff(t.assigneeId);
      if (assignee) agents.push(assignee);
    }
    // Each agent's own choice, but the assignee always hears of new messages on their ticket, and of a new
    // ticket assigned to them as it opens (a help topic's rule) when they want to hear of assignments.
    const isAssignee = (a: Staff) => a.id === t.assigneeId;
    const wanted = (a: Staff) => a.alerts[ALERT_PREFERENCE[kind]] || (kind === 'alert_new_message' && isAssignee(a)) || (kind === 'alert_new_ticket' && isAssignee(a) && a.alerts.assigned);
    const to = agents.filter((a) => a.id !== actorStaffId && wanted(a));
    if (!to.length) return [];
    const ctx = known ?? (await this.context(t));
    const messages: OutboxMessage[] = [];
    for (const agent of to) {
      const reader = { tr: await this.d.translatorFor(agent.language), timeZone: agent.timezone };
      messages.push(this.message(t, entryId, kind, [agent.email], notice(reader), AUTO_GENERATED, [], ctx));
    }
    return messages;
  }

  private async alert(...args: Parameters<Notifier['alerts']>): Promise<void> {
    await this.d.outbox.enqueueMany(await this.alerts(...args));
  }

  private staffUrl(t: NoticeTicket): string {
    return `${this.d.publicUrl}/scp/tickets/${t.number}`;
  }

  /**
   * A new ticket's mail: the auto-response to the requester (with `accessLink`; null for none), within the
   * address's auto-reply budget whatever the source, and the alerts to its agents, in one outbox insert.
   */
  async newTicket(t: NoticeTicket & Pick<Ticket, 'requesterLanguage'>, entryId: number, n: { accessLink: string | null; body: string; exceptStaffId: number | null }, ctx: NoticeContext): Promise<void> {
    const confirmation = n.accessLink !== null && (await this.d.autoReplies.take(t.requesterEmail))
      ? [this.message(t, entryId, 'ticket_created', [t.requesterEmail], ticketCreatedNotice(await this.d.translatorFor(t.requesterLanguage), this.d.helpdeskName, t, t.requesterName, n.accessLink), AUTO_REPLIED, [], ctx)]
      : [];
    const alert = { ticket: t, authorName: t.requesterName, body: n.body, staffUrl: this.staffUrl(t), at: this.d.clock.now() };
    const alerts = this.d.alertOnNewTicket ? await this.alerts(t, entryId, 'alert_new_ticket', (reader) => newTicketAlert(reader, alert), n.exceptStaffId, ctx) : [];
    await this.d.outbox.enqueueMany([...confirmation, ...alerts]);
  }

  async newMessageAlert(t: NoticeTicket, entryId: number, authorName: string, body: string): Promise<void> {
    await this.d.outbox.enqueueMany(await this.newMessageAlerts(t, { entryId, authorName, body, replyTo: null, at: this.d.clock.now() }));
  }

  /**
   * The alerts about a new message, for the caller to enqueue (pending-alerts.ts writes a batch in one insert).
   * `replyTo`: the Message-ID the message arrived with, if any. The alert then answers it and names it with
   * the ticket's root in References, without reading the ticket's earlier Message-IDs.
   */
  async newMessageAlerts(t: NoticeTicket, m: { entryId: number; authorName: string; body: string; replyTo: string | null; at: Date }): Promise<OutboxMessage[]> {
    if (!this.d.alertOnNewMessage) return [];
    const known = m.replyTo ? await this.context(t, { messageIds: [m.replyTo] }) : undefined;
    const alert = { ticket: t, authorName: m.authorName, body: m.body, staffUrl: this.staffUrl(t), at: m.at };
    return this.alerts(t, m.entryId, 'alert_new_message', (reader) => newMessageAlert(reader, alert), null, known);
  }

  /** To the agent a ticket was just assigned to, unless they took it themselves. */
  async assignedAlert(t: NoticeTicket, assigneeId: number, actor: { staffId: number; name: string }): Promise<void> {
    if (assigneeId === actor.staffId) return;
    await this.alert({ ...t, assigneeId }, null, 'alert_assigned', (reader) => assignedAlert(reader, { ticket: t, actorName: actor.name, staffUrl: this.staffUrl(t) }), actor.staffId, undefined, { department: false });
  }

  /** To the agents of the department a ticket was just transferred to, except the agent who moved it. */
  async transferAlert(t: NoticeTicket, fromName: string, actor: { staffId: number; name: string }): Promise<void> {
    await this.alert(t, null, 'alert_transfer', (reader) => transferAlert(reader, { ticket: t, fromName, actorName: actor.name, staffUrl: this.staffUrl(t) }), actor.staffId, undefined, { assignee: false });
  }
}
