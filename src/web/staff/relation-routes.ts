import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Message, type Msg } from '../../i18n/message.js';
import type { Ticket } from '../../tickets/ticket.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type NumberParams = { Params: { number: string } };

/** The ticket page with the agent's values and what went wrong (ticket-routes.ts, which registers these routes). */
export type RenderTicket = (
  request: FastifyRequest,
  reply: FastifyReply,
  number: string,
  extra?: { values?: Record<string, unknown>; errors?: FieldErrors; formError?: Msg; conflict?: AppError },
  status?: number,
) => Promise<FastifyReply>;

/** What ticket-routes.ts hands these routes: its page, and how a conflict is told (a lock's times in the agent's zone). */
export interface TicketPage {
  renderTicket: RenderTicket;
  conflictMessage: (request: FastifyRequest, err: AppError) => Promise<Message>;
}
type ItemParams = { Params: { number: string; id: string } };

/**
 * A ticket-page action: on success a flash and a redirect; a refused input or a conflict (someone else's
 * lock) shows the ticket page again with the form's values and the reason.
 */
async function pageAction({ renderTicket, conflictMessage }: TicketPage, request: FastifyRequest, reply: FastifyReply, number: string, act: () => Promise<{ message: Msg; to?: string }>) {
  const { fields } = readForm(request);
  try {
    const { message, to } = await act();
    setFlash(reply, { type: 'success', message });
    return reply.redirect(`/scp/tickets/${to ?? number}`);
  } catch (err) {
    if (err instanceof ValidationError) return renderTicket(request, reply, number, { values: fields, errors: err.fields }, 400);
    if (err instanceof AppError && err.category === 'conflict') return renderTicket(request, reply, number, { values: fields, formError: await conflictMessage(request, err), conflict: err }, 409);
    throw err;
  }
}

/** Collaborators, links, split and merge (issue 10, items 7 and 8): thin routes over tickets/ticket-relations-service.ts and ticket-merge.ts. */
export async function relationRoutes(app: FastifyInstance, page: TicketPage): Promise<void> {
  const { conflictMessage } = page;
  const { relations, merges, nonParticipantEntries, tickets } = app.services;

  app.post<NumberParams>('/tickets/:number/collaborators', async (request, reply) => {
    const { number } = request.params;
    const { fields } = readForm(request);
    return pageAction(page, request, reply, number, async () => {
      const r = await relations.addCollaborator(request.staff!, number, { email: fields.collaboratorEmail ?? '', name: fields.collaboratorName ?? '' });
      return { message: msg(r.added ? 'staff.collaborators.added' : 'staff.collaborators.already', { email: r.email }) };
    });
  });

  app.post<ItemParams>('/tickets/:number/collaborators/:id/remove', async (request, reply) => {
    const { number } = request.params;
    return pageAction(page, request, reply, number, async () => {
      await relations.removeCollaborator(request.staff!, number, parseId(request.params.id));
      return { message: 'staff.collaborators.removed' };
    });
  });

  app.post<NumberParams>('/tickets/:number/links', async (request, reply) => {
    const { number } = request.params;
    const { fields } = readForm(request);
    return pageAction(page, request, reply, number, async () => {
      const linked = await relations.link(request.staff!, number, fields.linkNumber ?? '');
      return { message: msg('staff.links.linked', { number: linked.number }) };
    });
  });

  app.post<ItemParams>('/tickets/:number/links/:id/remove', async (request, reply) => {
    const { number, id } = request.params;
    return pageAction(page, request, reply, number, async () => {
      await relations.unlink(request.staff!, number, id);
      return { message: msg('staff.links.unlinked', { number: id }) };
    });
  });

  app.post<ItemParams>('/tickets/:number/entries/:id/split', async (request, reply) => {
    const { number } = request.params;
    return pageAction(page, request, reply, number, async () => {
      const created = await nonParticipantEntries.split(request.staff!, number, parseId(request.params.id));
      return { message: msg('staff.entry.split_done', { number: created.number }), to: created.number };
    });
  });

  /** The merge form (step 'numbers') and its confirmation (step 'confirm'). */
  async function mergePage(request: FastifyRequest, reply: FastifyReply, ticket: Ticket, data: { step: 'numbers' | 'confirm'; values?: Record<string, unknown>; errors?: FieldErrors; candidates?: Ticket[]; formError?: unknown }, status = 200) {
    return render(request, reply, 'staff/ticket-merge', { title: msg('staff.merge.title', { number: ticket.number }), ticket, candidates: [], ...data }, status);
  }

  // ?others=: the numbers to merge with, from the queue's bulk "Merge" (a form filled in; nothing changes before it is sent).
  app.get<NumberParams & { Querystring: { others?: string } }>('/tickets/:number/merge', async (request, reply) => {
    const ticket = await tickets.get(request.staff!, request.params.number);
    const others = typeof request.query.others === 'string' ? request.query.others.slice(0, 5000) : '';
    return mergePage(request, reply, ticket, { step: 'numbers', values: { others } });
  });

  app.post<NumberParams>('/tickets/:number/merge/preview', async (request, reply) => {
    const ticket = await tickets.get(request.staff!, request.params.number);
    const { fields } = readForm(request);
    try {
      const candidates = await merges.candidates(request.staff!, ticket.number, fields.others ?? '');
      return mergePage(request, reply, ticket, { step: 'confirm', candidates, values: { others: candidates.slice(1).map((t) => t.number).join(' '), survivor: ticket.number, notify: '1' } });
    } catch (err) {
      if (err instanceof ValidationError) return mergePage(request, reply, ticket, { step: 'numbers', values: fields, errors: err.fields }, 400);
      throw err;
    }
  });

  app.post<NumberParams>('/tickets/:number/merge', async (request, reply) => {
    const ticket = await tickets.get(request.staff!, request.params.number);
    const { fields } = readForm(request);
    const others = fields.others ?? '';
    try {
      const done = await merges.merge(request.staff!, { number: ticket.number, others, survivor: fields.survivor ?? '', notify: fields.notify === '1' });
      setFlash(reply, { type: 'success', message: msg('staff.merge.done', { number: done.number, merged: done.merged.map((n) => `#${n}`).join(', ') }) });
      return reply.redirect(`/scp/tickets/${done.number}`);
    } catch (err) {
      if (err instanceof ValidationError && !err.fields.survivor) return mergePage(request, reply, ticket, { step: 'numbers', values: fields, errors: err.fields }, 400);
      const refused = err instanceof ValidationError || (err instanceof AppError && err.category === 'conflict');
      if (!refused) throw err;
      // Shown again for another try: the lock may be released, a survivor chosen.
      const candidates = await merges.candidates(request.staff!, ticket.number, others).catch((e: unknown) => {
        if (e instanceof ValidationError) return [];
        throw e;
      });
      const formError = err instanceof ValidationError ? undefined : await conflictMessage(request, err as AppError);
      return mergePage(request, reply, ticket, { step: 'confirm', candidates, values: fields, errors: err instanceof ValidationError ? err.fields : {}, formError }, err instanceof ValidationError ? 400 : 409);
    }
  });
}
