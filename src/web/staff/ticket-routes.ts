import { SIGNATURE_CHOICES, type RespondOptions } from '../../tickets/ticket-entries.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MAILBOX } from '../../mail/mailboxes/mailbox-service.js';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { PRIORITIES, STATUSES, type TicketStatus } from '../../tickets/ticket.js';
import { checkUploads, gather, optionalId, parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';
import { sendAttachment, sendInlineImage } from '../attachments.js';
import { CSP } from '../plugins/security-headers.js';
import { collisionPageData, lockMessage } from './lock-routes.js';
import { relationRoutes } from './relation-routes.js';
import { msg, type Message, type Msg } from '../../i18n/message.js';
import { translatorFor } from '../i18n.js';
import { bulkChoices } from './bulk-routes.js';
import { foldTimeline, readLatest, timeline } from '../../history/timeline.js';
import type { TicketView } from '../../tickets/ticket-view.js';
import type { QueuePage } from '../../tickets/ticket-service.js';
import type { SavedQueue } from '../../saved-queues/saved-queue.js';
import type { ResultSort } from '../../search/search-service.js';
import { readSavedSearch, searchQueryString } from '../../search/search-url.js';
import { eventLine } from './history.js';
import { formatPreview, type FormatPreview } from './format-routes.js';
import type { CannedFile } from '../../canned/canned-repository.js';
import { cannedReplyFiles, insertCanned, keptCannedFiles } from './canned-routes.js';

type NumberParams = { Params: { number: string } };

const STATUS_ACTIONS: Record<string, { status: TicketStatus; done: Msg }> = {
  open: { status: 'open', done: 'staff.ticket.reopened' },
  resolved: { status: 'resolved', done: 'staff.ticket.resolved' },
  closed: { status: 'closed', done: 'staff.ticket.closed' },
};

const QUEUE_TITLES = {
  open: 'staff.queue.title.open',
  mine: 'staff.queue.title.mine',
  unassigned: 'staff.queue.title.unassigned',
  answered: 'staff.queue.title.answered',
  closed: 'staff.queue.title.closed',
} as const;

const QUEUE_TABS = {
  open: 'staff.queue.tab.open',
  mine: 'staff.queue.tab.mine',
  unassigned: 'staff.queue.tab.unassigned',
  answered: 'staff.queue.tab.answered',
  closed: 'staff.queue.tab.closed',
} as const;

/** What a conflict tells the agent; a lock's times as clock times in their language and zone. */
async function conflictMessage(request: FastifyRequest, err: AppError): Promise<Message> {
  return err.code === 'LOCK_HELD' ? lockMessage(err.userMessage, await translatorFor(request), request.staff!.timezone) : err.userMessage;
}

/** How many of a long thread's latest entries and events the ticket page opens with. */
const THREAD_TAIL = 30;

/**
 * The thread as the page shows it: entries and history in time order, whole when asked for, else a long one
 * folded, never folding away an entry `keep` names (the agent has not seen it, or asked for its images).
 */
function threadItems(view: TicketView, whole: boolean, keep: (entryId: number) => boolean) {
  const items = timeline(view.entries, view.events);
  if (whole) return { timeline: items, folded: null };
  const { items: shown, folded } = foldTimeline(items, THREAD_TAIL, (i) => Boolean(i.entry && keep(i.entry.id)), view.totals);
  return { timeline: shown, folded };
}

/** How many of the requester's other tickets the page lists. */
const REQUESTER_TICKETS = 8;

const SENT: Record<string, Msg> = { resolved: 'staff.ticket.response_sent_resolved', closed: 'staff.ticket.response_sent_closed' };

/** The reply form's signature choice, its "Send and …" button and who is addressed; anything else is the plain "Send" to all. */
function replyChoices(fields: Record<string, string | undefined>): Pick<RespondOptions, 'signature' | 'thenStatus' | 'replyToAll'> {
  const signature = SIGNATURE_CHOICES.find((c) => c === fields.signature);
  const thenStatus = fields.then === 'resolved' || fields.then === 'closed' ? fields.then : undefined;
  return { ...(signature ? { signature } : {}), ...(thenStatus ? { thenStatus } : {}), replyToAll: fields.recipients !== 'requester' };
}

export async function ticketRoutes(app: FastifyInstance): Promise<void> {
  const { tickets, departments, topics, staff, config, locks, directory, canned, relations, merges, savedQueues } = app.services;

  /** The ticket page, also used to answer a failed post with the agent's text and the errors in place. */
  async function renderTicket(
    request: FastifyRequest,
    reply: FastifyReply,
    number: string,
    extra: { values?: Record<string, unknown>; errors?: FieldErrors; formError?: Msg; conflict?: AppError; preview?: FormatPreview; seenEntryId?: number; cannedWarning?: Msg; cannedFiles?: CannedFile[]; keptLastEntryId?: number } = {},
    status = 200,
  ) {
    // ?images=<entry id>: the agent chose to load that entry's remote images (they tell the sender it was read).
    const query = request.query as { images?: string; thread?: string } | undefined;
    const images = query?.images;
    const remoteImagesFor = parseId(images) || null;
    // A plain view of a long thread reads only what opens unfolded; ?thread=all, a chosen entry's images and a
    // form shown again (with entries the agent may not have seen) read it whole.
    const whole = query?.thread === 'all' || remoteImagesFor !== null || Object.keys(extra).length > 0;
    const view = await tickets.view(request.staff!, number, { remoteImagesFor, imageUrl: (a) => `/scp/tickets/${number}/attachments/${a.id}/image`, ...(whole ? {} : { latest: readLatest(THREAD_TAIL) }) });
    // A merged ticket's number is an alias: its page is the survivor's.
    const survivor = await merges.survivorOf(view.ticket);
    if (survivor) return reply.redirect(`/scp/tickets/${survivor}`);
    if (view.entries.some((e) => e.display.remoteImagesShown && e.display.bodyHtmlSanitized)) {
      reply.header('Content-Security-Policy', CSP.replace("img-src 'self' data:", "img-src 'self' data: https: http:"));
    }
    const [allDepartments, assignable, collision, me, requesterTickets, cannedResponses] = await Promise.all([
      departments.menu({ includeArchived: true }),
      staff.listAssignable(view.ticket.departmentId),
      collisionPageData(request, view.ticket),
      directory.activeStaff(request.staff!.staffId),
      tickets.requesterTickets(request.staff!, view.ticket, REQUESTER_TICKETS + 1),
      canned.menuFor(request.staff!),
    ]);
    const related = relations.forPage(request.staff!, view.relations);
    const signatures = { mine: me?.signature ?? '', department: allDepartments.find((d) => d.id === view.ticket.departmentId)?.signature.trim() ?? '' };
    // Entries that came while the agent wrote: named by a refused send, or found newer than what a previewing form had seen.
    const stale = extra.conflict?.code === 'STALE_THREAD' ? (extra.conflict.details?.newEntryIds as number[]) : extra.seenEntryId ? view.entries.filter((e) => e.id > extra.seenEntryId!).map((e) => e.id) : [];
    return render(request, reply, 'staff/ticket', {
      title: msg('staff.ticket.title', { number: view.ticket.number, subject: (await translatorFor(request)).subject(view.ticket.subject) }),
      ...view,
      ...threadItems(view, query?.thread === 'all', (id) => stale.includes(id) || id === remoteImagesFor),
      eventLine,
      // An archived department is offered only as where the ticket already is.
      departments: allDepartments.filter((d) => !d.archivedAt || d.id === view.ticket.departmentId),
      assignable,
      priorities: PRIORITIES,
      statuses: STATUSES,
      reopenOnReply: config.mail.reopenOnReply,
      limits: config.attachments,
      ...collision,
      newEntryIds: stale,
      signatures,
      requesterTickets: requesterTickets.slice(0, REQUESTER_TICKETS),
      moreRequesterTickets: requesterTickets.length > REQUESTER_TICKETS,
      // Mine when I have one, else the department's (what responses carried before there was a choice).
      signatureChoice: signatures.mine ? 'mine' : signatures.department ? 'department' : 'none',
      cannedResponses,
      cannedFiles: [],
      // Collaborators, links, merged numbers (partials/collaborators.eta, partials/related.eta).
      related,
      ...extra,
    }, status);
  }

  app.get('/', async (_request, reply) => reply.redirect('/scp/tickets'));

  app.get<{ Querystring: { queue?: string; dept?: string; sort?: string; dir?: string; cursor?: string; saved?: string } }>('/tickets', async (request, reply) => {
    const p = request.staff!;
    const q = request.query;
    const menu = await savedQueues.menuFor(p);
    // ?saved=<id>: a saved search (saved-queues/), listed like any queue; its own filters replace the department's.
    const saved = q.saved === undefined ? null : savedQueues.inMenu(menu, parseId(q.saved));
    const departmentId = saved ? null : parseId(q.dept) || null;
    const [page, counts, savedCounts, allDepartments] = await Promise.all([
      saved ? savedQueuePage(request, saved) : tickets.queue(p, { queue: q.queue, departmentId, sort: q.sort, dir: q.dir, cursor: q.cursor ?? null }),
      tickets.queueCounts(p, departmentId),
      savedQueues.counts(p, menu),
      departments.menu({ includeArchived: true }),
    ]);
    const held = await locks.liveLocks(page.rows.map((r) => r.id));
    page.rows = page.rows.map((r) => ({ ...r, lockHolderName: held.get(r.id)?.holderName ?? null }));
    const visibleDepartments = p.isAdmin ? allDepartments : allDepartments.filter((d) => p.departmentIds.includes(d.id));
    return render(request, reply, 'staff/queue', {
      title: saved ? msg('staff.saved_queue.title', { name: saved.name }) : QUEUE_TITLES[page.queue!],
      mailAddress: `${DEFAULT_MAILBOX}@${config.mailDomain}`,
      page,
      counts,
      queueTabs: QUEUE_TABS,
      savedQueues: menu,
      savedCounts,
      saved: saved && { ...saved, manageable: saved.staffId !== null || p.isAdmin, searchUrl: `/scp/search?${searchQueryString(readSavedSearch(saved.query, p.timezone).form, { sort: saved.sort })}` },
      departments: visibleDepartments,
      firstPage: !q.cursor,
      ...(page.rows.length ? await bulkChoices(request) : {}),
    });
  });

  /** A saved queue's page in the shape of a built-in queue's, so that one template lists both. */
  async function savedQueuePage(request: FastifyRequest<{ Querystring: { sort?: string; dir?: string; cursor?: string } }>, saved: SavedQueue): Promise<Omit<QueuePage, 'queue' | 'sort'> & { queue: null; saved: number; sort: ResultSort }> {
    const { sort, dir, cursor } = request.query;
    const page = await savedQueues.page(request.staff!, saved, { sort, dir, cursor: cursor ?? null });
    return { queue: null, saved: saved.id, sort: page.sort, dir: page.dir, departmentId: null, rows: page.rows, nextCursor: page.next };
  }

  app.get<{ Querystring: { number?: string } }>('/tickets/find', async (request, reply) => {
    const number = (request.query.number ?? '').trim().replace(/^#/, '');
    if (await tickets.isVisible(request.staff!, number)) return reply.redirect(`/scp/tickets/${number}`);
    setFlash(reply, { type: 'error', message: msg('staff.ticket.not_found', { number }) });
    return reply.redirect('/scp/tickets');
  });

  app.get('/tickets/new', async (request, reply) => {
    return render(request, reply, 'staff/ticket-new', await newTicketData(request, { priority: '', notify: '1' }));
  });

  async function newTicketData(request: FastifyRequest, values: Record<string, unknown>, errors: FieldErrors = {}) {
    const p = request.staff!;
    const all = await departments.menu();
    return {
      title: 'staff.ticket_new.title',
      values,
      errors,
      departments: p.isAdmin ? all : all.filter((d) => p.departmentIds.includes(d.id)),
      topics: await topics.list(),
      priorities: PRIORITIES,
      limits: config.attachments,
    };
  }

  app.post('/tickets/new', { config: { uploads: 'staff' } }, async (request, reply) => {
    const { fields, files } = readForm(request);
    const values = { ...fields };
    const known: FieldErrors = {};
    try {
      const { ticket } = await tickets.create(request.staff!, {
        name: fields.name ?? '',
        email: fields.email ?? '',
        subject: fields.subject ?? '',
        message: fields.message ?? '',
        topicId: gather(() => optionalId(fields.topicId, 'topicId'), known, null),
        departmentId: gather(() => optionalId(fields.departmentId, 'departmentId'), known, null),
        priority: gather(() => optionalId(fields.priority, 'priority'), known, null),
        source: fields.source === 'email' ? 'email' : 'phone',
        attachments: gather(() => checkUploads(files.attachments ?? [], config.attachments), known, []),
        notifyRequester: fields.notify === '1',
        knownErrors: known,
      });
      setFlash(reply, { type: 'success', message: msg('staff.ticket_new.created', { number: ticket.number }) });
      return reply.redirect(`/scp/tickets/${ticket.number}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'staff/ticket-new', await newTicketData(request, values, err.fields), request.uploadRefused ? 413 : 400);
    }
  });

  // Looking takes no lock (unless the site locks on view): "Start a reply" is a POST, see lock-routes.ts.
  app.get<NumberParams>('/tickets/:number', async (request, reply) => renderTicket(request, reply, request.params.number));

  /** Reply and note share one shape: validate, write, or show the page again with the text kept. */
  for (const kind of ['reply', 'note'] as const) {
    app.post<NumberParams>(`/tickets/:number/${kind}`, { config: { uploads: 'staff' } }, async (request, reply) => {
      const { number } = request.params;
      const form = readForm(request);
      const { fields, files } = form;
      const text = kind === 'reply' ? (fields.message ?? '') : (fields.note ?? '');
      // Formatting preview (format-routes.ts): the page again with the text kept and shown formatted; nothing is written.
      if (fields.preview !== undefined) return renderTicket(request, reply, number, { values: fields, preview: formatPreview(kind, text), seenEntryId: parseId(fields.lastEntryId) });
      // "Insert" of a canned response without JavaScript: the form again with the text added, nothing sent.
      if (kind === 'reply' && fields.insertCanned !== undefined) {
        const { status, ...kept } = await insertCanned(request, number, form);
        return renderTicket(request, reply, number, kept, status);
      }
      try {
        const attachments = checkUploads(files.attachments ?? [], config.attachments, kind === 'reply' ? 'attachments' : 'noteAttachments');
        const seenEntryId = parseId(fields.lastEntryId) || null;
        if (kind === 'reply') await tickets.respond(request.staff!, number, text, [...attachments, ...(await cannedReplyFiles(request, number, form, attachments.length))], { seenEntryId, markdown: true, ...replyChoices(fields) });
        else await tickets.note(request.staff!, number, text, attachments, { markdown: true });
      } catch (err) {
        if (err instanceof ValidationError) return renderTicket(request, reply, number, { values: fields, errors: err.fields, ...(await keptCannedFiles(request, form)) }, request.uploadRefused ? 413 : 400);
        if (err instanceof AppError && err.category === 'conflict') return renderTicket(request, reply, number, { values: fields, formError: await conflictMessage(request, err), conflict: err, ...(await keptCannedFiles(request, form)) }, 409);
        throw err;
      }
      setFlash(reply, { type: 'success', message: kind === 'note' ? 'staff.ticket.note_added' : SENT[fields.then ?? ''] ?? 'staff.ticket.response_sent' });
      return reply.redirect(`/scp/tickets/${number}`);
    });
  }

  app.post<NumberParams>('/tickets/:number/status', async (request, reply) => {
    const action = STATUS_ACTIONS[readForm(request).fields.status ?? ''];
    if (!action) throw new ValidationError({ status: 'staff.ticket.choose_status' });
    try {
      await tickets.setStatus(request.staff!, request.params.number, action.status);
    } catch (err) {
      if (err instanceof AppError && err.category === 'conflict') return renderTicket(request, reply, request.params.number, { formError: await conflictMessage(request, err), conflict: err }, 409);
      throw err;
    }
    setFlash(reply, { type: 'success', message: action.done });
    return reply.redirect(`/scp/tickets/${request.params.number}`);
  });

  app.post<NumberParams>('/tickets/:number/access-links/revoke', async (request, reply) => {
    const { number } = request.params;
    await request.server.services.accessLinks.revoke(request.staff!, number);
    setFlash(reply, { type: 'success', message: 'staff.ticket.access_links_revoked' });
    return reply.redirect(`/scp/tickets/${number}`);
  });

  app.post<NumberParams>('/tickets/:number/properties', async (request, reply) => {
    const { number } = request.params;
    const { fields } = readForm(request);
    const p = request.staff!;
    let result: { unassignedId: number | null };
    try {
      result = await tickets.updateProperties(p, number, {
        priority: optionalId(fields.priority, 'priority'),
        departmentId: optionalId(fields.departmentId, 'departmentId'),
        ...(fields.assigneeId !== undefined ? { assigneeId: optionalId(fields.assigneeId, 'assigneeId') } : {}),
      });
    } catch (err) {
      if (err instanceof ValidationError) return renderTicket(request, reply, number, { errors: err.fields }, 400);
      if (err instanceof AppError && err.category === 'conflict') return renderTicket(request, reply, number, { formError: await conflictMessage(request, err) }, 409);
      throw err;
    }
    const { unassignedId } = result;
    if (unassignedId === null) setFlash(reply, { type: 'success', message: 'staff.ticket.updated' });
    else if (unassignedId === p.staffId) setFlash(reply, { type: 'info', message: 'staff.ticket.updated_you_unassigned' });
    else setFlash(reply, { type: 'info', message: msg('staff.ticket.updated_unassigned', { name: (await staff.get(unassignedId)).name }) });
    return reply.redirect((await tickets.isVisible(p, number)) ? `/scp/tickets/${number}` : '/scp/tickets');
  });

  app.get<{ Params: { number: string; id: string } }>('/tickets/:number/attachments/:id', async (request, reply) => {
    const id = parseId(request.params.id);
    return sendAttachment(reply, await tickets.attachment(request.staff!, request.params.number, id));
  });

  app.get<{ Params: { number: string; id: string } }>('/tickets/:number/attachments/:id/image', async (request, reply) => {
    const id = parseId(request.params.id);
    return sendInlineImage(reply, await tickets.attachment(request.staff!, request.params.number, id));
  });

  // Collaborators, links, split and merge re-render this page on refusals (relation-routes.ts).
  await app.register(relationRoutes, { renderTicket, conflictMessage });
}
