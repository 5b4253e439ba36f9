import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, notFound, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

/** API keys: create (the key is shown once, on the answer to the POST), deactivate and reactivate. */
export async function apiKeyAdminRoutes(app: FastifyInstance): Promise<void> {
  const { apiKeys } = app.services;

  async function page(request: FastifyRequest, reply: FastifyReply, extra: { values?: Record<string, string>; errors?: FieldErrors; createdKey?: string } = {}, status = 200) {
    return render(request, reply, 'admin/api-keys', { title: 'admin.api_keys.title', keys: await apiKeys.list(), values: extra.values ?? { name: '', ip: '' }, errors: extra.errors ?? {}, createdKey: extra.createdKey ?? null }, status);
  }

  app.get('/api-keys', async (request, reply) => page(request, reply));

  app.post('/api-keys', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', ip: fields.ip ?? '' };
    try {
      if (values.name.length > 120) throw new ValidationError({ name: msg('validation.too_long', { max: 120 }) });
      const { key } = await apiKeys.create({ name: values.name, allowedIp: values.ip || null });
      // The only time the key exists in clear: keep it out of caches and of the browser's history cache.
      reply.header('Cache-Control', 'no-store');
      return page(request, reply, { createdKey: key }, 201);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return page(request, reply, { values, errors: err.fields }, 400);
    }
  });

  for (const [action, active] of [['deactivate', false], ['activate', true]] as const) {
    app.post<IdParams>(`/api-keys/:id/${action}`, async (request, reply) => {
      const id = parseId(request.params.id);
      const key = (await apiKeys.list()).find((k) => k.id === id);
      if (!key) throw notFound('API_KEY_NOT_FOUND', 'admin.api_keys.not_found');
      await apiKeys.setActive(id, active);
      setFlash(reply, { type: 'success', message: msg(active ? 'admin.api_keys.flash.reactivated' : 'admin.api_keys.flash.deactivated', { name: key.name }) });
      return reply.redirect('/scp/admin/api-keys');
    });
  }
}
