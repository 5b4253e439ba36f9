import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailable, normaliseDbError } from '../../db/errors.js';
import { AppError, HTTP_STATUS, ValidationError } from '../../errors.js';
import type { Msg } from '../../i18n/message.js';
import { translatorFor } from '../i18n.js';
import { render } from '../render.js';

interface Mapped {
  status: number;
  code: string;
  /** A catalog key (with parameters); the handlers say it in the reader's language. */
  message: Msg;
  details?: Record<string, unknown>;
}

/** Maps any error to what a user may see. Unknown errors are logged with their stack and shown as a generic 500. */
export function mapError(err: unknown, request: FastifyRequest): Mapped {
  const e = normaliseDbError(err);
  if (e instanceof AppError) {
    return { status: HTTP_STATUS[e.category], code: e.code, message: e.userMessage, details: e.details };
  }
  if (e instanceof DatabaseUnavailable) {
    request.log.error({ err: e }, 'database unavailable');
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'errors.database_unavailable' };
  }
  const fe = e as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const field = first ? (first.instancePath.replace(/^\//, '').replace(/\//g, '.') || (first.params as { missingProperty?: string }).missingProperty || '') : '';
    return { status: 400, code: 'INVALID_REQUEST', message: `${field ? `${field}: ` : ''}${first?.message ?? 'invalid request'}`, details: { field } };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    const message = status === 413 ? 'errors.upload_too_large' : status === 415 ? 'errors.unsupported_type' : 'errors.bad_request';
    request.log.info({ code: fe.code, status }, 'rejected request');
    return { status, code: fe.code ?? 'BAD_REQUEST', message };
  }
  request.log.error({ err: e }, 'unhandled error');
  return { status: 500, code: 'INTERNAL', message: 'errors.internal' };
}

export async function jsonErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const m = mapError(err, request);
  const { t } = await translatorFor(request);
  const details = err instanceof ValidationError ? { fields: Object.fromEntries(Object.entries(err.fields).map(([f, problem]) => [f, t(problem)])) } : m.details;
  return reply.code(m.status).send({ error: { code: m.code, message: t(m.message), ...(details ? { details } : {}) } });
}

/** HTML error page in the panel's own layout. */
export function htmlErrorHandler(panel: 'staff' | 'client') {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const m = mapError(err, request);
    if (m.status === 503) reply.header('Retry-After', '30');
    try {
      return await render(request, reply, `${panel}/error`, { title: titleFor(m.status), error: m }, m.status);
    } catch (renderErr) {
      // The page itself may need the database (the site language, the CSRF key's session): plain English text.
      request.log.error({ err: renderErr }, 'error page failed to render');
      return reply.code(m.status).type('text/plain; charset=utf-8').send(request.server.services.i18n.translator('en').t(m.message));
    }
  };
}

function titleFor(status: number): string {
  return [400, 401, 403, 404, 409, 413, 429, 503].includes(status) ? `errors.title.${status}` : 'errors.title.other';
}
