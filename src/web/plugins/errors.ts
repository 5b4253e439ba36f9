import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailable, RetryableConflict, normaliseDbError } from '../../db/errors.js';
import { AppError, HTTP_STATUS, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { translatorFor } from '../i18n.js';
import { render } from '../render.js';

interface Mapped {
  status: number;
  code: string;
  /** A catalog key (with parameters); the handlers say it in the reader's language. */
  message: Msg;
  details?: Record<string, unknown>;
  /** What is wrong with each field, for a validation failure. */
  fields?: FieldErrors;
}

type SchemaProblem = { keyword: string; instancePath: string; params: Record<string, unknown> };

/** A JSON schema keyword's complaint as a catalog message (the validator's own text is English only). */
function schemaProblem({ keyword, params }: SchemaProblem): Msg {
  switch (keyword) {
    case 'required':
      return 'validation.required';
    case 'type':
      return msg('validation.wrong_type', { type: String(params.type) });
    case 'maxLength':
      return msg('validation.too_long', { max: Number(params.limit) });
    case 'minimum':
      return msg('validation.number_too_small', { min: Number(params.limit) });
    case 'maximum':
      return msg('validation.number_too_large', { max: Number(params.limit) });
    default:
      return 'validation.invalid';
  }
}

/** Maps any error to what a user may see. Unknown errors are logged with their stack and shown as a generic 500. */
export function mapError(err: unknown, request: FastifyRequest): Mapped {
  const e = normaliseDbError(err);
  if (e instanceof ValidationError) {
    return { status: HTTP_STATUS.validation, code: e.code, message: e.userMessage, details: e.details, fields: e.fields };
  }
  if (e instanceof AppError) {
    return { status: HTTP_STATUS[e.category], code: e.code, message: e.userMessage, details: e.details };
  }
  if (e instanceof DatabaseUnavailable) {
    request.log.error({ err: e }, 'database unavailable');
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'errors.database_unavailable' };
  }
  if (e instanceof RetryableConflict) {
    // A deadlock that outlasted Database.transaction's retries, or a lock wait that timed out: busy, not broken.
    request.log.warn({ err: e }, 'database conflict');
    return { status: 503, code: 'DATABASE_BUSY', message: 'errors.database_busy' };
  }
  const fe = e as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0] as SchemaProblem | undefined;
    const field = first ? (first.instancePath.replace(/^\//, '').replace(/\//g, '.') || (first.params as { missingProperty?: string }).missingProperty || '') : '';
    return { status: 400, code: 'INVALID_REQUEST', message: 'validation.fix_fields', details: { field }, fields: { [field]: first ? schemaProblem(first) : 'validation.invalid' } };
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

/**
 * JSON errors in the request's language; `code` stays the stable machine code. A validation failure's
 * message names each field ("email: Enter a valid e-mail address."), as API callers expect, and
 * details.fields holds each field's problem.
 */
export async function jsonErrorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const m = mapError(err, request);
  const { t } = await translatorFor(request);
  if (!m.fields || !Object.keys(m.fields).length) {
    return reply.code(m.status).send({ error: { code: m.code, message: t(m.message), ...(m.details ? { details: m.details } : {}) } });
  }
  const fields = Object.fromEntries(Object.entries(m.fields).map(([field, problem]) => [field, t(problem)]));
  // Each field's problem is a sentence of its own: they follow one another, nothing is joined inside a sentence.
  const message = Object.entries(fields).map(([field, problem]) => t('validation.field_problem', { field, problem })).join(' ');
  return reply.code(m.status).send({ error: { code: m.code, message, details: { ...m.details, fields } } });
}

/** HTML error page in the panel's own layout. */
export function htmlErrorHandler(panel: 'staff' | 'client') {
  return async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const m = mapError(err, request);
    if (m.status === 503) reply.header('Retry-After', '30');
    try {
      return await errorPage(request, reply, panel, m);
    } catch (renderErr) {
      // The page itself may need the database (the site language, the CSRF key's session): plain English text.
      request.log.error({ err: renderErr }, 'error page failed to render');
      return reply.code(m.status).type('text/plain; charset=utf-8').send(request.server.services.i18n.translator('en').t(m.message));
    }
  };
}

/** The panel's page for an address that names nothing. */
export function htmlNotFoundHandler(panel: 'staff' | 'client') {
  return (request: FastifyRequest, reply: FastifyReply) => errorPage(request, reply, panel, { status: 404, code: 'NOT_FOUND', message: 'errors.page.not_found' });
}

function errorPage(request: FastifyRequest, reply: FastifyReply, panel: 'staff' | 'client', m: Mapped) {
  const retryAt = typeof m.details?.retryAt === 'string' ? new Date(m.details.retryAt) : null;
  return render(request, reply, `${panel}/error`, { title: titleFor(m.status), error: { ...m, problems: Object.values(m.fields ?? {}), retryAt } }, m.status);
}

function titleFor(status: number): string {
  return [400, 401, 403, 404, 409, 413, 429, 503].includes(status) ? `errors.title.${status}` : 'errors.title.other';
}
