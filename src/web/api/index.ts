import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';
import { jsonErrorHandler } from '../plugins/errors.js';
import { apiEmailRoutes } from './email-routes.js';
import { apiTicketRoutes } from './ticket-routes.js';

/** /api: JSON only, authenticated by X-API-Key on every route. */
export async function apiRoutes(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(jsonErrorHandler);
  app.setNotFoundHandler(async (request, reply) => jsonErrorHandler(notFound('NOT_FOUND', 'errors.api.not_found'), request, reply));
  app.addHook('onRequest', async (request) => {
    request.apiPrincipal = await app.services.apiKeys.authenticate(request.headers['x-api-key'] as string | undefined, request.ip);
  });
  await app.register(apiTicketRoutes);
  await app.register(apiEmailRoutes);
}
