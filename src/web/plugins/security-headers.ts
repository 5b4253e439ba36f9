import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** DESIGN.md §10: scripts only from our own static files, so a sanitiser miss still cannot run. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const securityHeaders = fp(async (app: FastifyInstance) => {
  // Served over https: browsers then refuse a downgrade to http (and a stripped-TLS attacker) for a year.
  const hsts = app.services.config.publicUrl.startsWith('https://');
  app.addHook('onSend', async (_request, reply, payload) => {
    if (hsts) reply.header('Strict-Transport-Security', 'max-age=31536000');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('X-Frame-Options', 'DENY');
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', CSP);
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html') && !reply.hasHeader('Cache-Control')) {
      reply.header('Cache-Control', 'no-store');
    }
    return payload;
  });
});
