import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { INBOUND_STATUSES, type InboundStatus } from '../../mail/inbound/inbound-repository.js';
import { msg } from '../../i18n/message.js';
import { PRIORITIES } from '../../tickets/ticket.js';
import { optionalId, parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

/** What became of an inbound message, as the tabs and the message page name it (catalog keys). */
const OUTCOME_WORDS: Record<InboundStatus, string> = {
  ticket: 'admin.inbound.outcome.ticket',
  reply: 'admin.inbound.outcome.reply',
  bounce: 'admin.inbound.outcome.bounce',
  dropped: 'admin.inbound.outcome.dropped',
  quarantined: 'admin.inbound.outcome.quarantined',
  processing: 'admin.inbound.outcome.processing',
};

const PRIORITY_VALUES = Object.keys(PRIORITIES).map(Number);

/** Mailboxes, the quarantine of inbound mail and the banned-sender list. */
export async function mailAdminRoutes(app: FastifyInstance): Promise<void> {
  const { mailboxes, quarantine, bans, departments, topics } = app.services;

  async function mailboxForm(request: FastifyRequest, reply: FastifyReply, data: { mailboxId: number | null; values: Record<string, unknown>; errors?: FieldErrors }, status = 200) {
    // Active topics, and the one the mailbox names even if archived since, so that saving keeps it.
    const [allDepartments, allTopics] = await Promise.all([departments.list(), topics.tree()]);
    return render(request, reply, 'admin/mailbox-form', {
      title: data.mailboxId === null ? 'admin.mailboxes.new_title' : 'admin.mailboxes.edit_title',
      ...data,
      domain: mailboxes.mailDomain,
      departments: allDepartments,
      topics: allTopics.filter((t) => t.isActive || String(t.id) === String(data.values.topicId)),
      priorities: PRIORITY_VALUES,
    }, status);
  }

  function mailboxValues(fields: Record<string, string>) {
    return {
      localPart: fields.localPart ?? '',
      departmentId: fields.departmentId ?? '',
      topicId: fields.topicId ?? '',
      defaultPriority: fields.defaultPriority ?? '2',
      autoResponse: fields.autoResponse === '1',
    };
  }

  async function saveMailbox(request: FastifyRequest, reply: FastifyReply, mailboxId: number | null) {
    const values = mailboxValues(readForm(request).fields);
    try {
      const input = {
        localPart: values.localPart,
        departmentId: optionalId(values.departmentId, 'departmentId') ?? 0,
        topicId: optionalId(values.topicId, 'topicId'),
        defaultPriority: Number(values.defaultPriority),
        autoResponse: values.autoResponse,
      };
      if (mailboxId === null) await mailboxes.create(request.staff!, input);
      else await mailboxes.update(request.staff!, mailboxId, input);
      setFlash(reply, { type: 'success', message: msg('admin.mailboxes.flash.saved', { address: `${values.localPart.trim().toLowerCase()}@${mailboxes.mailDomain}` }) });
      return reply.redirect('/scp/admin/mailboxes');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return mailboxForm(request, reply, { mailboxId, values, errors: err.fields }, 400);
    }
  }

  app.get('/mailboxes', async (request, reply) => {
    return render(request, reply, 'admin/mailboxes', { title: 'admin.mailboxes.title', mailboxes: await mailboxes.list(), domain: mailboxes.mailDomain });
  });
  app.get('/mailboxes/new', async (request, reply) =>
    mailboxForm(request, reply, { mailboxId: null, values: { localPart: '', departmentId: '', topicId: '', defaultPriority: '2', autoResponse: true } }),
  );
  app.post('/mailboxes/new', async (request, reply) => saveMailbox(request, reply, null));
  app.get<IdParams>('/mailboxes/:id', async (request, reply) => {
    const m = await mailboxes.get(parseId(request.params.id));
    return mailboxForm(request, reply, { mailboxId: m.id, values: { localPart: m.localPart, departmentId: m.departmentId, topicId: m.topicId ?? '', defaultPriority: m.defaultPriority, autoResponse: m.autoResponse } });
  });
  app.post<IdParams>('/mailboxes/:id', async (request, reply) => saveMailbox(request, reply, (await mailboxes.get(parseId(request.params.id))).id));
  app.post<IdParams>('/mailboxes/:id/delete', async (request, reply) => {
    const m = await mailboxes.get(parseId(request.params.id));
    await mailboxes.delete(request.staff!, m.id);
    setFlash(reply, { type: 'success', message: msg('admin.mailboxes.flash.deleted', { address: mailboxes.address(m) }) });
    return reply.redirect('/scp/admin/mailboxes');
  });

  app.get<{ Querystring: { status?: string; before?: string } }>('/quarantine', async (request, reply) => {
    const status: InboundStatus = (INBOUND_STATUSES as readonly string[]).includes(request.query.status ?? '') ? (request.query.status as InboundStatus) : 'quarantined';
    const beforeId = parseId(request.query.before) || null;
    const [page, counts] = await Promise.all([quarantine.list(request.staff!, { status, beforeId }), quarantine.counts(request.staff!)]);
    return render(request, reply, 'admin/quarantine', {
      title: status === 'quarantined' ? 'admin.inbound.quarantine_title' : 'admin.inbound.title', status, statuses: INBOUND_STATUSES.filter((s) => s !== 'processing'), words: OUTCOME_WORDS, counts, ...page, firstPage: beforeId === null,
    });
  });
  app.get<IdParams>('/quarantine/:id', async (request, reply) => {
    const message = await quarantine.get(request.staff!, parseId(request.params.id));
    return render(request, reply, 'admin/quarantine-message', { title: msg('admin.inbound.message.title', { id: message.id }), message, words: OUTCOME_WORDS });
  });
  app.post<IdParams>('/quarantine/:id/retry', async (request, reply) => {
    const id = parseId(request.params.id);
    const outcome = await quarantine.retry(request.staff!, id);
    setFlash(reply, outcome.status === 'quarantined'
      ? { type: 'error', message: msg('admin.inbound.flash.still_failing', { error: outcome.error }) }
      : { type: 'success', message: msg('admin.inbound.flash.processed', { outcome: outcome.status, ticket: 'ticketNumber' in outcome ? outcome.ticketNumber : '' }) });
    return reply.redirect(outcome.status === 'quarantined' ? `/scp/admin/quarantine/${id}` : '/scp/admin/quarantine');
  });
  app.post<IdParams>('/quarantine/:id/delete', async (request, reply) => {
    const id = parseId(request.params.id);
    if (readForm(request).fields.confirm !== '1') {
      setFlash(reply, { type: 'error', message: 'admin.inbound.flash.confirm_delete' });
      return reply.redirect(`/scp/admin/quarantine/${id}`);
    }
    await quarantine.delete(request.staff!, id);
    setFlash(reply, { type: 'success', message: 'admin.inbound.flash.deleted' });
    return reply.redirect('/scp/admin/quarantine');
  });

  async function bansPage(request: FastifyRequest, reply: FastifyReply, extra: { values?: Record<string, string>; errors?: FieldErrors } = {}, status = 200) {
    return render(request, reply, 'admin/bans', { title: 'admin.bans.title', bans: await bans.list(), values: extra.values ?? { pattern: '', note: '' }, errors: extra.errors ?? {} }, status);
  }
  app.get('/bans', async (request, reply) => bansPage(request, reply));
  app.post('/bans', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { pattern: fields.pattern ?? '', note: fields.note ?? '' };
    try {
      const ban = await bans.add(request.staff!, values);
      setFlash(reply, { type: 'success', message: msg('admin.bans.flash.added', { pattern: ban.pattern }) });
      return reply.redirect('/scp/admin/bans');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return bansPage(request, reply, { values, errors: err.fields }, 400);
    }
  });
  app.post<IdParams>('/bans/:id/delete', async (request, reply) => {
    await bans.remove(request.staff!, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: 'admin.bans.flash.removed' });
    return reply.redirect('/scp/admin/bans');
  });
}
