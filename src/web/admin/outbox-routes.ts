import type { FastifyInstance } from 'fastify';
import { OUTBOX_STATUSES, type OutboxRow, type OutboxStatus } from '../../mail/outbound/outbox-repository.js';
import { renderMailHtml } from '../../content/sanitize.js';
import { notFound } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import { render, setFlash } from '../render.js';
import { parseId } from '../forms.js';

const PAGE_SIZE = 50;

const PASSWORD_KINDS = new Set(['staff_reset', 'staff_invite']);

/** What each kind of outgoing mail is called on the admin pages (catalog keys). */
export const OUTBOX_KINDS: Record<string, string> = {
  ticket_created: 'admin.outbox.kind.ticket_created',
  response: 'admin.outbox.kind.response',
  alert_new_ticket: 'admin.outbox.kind.alert_new_ticket',
  alert_new_message: 'admin.outbox.kind.alert_new_message',
  alert_assigned: 'admin.outbox.kind.alert_assigned',
  alert_transfer: 'admin.outbox.kind.alert_transfer',
  staff_reset: 'admin.outbox.kind.staff_reset',
  staff_invite: 'admin.outbox.kind.staff_invite',
};

/** The outbox tabs' names (catalog keys): a mail's states, not a ticket's, so not common.status. */
const OUTBOX_STATUS_WORDS: Record<OutboxStatus, string> = {
  pending: 'admin.outbox.status.pending',
  sending: 'admin.outbox.status.sending',
  sent: 'admin.outbox.status.sent',
  failed: 'admin.outbox.status.failed',
  cancelled: 'admin.outbox.status.cancelled',
};

/** A row that is still waiting can be sent now or withdrawn; a failed one retried or withdrawn. */
const actionable = (m: OutboxRow) => m.status === 'pending' || m.status === 'failed';

/** The outbox as administrators see it: what waits, what went out, what failed and why. */
export async function outboxAdminRoutes(app: FastifyInstance): Promise<void> {
  const { outbox, config, clock, audit } = app.services;

  async function find(id: string): Promise<OutboxRow> {
    const m = await outbox.get(parseId(id));
    if (!m) throw notFound('OUTBOX_NOT_FOUND', 'admin.outbox.not_found');
    return m;
  }

  app.get<{ Querystring: { status?: string; before?: string } }>('/outbox', async (request, reply) => {
    const status: OutboxStatus = (OUTBOX_STATUSES as readonly string[]).includes(request.query.status ?? '') ? (request.query.status as OutboxStatus) : 'pending';
    const beforeId = parseId(request.query.before) || undefined;
    const [rows, counts] = await Promise.all([outbox.list({ status, beforeId, limit: PAGE_SIZE + 1 }), outbox.counts()]);
    const more = rows.length > PAGE_SIZE;
    const shown = rows.slice(0, PAGE_SIZE);
    return render(request, reply, 'admin/outbox', {
      title: 'admin.outbox.title',
      status,
      statuses: OUTBOX_STATUSES,
      statusWords: OUTBOX_STATUS_WORDS,
      counts,
      rows: shown,
      kinds: OUTBOX_KINDS,
      nextBefore: more ? shown[shown.length - 1]!.id : null,
      firstPage: beforeId === undefined,
      relayConfigured: Boolean(config.outboundSmtpUrl),
    });
  });

  app.get<{ Params: { id: string } }>('/outbox/:id', async (request, reply) => {
    const m = await find(request.params.id);
    // A password link would let the administrator reading it set the agent's password: not shown until
    // delivery has removed it from the stored copy.
    const withheld = PASSWORD_KINDS.has(m.kind) && m.status !== 'sent';
    // Our own notices, but shown through the same sanitiser as inbound mail: nothing rendered raw.
    const body = m.bodyHtml && !withheld ? renderMailHtml(m.bodyHtml, { inlineImageUrl: () => null, allowRemoteImages: false }) : null;
    return render(request, reply, 'admin/outbox-message', {
      title: msg('admin.outbox.message.title', { id: m.id }),
      message: m,
      kind: OUTBOX_KINDS[m.kind] ?? m.kind,
      bodyHtmlSanitized: body?.bodyHtmlSanitized ?? null,
      actionable: actionable(m),
      withheld,
    });
  });

  app.post<{ Params: { id: string } }>('/outbox/:id/retry', async (request, reply) => {
    const m = await find(request.params.id);
    if (!(await outbox.retry(m.id, clock.now()))) throw notFound('OUTBOX_NOT_QUEUED', 'admin.outbox.not_queued');
    await audit.record({ staffId: request.staff!.staffId, action: 'outbox.retry', objectType: 'outbox', objectId: m.id, details: { from: m.status } });
    setFlash(reply, { type: 'success', message: 'admin.outbox.flash.retried' });
    return reply.redirect(`/scp/admin/outbox/${m.id}`);
  });

  app.get<{ Params: { id: string } }>('/outbox/:id/cancel', async (request, reply) => {
    const m = await find(request.params.id);
    return render(request, reply, 'admin/outbox-cancel', { title: msg('admin.outbox.cancel.title', { id: m.id }), message: m, kind: OUTBOX_KINDS[m.kind] ?? m.kind, actionable: actionable(m) });
  });

  app.post<{ Params: { id: string } }>('/outbox/:id/cancel', async (request, reply) => {
    const m = await find(request.params.id);
    if (!(await outbox.cancel(m.id))) throw notFound('OUTBOX_NOT_QUEUED', 'admin.outbox.not_queued');
    await audit.record({ staffId: request.staff!.staffId, action: 'outbox.cancel', objectType: 'outbox', objectId: m.id, details: { from: m.status, kind: m.kind } });
    setFlash(reply, { type: 'success', message: 'admin.outbox.flash.cancelled' });
    return reply.redirect(`/scp/admin/outbox/${m.id}`);
  });
}
