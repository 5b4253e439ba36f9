import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import type { SavedQueue } from '../../saved-queues/saved-queue.js';
import { readSearchUrl, type SearchUrlParams } from '../../search/search-url.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';
import { renderSearch } from './search-routes.js';

type IdParams = { Params: { id: string } };

const queueUrl = (q: Pick<SavedQueue, 'id'>) => `/scp/tickets?saved=${q.id}`;

/**
 * Saved searches as queues (issue 11, item 4): "Save as queue" on the results page, then rename, and delete
 * after a confirmation page. The queue itself opens as a queue page (ticket-routes.ts, `?saved=`).
 */
export async function savedQueueRoutes(app: FastifyInstance): Promise<void> {
  const { savedQueues } = app.services;

  app.post('/queues', async (request, reply) => {
    const { fields } = readForm(request);
    // The search travels as its URL's query string; read as the search page reads it, unknown values dropped.
    const params = Object.fromEntries(new URLSearchParams(fields.search ?? '')) as SearchUrlParams;
    const values = { name: fields.name ?? '', shared: fields.shared === '1' };
    try {
      const q = await savedQueues.save(request.staff!, { ...values, search: readSearchUrl(params, request.staff!.timezone) });
      setFlash(reply, { type: 'success', message: msg('staff.saved_queue.flash.saved', { name: q.name }) });
      return reply.redirect(queueUrl(q));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderSearch(request, reply, params, { values, errors: err.fields });
    }
  });

  async function renamePage(request: FastifyRequest, reply: FastifyReply, q: SavedQueue, name: string, errors: FieldErrors = {}) {
    return render(request, reply, 'staff/saved-queue-rename', { title: msg('staff.saved_queue.rename_title', { name: q.name }), queue: q, values: { name }, errors }, Object.keys(errors).length ? 400 : 200);
  }

  app.get<IdParams>('/queues/:id/rename', async (request, reply) => {
    const q = await savedQueues.manageable(request.staff!, parseId(request.params.id));
    return renamePage(request, reply, q, q.name);
  });

  app.post<IdParams>('/queues/:id/rename', async (request, reply) => {
    const q = await savedQueues.manageable(request.staff!, parseId(request.params.id));
    const name = readForm(request).fields.name ?? '';
    try {
      const renamed = await savedQueues.rename(request.staff!, q.id, name);
      setFlash(reply, { type: 'success', message: msg('staff.saved_queue.flash.renamed', { name: renamed.name }) });
      return reply.redirect(queueUrl(q));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renamePage(request, reply, q, name, err.fields);
    }
  });

  app.get<IdParams>('/queues/:id/delete', async (request, reply) => {
    const q = await savedQueues.manageable(request.staff!, parseId(request.params.id));
    return render(request, reply, 'staff/saved-queue-delete', { title: msg('staff.saved_queue.delete_title', { name: q.name }), queue: q });
  });

  app.post<IdParams>('/queues/:id/delete', async (request, reply) => {
    const q = await savedQueues.delete(request.staff!, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: msg('staff.saved_queue.flash.deleted', { name: q.name }) });
    return reply.redirect('/scp/tickets');
  });
}
