import type { FastifyInstance } from 'fastify';
import { OUTBOX_STATUSES, type OutboxStatus } from '../../mail/outbound/outbox-repository.js';
import { notFound } from '../../errors.js';
import { render, setFlash } from '../render.js';
import { parseId } from '../forms.js';

const PAGE_SIZE = 50;

/** The outbox as administrators see it: what waits, what went out, what failed and why. */
export async function outboxAdminRoutes(app: FastifyInstance): Promise<void> {
  const { outbox, config, clock, audit } = app.services;

  app.get<{ Querystring: { status?: string; before?: string } }>('/outbox', async (request, reply) => {
    const status: OutboxStatus = (OUTBOX_STATUSES as readonly string[]).includes(request.query.status ?? '') ? (request.query.status as OutboxStatus) : 'pending';
    const beforeId = parseId(request.query.before) || undefined;
    const [rows, counts] = await Promise.all([outbox.list({ status, beforeId, limit: PAGE_SIZE + 1 }), outbox.counts()]);
    const more = rows.length > PAGE_SIZE;
    const shown = rows.slice(0, PAGE_SIZE);
    return render(request, reply, 'admin/outbox', {
      title: 'Outgoing mail',
      status,
      statuses: OUTBOX_STATUSES,
      counts,
      rows: shown,
      nextBefore: more ? shown[shown.length - 1]!.id : null,
      firstPage: beforeId === undefined,
      relayConfigured: Boolean(config.outboundSmtpUrl),
    });
  });

  app.post<{ Params: { id: string } }>('/outbox/:id/retry', async (request, reply) => {
    const id = parseId(request.params.id);
    if (!(await outbox.retry(id, clock.now()))) throw notFound('OUTBOX_NOT_FAILED', 'No failed message with this id.');
    await audit.record({ staffId: request.staff!.staffId, action: 'outbox.retry', objectType: 'outbox', objectId: id });
    setFlash(reply, { type: 'success', message: 'The message is queued again and goes out with the next delivery run.' });
    return reply.redirect('/scp/admin/outbox?status=failed');
  });
}
