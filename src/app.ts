import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart from '@fastify/multipart';
import { VIEWS_DIR } from './paths.js';
import type { Services } from './services.js';
import './web/types.js';
import { assetUrls, assetsPlugin } from './web/plugins/assets.js';
import { Csrf } from './web/plugins/csrf.js';
import { securityHeaders } from './web/plugins/security-headers.js';
import { closeUnreadBodies, readMultipartBody } from './web/plugins/uploads.js';
import { healthRoutes } from './web/health.js';
import { registerViews } from './web/views.js';
import { staffPanel } from './web/staff/index.js';
import { clientPortal } from './web/client/index.js';
import { apiRoutes } from './web/api/index.js';

/**
 * Every query value is one string: a repeated key keeps its first value (routes never take lists), so no route
 * meets an array where it expects text. URLSearchParams never throws on broken percent-encoding.
 */
export function parseQuery(query: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(query)) if (!(key in out)) out[key] = value;
  return out;
}

/**
 * Builds the HTTP application without listening, so tests and main share it. Each panel is its own
 * encapsulated context with its own authentication hook, CSRF rule and error format (DESIGN.md §8).
 */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app: FastifyInstance = Fastify({
    loggerInstance: services.log.child({ component: 'http' }) as FastifyBaseLogger,
    trustProxy: config.http.trustProxy,
    // Small: read before CSRF and sign-in can be checked. Routes that take uploads raise it for themselves
    // (the API's JSON with data-URL attachments, raw mail); multipart files have their own caps (plugins/uploads.ts).
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { querystringParser: parseQuery },
  });

  app.decorate('services', services);
  app.decorate('csrf', new Csrf(services.secrets.csrfKey, config.publicUrl.startsWith('https://')));
  app.decorate('asset', assetUrls());
  app.decorateRequest('staff', null);
  app.decorateRequest('client', null);
  app.decorateRequest('apiPrincipal', null);

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifyMultipart, {
    throwFileSizeLimit: false,
    limits: {
      fileSize: config.attachments.maxFileBytes,
      // One more than allowed, so that too many files get a form error instead of a bare 413.
      files: config.attachments.maxFiles + 1,
      fields: 100,
      fieldSize: config.http.bodyLimitBytes,
      parts: 200,
    },
  });
  app.decorateRequest('uploadRefused', false);
  app.addHook('preValidation', readMultipartBody);
  app.addHook('onSend', closeUnreadBodies);
  // Presence the pages reported in the last moments is written before the pool closes (main closes it after).
  app.addHook('onClose', () => services.locks.flushPresence());
  await registerViews(app, services.i18n, VIEWS_DIR);
  await app.register(securityHeaders);
  await app.register(assetsPlugin);
  await app.register(healthRoutes);
  await app.register(staffPanel, { prefix: '/scp' });
  await app.register(apiRoutes, { prefix: '/api' });
  await app.register(clientPortal);
  return app;
}
