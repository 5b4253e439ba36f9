import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { render } from '../render.js';
import { apiKeyAdminRoutes } from './api-key-routes.js';
import { cannedManagementRoutes } from '../staff/canned-routes.js';
import { departmentAdminRoutes } from './department-routes.js';
import { mailAccountAdminRoutes } from './mail-account-routes.js';
import { mailAdminRoutes } from './mail-routes.js';
import { outboxAdminRoutes } from './outbox-routes.js';
import { settingsAdminRoutes } from './settings-routes.js';
import { staffAdminRoutes } from './staff-routes.js';
import { scheduleAdminRoutes } from './schedule-routes.js';
import { topicAdminRoutes } from './topic-routes.js';

async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (!request.staff?.isAdmin) throw new AppError('ADMIN_REQUIRED', 'forbidden', 'admin.errors.admin_required');
}

/** /scp/admin: inside the staff context, so it already has a signed-in agent; this adds the admin check. */
export async function adminPanel(app: FastifyInstance): Promise<void> {
  app.addHook('preHandler', requireAdmin);
  app.get('/', async (request, reply) => render(request, reply, 'admin/index', { title: 'admin.index.title' }));
  await app.register(staffAdminRoutes);
  await app.register(departmentAdminRoutes);
  await app.register(topicAdminRoutes);
  await app.register(scheduleAdminRoutes);
  await app.register(outboxAdminRoutes);
  await app.register(mailAdminRoutes);
  await app.register(mailAccountAdminRoutes);
  await app.register(apiKeyAdminRoutes);
  await app.register(settingsAdminRoutes);
  await app.register(cannedManagementRoutes('shared'));
}
