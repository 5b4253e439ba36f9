import type { FastifyInstance } from 'fastify';
import { htmlErrorHandler, htmlNotFoundHandler } from '../plugins/errors.js';
import { loadClient } from '../plugins/sessions.js';
import { render } from '../render.js';
import { clientAuthRoutes } from './auth-routes.js';
import { clientLanguageRoutes } from './language-routes.js';
import { clientTicketRoutes } from './ticket-routes.js';

/** The client portal at /: open a ticket, check its status, follow it. */
export async function clientPortal(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(htmlErrorHandler('client'));
  app.setNotFoundHandler(htmlNotFoundHandler('client'));
  app.addHook('onRequest', loadClient);
  app.addHook('preHandler', app.csrf.verify);
  app.get('/', async (request, reply) => render(request, reply, 'client/home', { title: 'portal.home.title' }));
  await app.register(clientAuthRoutes);
  await app.register(clientTicketRoutes);
  await app.register(clientLanguageRoutes);
}
