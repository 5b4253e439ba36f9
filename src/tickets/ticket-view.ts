import type { ApiPrincipal } from '../api-keys/api-key-service.js';
import type { Attachment, AttachmentRepository } from '../attachments/attachment-repository.js';
import { renderMailHtml, type RenderedHtml } from '../content/sanitize.js';
import { trimText } from '../content/reply-trim.js';
import type { EventRepository, TicketEvent } from '../history/event-repository.js';
import type { ThreadEntry, ThreadRepository } from '../threads/thread-repository.js';
import type { Collaborator, CollaboratorRepository } from './collaborator-repository.js';
import type { TicketRelations, TicketRelationsRepository } from './ticket-relations.js';
import type { TicketRepository } from './ticket-repository.js';
import { isTicketNumber, ticketNotFound, type TicketAccess } from './ticket-rules.js';
import type { Principal, Ticket } from './ticket.js';

/** How an entry is shown: quoted history and signatures folded away, HTML made safe for the page. */
export interface EntryDisplay extends RenderedHtml {
  textVisible: string;
  textQuoted: string;
  remoteImagesShown: boolean;
}

export interface EntryWithAttachments extends ThreadEntry {
  attachments: Attachment[];
  display: EntryDisplay;
}

export interface TicketView {
  ticket: Ticket;
  entries: EntryWithAttachments[];
  /** The ticket's history, for agents (none for the requester or an integration). */
  events: TicketEvent[];
  /** Collaborators, links and merged numbers, for agents (read with the history). */
  relations?: TicketRelations;
  /** With `latest`: how many entries and events the ticket has in all, of which only some were read. */
  totals?: { entries: number; events: number };
  latestEntryId: number;
}

export interface ViewOptions {
  /** The entry whose remote images the viewer asked to load. */
  remoteImagesFor?: number | null;
  /** URL of an inline image (a cid: reference in mail HTML); defaults to the panel's attachment URL. */
  imageUrl?: (a: Attachment) => string;
  /**
   * For agents: read only the first entry and the latest so many entries and events, and the totals, for a
   * page that opens a long thread folded (the rest is neither read nor prepared).
   */
  latest?: number;
}

export interface TicketViewDeps {
  tickets: TicketRepository;
  threads: ThreadRepository;
  attachments: AttachmentRepository;
  collaborators: CollaboratorRepository;
  events: EventRepository;
  relations: TicketRelationsRepository;
}

/**
 * The read side of tickets: a ticket with its thread and files, each entry prepared for display, read in one
 * statement; for agents its history, collaborators, links and merged numbers in a second (the ticket page is
 * read all day, within a statement budget).
 */
export class TicketViews {
  constructor(
    private readonly d: TicketViewDeps,
    /** TicketService: who may see which ticket. */
    private readonly access: TicketAccess,
  ) {}

  async view(p: Principal, number: string, opts: ViewOptions = {}): Promise<TicketView> {
    const staff = p.kind === 'staff';
    const base = staff ? `/scp/tickets/${number}` : `/tickets/${number}`;
    const latest = staff && opts.latest ? Math.trunc(opts.latest) : undefined;
    const found = await this.withThread(number, staff, latest);
    // The thread of a ticket the principal may not see was read with it, and goes no further than here.
    const ticket = this.access.visible(p, found.ticket);
    const view = this.assemble(ticket, found.entries, staff, { imageUrl: (a) => `${base}/attachments/${a.id}`, ...opts });
    if (!staff) return view;
    const { events, relations, threads } = this.d;
    const counts: Record<string, (id: string) => string> = latest ? { entry_count: (id) => threads.countSql(id, { includeNotes: true }), event_count: (id) => events.countSql(id) } : {};
    const extras = await this.d.tickets.extras<string>(latest ? `staff page, latest ${latest}` : 'staff page', ticket.id, { events_json: (id) => events.listJson(id, latest), ...relations.columns(), ...counts });
    const totals = latest ? { entries: Number(extras.entry_count), events: Number(extras.event_count) } : undefined;
    return { ...view, events: events.fromJson(extras.events_json), relations: relations.fromRow(extras), ...(totals ? { totals } : {}) };
  }

  /**
   * For API keys. Keys are made by administrators for trusted integrations, so they read any ticket and the
   * whole thread, internal notes included; every entry carries its type so that callers can filter.
   */
  async viewForIntegration(_key: ApiPrincipal, number: string): Promise<TicketView> {
    const { ticket, entries } = await this.withThread(number, true);
    if (!ticket) throw ticketNotFound();
    return this.assemble(ticket, entries, true);
  }

  /** The ticket and its thread in one statement; no ticket for what cannot be a ticket number. */
  private async withThread(number: string, includeNotes: boolean, latest?: number): Promise<{ ticket: Ticket | null; entries: Array<ThreadEntry & { attachments: Attachment[] }> }> {
    if (!isTicketNumber(number)) return { ticket: null, entries: [] };
    const { threads, attachments } = this.d;
    const shape = `${includeNotes ? 'thread' : 'thread without notes'}${latest ? `, latest ${latest}` : ''}`;
    const { ticket, rows } = await this.d.tickets.findWithRows(number, shape, (q, tickets) => threads.joinThread(q, tickets, { includeNotes, latest }, attachments));
    return { ticket, entries: threads.fromJoined(rows, attachments) };
  }

  /** The people copied on a ticket, for a principal who may see it. */
  async collaborators(p: Principal, number: string): Promise<Collaborator[]> {
    return this.d.collaborators.list((await this.access.get(p, number)).id);
  }

  private assemble(ticket: Ticket, entries: Array<ThreadEntry & { attachments: Attachment[] }>, includeNotes: boolean, opts: ViewOptions = {}): TicketView {
    return {
      ticket,
      // A stranger's mail on someone's ticket is for agents to judge, not for the requester to read.
      entries: entries.filter((e) => includeNotes || !e.fromNonParticipant).map((e) => ({ ...e, display: display(e, e.attachments, opts) })),
      events: [],
      latestEntryId: entries.reduce((m, e) => Math.max(m, e.id), 0),
    };
  }
}

function display(e: ThreadEntry, attachments: Attachment[], opts: ViewOptions): EntryDisplay {
  const text = trimText(e.bodyText);
  const remoteImagesShown = opts.remoteImagesFor === e.id;
  const html = e.bodyHtml
    ? renderMailHtml(e.bodyHtml, {
        allowRemoteImages: remoteImagesShown,
        inlineImageUrl: (cid) => {
          const a = attachments.find((f) => f.contentId === cid && /^image\/(png|jpeg|gif|webp)$/.test(f.contentType));
          return a && opts.imageUrl ? opts.imageUrl(a) : null;
        },
      })
    : { bodyHtmlSanitized: '', quotedHtmlSanitized: null, blockedRemoteImages: 0 };
  return { ...html, textVisible: text.visible, textQuoted: text.quoted, remoteImagesShown };
}
