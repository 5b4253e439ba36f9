import type { FastifyInstance } from 'fastify';
import { pendingMigrations } from '../db/migrate.js';

/** Within the 2 s a load balancer's probe may take: a database that hangs reads as not ready, not as no answer. */
const READY_TIMEOUT_MS = 1500;

function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Probes for load balancers and orchestrators; public, no session, no CSRF. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const { db } = app.services;
    try {
      const pending = await withinTimeout(db.ping().then(() => pendingMigrations(db)));
      if (pending.length) return reply.code(503).send({ status: 'migrations pending', pending });
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });
}
