import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldErrors } from '../../errors.js';
import { isEmail } from '../../users/email.js';
import { readForm } from '../forms.js';
import { adoptStoredLanguage } from '../i18n.js';
import type { Msg } from '../../i18n/message.js';
import { endSession, startSession } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';

const THROTTLE_SCOPE = 'client';

interface StatusPage {
  values?: Record<string, unknown>;
  errors?: FieldErrors;
  formError?: Msg;
  retryAt?: Date | null;
}

/**
 * Guest access by e-mail + ticket number (osTicket's credential pair). Both `/tickets/status` and `/login`
 * (DESIGN.md URL contract) serve this form, each posting back to itself.
 */
export async function clientAuthRoutes(app: FastifyInstance): Promise<void> {
  const { tickets, loginThrottle } = app.services;

  const renderStatus = (request: FastifyRequest, reply: FastifyReply, page: StatusPage, status = 200) =>
    render(request, reply, 'client/status', { title: 'portal.status.title', action: request.url.split('?')[0], ...page }, status);

  for (const path of ['/tickets/status', '/login']) {
    app.get(path, async (request, reply) => renderStatus(request, reply, {}));

    app.post(path, async (request, reply) => {
      const { fields } = readForm(request);
      const email = (fields.email ?? '').trim();
      // The requester's address is the account: one count however it is capitalised.
      const account = email.toLowerCase();
      const number = (fields.number ?? '').trim().replace(/^#/, '');
      const values = { email, number };
      const errors: FieldErrors = {};
      if (!isEmail(email)) errors.email = 'portal.status.email_required';
      if (!number) errors.number = 'portal.status.number_required';
      if (Object.keys(errors).length) return renderStatus(request, reply, { values, errors }, 400);

      try {
        await loginThrottle.check(THROTTLE_SCOPE, account, request.ip);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'TOO_MANY_ATTEMPTS') throw err;
        request.log.warn({ ip: request.ip }, 'client status check throttled');
        const retryAt = err.details?.retryAt ? new Date(String(err.details.retryAt)) : null;
        return renderStatus(request, reply, { values, formError: 'portal.status.throttled', retryAt }, 429);
      }

      let ticket;
      try {
        ticket = await tickets.findForGuest(email, number);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'TICKET_NOT_FOUND') throw err;
        await loginThrottle.fail(THROTTLE_SCOPE, account, request.ip);
        // 404 whether the number is unknown or belongs to another address, so numbers cannot be probed.
        return renderStatus(request, reply, { values, formError: err.userMessage }, 404);
      }
      await loginThrottle.succeed(THROTTLE_SCOPE, account, request.ip);
      await startSession(request, reply, 'client', { userId: ticket.userId, ticketId: ticket.id });
      adoptStoredLanguage(request, reply, ticket.requesterLanguage);
      return reply.redirect(`/tickets/${ticket.number}`);
    });
  }

  app.post('/logout', async (request, reply) => {
    await endSession(request, reply, 'client');
    setFlash(reply, { type: 'info', message: 'portal.flash.signed_out' });
    return reply.redirect('/');
  });
}
