import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailable, normaliseDbError } from '../../db/errors.js';
import { AppError, HTTP_STATUS, ValidationError } from '../../errors.js';
import { render } from '../render.js';

interface Mapped {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Maps any error to what a user may see. Unknown errors are logged with their stack and shown as a generic 500. */
export function mapError(err: unknown, request: FastifyRequest): Mapped {
  const e = normaliseDbError(err);
  if (e instanceof AppError) {
    return { status: HTTP_STATUS[e.category], code: e.code, message: e.message, details: e.details };
  }
  if (e instanceof DatabaseUnavailable) {
    request.log.error({ err: e }, 'database unavailable');
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'The help desk cannot reach its database right now. Please try again in a minute.' };
  }
  const fe = e as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const field = first ? (first.instancePath.replace(/^\//, '').replace(/\//g, '.') || (first.params as { missingProperty?: string }).missingProperty || '') : '';
    return { status: 400, code: 'INVALID_REQUEST', message: `${field ? `${field}: ` : ''}${first?.message ?? 'invalid request'}`, details: { field } };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    const message = status === 413 ? 'The upload is too large.' : status === 415 ? 'Unsupported content type.' : 'The request could not be understood.';
    request.log.info({ code: fe.code, status }, 'rejected request');
    return { status, code: fe.code ?? 'BAD_REQUEST', message };
  }
  request.log.error({ err: e }, 'unhandled error');
  return { status: 500, code: 'INTERNAL', message: 'Something went wrong on our side. The error has been logged.' };
}

export function jsonErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const m = mapError(err, request);
  const details = err instanceof ValidationError ? { fields: err.fields } : m.details;
  return reply.code(m.status).send({ error: { code: m.code, message: m.message, ...(details ? { details } : {}) } });
}

/** HTML error page in the panel's own layout. */
export function htmlErrorHandler(panel: 'staff' | 'client') {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const m = mapError(err, request);
    if (m.status === 503) reply.header('Retry-After', '30');
    try {
      return await render(request, reply, `${panel}/error`, { title: titleFor(m.status), error: m }, m.status);
    } catch (renderErr) {
      // The page itself may need the database (e.g. for the CSRF key's session); fall back to plain text.
      request.log.error({ err: renderErr }, 'error page failed to render');
      return reply.code(m.status).type('text/plain; charset=utf-8').send(m.message);
    }
  };
}

function titleFor(status: number): string {
  switch (status) {
    case 400: return 'Please check your input';
    case 401: return 'Please sign in';
    case 403: return 'Not allowed';
    case 404: return 'Not found';
    case 409: return 'Conflict';
    case 413: return 'Too large';
    case 429: return 'Too many attempts';
    case 503: return 'Temporarily unavailable';
    default: return 'Something went wrong';
  }
}
