import type { StaffRepository } from '../../staff/staff-repository.js';
import type { ThreadRepository } from '../../threads/thread-repository.js';
import type { Ticket } from '../../tickets/ticket.js';
import type { MailboxRepository } from '../mailboxes/mailbox-repository.js';
import { DEFAULT_MAILBOX } from '../mailboxes/mailbox-service.js';
import type { MessageIdSigner } from '../message-id.js';
import { newMessageAlert, newTicketAlert, responseNotice, ticketCreatedNotice, type Notice } from './notices.js';
import type { OutboxRepository } from './outbox-repository.js';

export interface NotifierDeps {
  outbox: OutboxRepository;
  threads: ThreadRepository;
  staff: StaffRepository;
  mailboxes: MailboxRepository;
  signer: MessageIdSigner;
  mailDomain: string;
  publicUrl: string;
  helpdeskName: string;
  alertOnNewTicket: boolean;
  alertOnNewMessage: boolean;
}

type NoticeTicket = Pick<Ticket, 'id' | 'number' | 'subject' | 'requesterName' | 'requesterEmail' | 'departmentId' | 'departmentName'> & { mailboxId?: number | null };

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

  private async fromAddress(t: NoticeTicket): Promise<string> {
    const mailbox = t.mailboxId ? await this.d.mailboxes.get(t.mailboxId) : null;
    return `${mailbox?.localPart ?? DEFAULT_MAILBOX}@${this.d.mailDomain}`;
  }

  private async threadHeaders(ticketId: number): Promise<Record<string, string>> {
    const root = this.d.signer.root(ticketId);
    const inbound = await this.d.threads.messageIds(ticketId);
    const last = inbound[inbound.length - 1];
    // RFC 5322 §3.6.4: References carries the parent's ancestry; ours is first message, root, latest.
    const refs = [...new Set([inbound[0], root, last].filter((x): x is string => Boolean(x)))];
    return { 'In-Reply-To': `<${last ?? root}>`, References: refs.map((r) => `<${r}>`).join(' ') };
  }

  /** Thread headers and sender address: the same for every mail about one event, so looked up once for all. */
  private async context(t: NoticeTicket): Promise<{ thread: Record<string, string>; from: string }> {
    return { thread: await this.threadHeaders(t.id), from: await this.fromAddress(t) };
  }

  private async enqueue(t: NoticeTicket, entryId: number, kind: string, to: string[], notice: Notice, headers: Record<string, string>, cc: string[] = [], ctx?: { thread: Record<string, string>; from: string }): Promise<void> {
    const { thread, from } = ctx ?? (await this.context(t));
    await this.d.outbox.enqueue({
      ticketId: t.id,
      entryId,
      kind,
      to,
      cc,
      ...notice,
      headers: { ...thread, ...headers },
      messageId: this.d.signer.sign(t.id, entryId),
      fromAddress: from,
    });
  }

  /** The new-ticket auto-response to the requester. */
  async ticketCreated(t: NoticeTicket, entryId: number, accessLink: string): Promise<void> {
    await this.enqueue(t, entryId, 'ticket_created', [t.requesterEmail], ticketCreatedNotice(this.d.helpdeskName, t, t.requesterName, accessLink), AUTO_REPLIED);
  }

  /** An agent's response, to the requester with the collaborators in copy. */
  async response(t: NoticeTicket, entryId: number, r: { agentName: string; body: string; signature: string; accessLink: string; cc: string[] }): Promise<void> {
    const cc = r.cc.filter((a) => a !== t.requesterEmail);
    await this.enqueue(t, entryId, 'response', [t.requesterEmail], responseNotice(t, r.agentName, r.body, r.signature, r.accessLink), {}, cc);
  }

  private async alert(t: NoticeTicket, entryId: number, kind: string, notice: Notice, exceptStaffId: number | null): Promise<void> {
    const agents = (await this.d.staff.departmentMembers(t.departmentId)).filter((a) => a.id !== exceptStaffId);
    if (!agents.length) return;
    const ctx = await this.context(t);
    for (const agent of agents) await this.enqueue(t, entryId, kind, [agent.email], notice, AUTO_GENERATED, [], ctx);
  }

  private staffUrl(t: NoticeTicket): string {
    return `${this.d.publicUrl}/scp/tickets/${t.number}`;
  }

  async newTicketAlert(t: NoticeTicket, entryId: number, body: string, exceptStaffId: number | null = null): Promise<void> {
    if (!this.d.alertOnNewTicket) return;
    await this.alert(t, entryId, 'alert_new_ticket', newTicketAlert({ ticket: t, authorName: t.requesterName, body, staffUrl: this.staffUrl(t) }), exceptStaffId);
  }

  async newMessageAlert(t: NoticeTicket, entryId: number, authorName: string, body: string): Promise<void> {
    if (!this.d.alertOnNewMessage) return;
    await this.alert(t, entryId, 'alert_new_message', newMessageAlert({ ticket: t, authorName, body, staffUrl: this.staffUrl(t) }), null);
  }
}
