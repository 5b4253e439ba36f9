import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { htmlErrorHandler, htmlNotFoundHandler } from '../plugins/errors.js';
import { loadStaff } from '../plugins/sessions.js';
import { render } from '../render.js';
import { safeNext, staffAuthRoutes } from './auth-routes.js';
import { readForm } from '../forms.js';
import { ticketRoutes } from './ticket-routes.js';
import { searchRoutes } from './search-routes.js';
import { savedQueueRoutes } from './saved-queue-routes.js';
import { bulkRoutes } from './bulk-routes.js';
import { entryRoutes } from './entry-routes.js';
import { formatRoutes } from './format-routes.js';
import { lockApiRoutes, lockPageRoutes } from './lock-routes.js';
import { adminPanel } from '../admin/index.js';
import { passwordRoutes } from './password-routes.js';
import { preferencesRoutes } from './preferences-routes.js';
import { cannedApiRoutes, cannedManagementRoutes } from './canned-routes.js';
import { organizationRoutes, userRoutes } from './people-routes.js';

/**
 * A request without a live staff session: pages go to the login form and come back afterwards. A reply or
 * note posted after the session expired comes back inside the login form, and is saved as the agent's draft
 * when they sign in, so the text survives even without the page script's autosave.
 */
async function requireStaff(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.staff) return;
  if (request.method === 'GET') {
    return reply.redirect(`/scp/login?next=${encodeURIComponent(request.url)}`);
  }
  const compose = /^\/scp\/tickets\/(\d+)\/(reply|note)$/.exec(request.url.split('?')[0]!);
  const { fields } = readForm(request);
  const kept = compose ? (compose[2] === 'reply' ? fields.message : fields.note) ?? '' : '';
  const referer = request.headers.referer ? new URL(request.headers.referer, 'http://x').pathname : '';
  await render(request, reply, 'staff/login', {
    title: 'staff.login.title',
    values: {
      next: compose ? `/scp/tickets/${compose[1]}` : safeNext(referer),
      keepTicket: kept.trim() ? compose![1] : '',
      keepKind: compose?.[2] === 'reply' ? 'reply' : 'note',
      keepText: kept.trim() ? kept : '',
    },
    notice: kept.trim() ? 'staff.login.expired_text_kept' : 'staff.login.expired',
  }, 401);
  return reply;
}

export async function staffPanel(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(htmlErrorHandler('staff'));
  app.setNotFoundHandler(htmlNotFoundHandler('staff'));
  app.addHook('onRequest', loadStaff);
  app.addHook('preHandler', app.csrf.verify);
  await app.register(staffAuthRoutes);
  await app.register(passwordRoutes);
  await app.register(async (guarded) => {
    guarded.addHook('preHandler', requireStaff);
    await guarded.register(ticketRoutes);
    await guarded.register(searchRoutes);
    await guarded.register(savedQueueRoutes);
    await guarded.register(bulkRoutes);
    await guarded.register(entryRoutes);
    await guarded.register(formatRoutes);
    await guarded.register(preferencesRoutes);
    await guarded.register(lockPageRoutes);
    await guarded.register(lockApiRoutes);
    await guarded.register(cannedManagementRoutes('personal'));
    await guarded.register(cannedApiRoutes);
    await guarded.register(userRoutes);
    await guarded.register(organizationRoutes);
    await guarded.register(adminPanel, { prefix: '/admin' });
  });
}
