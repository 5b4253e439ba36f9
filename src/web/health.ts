import type { FastifyInstance } from 'fastify';
import { pendingMigrations } from '../db/migrate.js';

/** Probes for load balancers and orchestrators; public, no session, no CSRF. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const { db } = app.services;
    try {
      await db.ping();
      const pending = await pendingMigrations(db);
      if (pending.length) return reply.code(503).send({ status: 'migrations pending', pending });
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });
}
