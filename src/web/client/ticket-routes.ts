import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import type { ClientPrincipal } from '../../tickets/ticket.js';
import { sendAttachment } from '../attachments.js';
import { checkUploads, gather, optionalId, parseId, readForm } from '../forms.js';
import { adoptStoredLanguage, translatorFor } from '../i18n.js';
import { startSession } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';

type NumberParams = { Params: { number: string } };

interface NewTicketForm {
  name: string;
  email: string;
  topicId: string;
  subject: string;
  message: string;
}

/**
 * Stands in for a visitor without a session: it owns no ticket, so the service answers exactly as it does
 * for someone else's ticket (404, same message), and ticket numbers cannot be probed.
 */
const NOBODY: ClientPrincipal = { kind: 'client', userId: 0, ticketId: 0 };

const principal = (request: FastifyRequest): ClientPrincipal => request.client ?? NOBODY;

export async function clientTicketRoutes(app: FastifyInstance): Promise<void> {
  const { tickets, topics, accessTokens, clock, config, rateLimiter, users } = app.services;
  // Each new ticket mails a confirmation: without a cap, the form would send strangers mail on demand.
  const creationLimit = { scope: 'portal-ticket', max: config.portal.ticketsPerHourPerAddress, windowMs: 3600_000 };

  async function renderNew(request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>, errors: FieldErrors = {}, status = 200, formError: Msg | null = null) {
    return render(request, reply, 'client/ticket-new', {
      title: 'portal.new.title',
      values,
      errors,
      formError,
      topics: await topics.list({ publicOnly: true }),
      limits: config.attachments,
    }, status);
  }

  async function renderTicket(request: FastifyRequest, reply: FastifyReply, number: string, extra: { values?: Record<string, unknown>; errors?: FieldErrors } = {}, status = 200) {
    const view = await tickets.view(principal(request), number);
    // A merged ticket leads to its survivor when the visitor may see that one; else it says where it went.
    const mergedInto = await request.server.services.merges.survivorOf(view.ticket);
    if (mergedInto && (await tickets.isVisible(principal(request), mergedInto))) return reply.redirect(`/tickets/${mergedInto}`);
    return render(request, reply, 'client/ticket', {
      title: msg('portal.ticket.title', { number: view.ticket.number, subject: (await translatorFor(request)).subject(view.ticket.subject) }),
      ...view,
      mergedInto,
      limits: config.attachments,
      ...extra,
    }, status);
  }

  app.get('/tickets/new', async (request, reply) => renderNew(request, reply, {}));

  app.post('/tickets/new', { config: { uploads: 'public' } }, async (request, reply) => {
    const { fields, files } = readForm(request);
    const values: NewTicketForm = { name: fields.name ?? '', email: fields.email ?? '', topicId: fields.topicId ?? '', subject: fields.subject ?? '', message: fields.message ?? '' };
    const known: FieldErrors = {};
    const attachments = gather(() => checkUploads(files.attachments ?? [], config.attachments), known, []);
    const topicId = gather(() => optionalId(values.topicId, 'topicId'), known, null);
    const allowance = await rateLimiter.check(creationLimit, request.ip);
    if (!allowance.allowed) {
      request.log.warn({ retryAt: allowance.retryAt }, 'portal ticket creation limit reached');
      reply.header('retry-after', String(Math.max(1, Math.ceil((allowance.retryAt.getTime() - clock.now().getTime()) / 1000))));
      const minutes = Math.max(1, Math.ceil((allowance.retryAt.getTime() - clock.now().getTime()) / 60_000));
      return renderNew(request, reply, { ...values }, {}, 429, msg('portal.new.rate_limited', { minutes }));
    }
    try {
      // The language the visitor reads the portal in is the one their notices are written in.
      const requesterLanguage = { code: (await translatorFor(request)).locale, replace: true };
      const { ticket } = await tickets.create(null, { ...values, topicId, source: 'web', attachments, requireName: true, knownErrors: known, requesterLanguage });
      await rateLimiter.record(creationLimit, request.ip);
      await startSession(request, reply, 'client', { userId: ticket.userId, ticketId: ticket.id });
      request.log.info({ ticketId: ticket.id }, 'ticket opened from the portal');
      return reply.redirect(`/tickets/${ticket.number}/created`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderNew(request, reply, { ...values }, err.fields, request.uploadRefused ? 413 : 400);
    }
  });

  app.get<NumberParams>('/tickets/:number/created', async (request, reply) => {
    const ticket = await tickets.get(principal(request), request.params.number);
    return render(request, reply, 'client/ticket-created', { title: msg('portal.created.title', { number: ticket.number }), ticket });
  });

  app.get('/tickets', async (request, reply) => {
    const rows = request.client ? await tickets.listForClient(request.client) : [];
    return render(request, reply, 'client/tickets', { title: 'portal.tickets.title', rows, signedIn: Boolean(request.client) });
  });

  app.get<NumberParams & { Querystring: { t?: string } }>('/tickets/:number', async (request, reply) => {
    const { number } = request.params;
    const token = request.query.t;
    if (token === undefined) return renderTicket(request, reply, number);

    // An access link from our mail: trade the token for a session scoped to this ticket, then drop it from
    // the address bar so it does not linger in history, bookmarks or screenshots.
    const ticket = accessTokens.ticketIdOf(token) !== null ? await tickets.findByNumber(number) : null;
    // Verified against the ticket's access epoch: links revoked by an agent fail here.
    const grant = ticket ? accessTokens.verify(token, clock.now(), ticket.accessEpoch) : null;
    // A link mailed to a user who was later merged names that user; the ticket is now the survivor's.
    const holder = grant && ticket && grant.userId !== ticket.userId && (await users.mergedInto(grant.userId)) === ticket.userId ? ticket.userId : grant?.userId;
    if (ticket && grant && ticket.id === grant.ticketId && ticket.userId === holder) {
      await startSession(request, reply, 'client', { userId: ticket.userId, ticketId: ticket.id });
      adoptStoredLanguage(request, reply, ticket.requesterLanguage);
      return reply.redirect(`/tickets/${ticket.number}`);
    }
    if (await tickets.isVisible(principal(request), number)) return reply.redirect(`/tickets/${number}`);
    request.log.info('access link refused');
    return render(request, reply, 'client/status', {
      title: 'portal.status.title',
      action: '/tickets/status',
      formError: 'portal.status.link_invalid',
    }, 404);
  });

  app.post<NumberParams>('/tickets/:number/reply', { config: { uploads: 'client' } }, async (request, reply) => {
    const { number } = request.params;
    const { fields, files } = readForm(request);
    let entryId: number;
    try {
      const attachments = checkUploads(files.attachments ?? [], config.attachments);
      entryId = await tickets.clientReply(principal(request), number, fields.message ?? '', attachments);
    } catch (err) {
      if (err instanceof ValidationError) return renderTicket(request, reply, number, { values: { message: fields.message ?? '' }, errors: err.fields }, request.uploadRefused ? 413 : 400);
      throw err;
    }
    setFlash(reply, { type: 'success', message: 'portal.flash.reply_added' });
    return reply.redirect(`/tickets/${number}#entry-${entryId}`);
  });

  app.get<{ Params: { number: string; id: string } }>('/tickets/:number/attachments/:id', async (request, reply) => {
    const id = parseId(request.params.id);
    return sendAttachment(reply, await tickets.attachment(principal(request), request.params.number, id));
  });
}
