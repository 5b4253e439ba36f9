import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { MIN_PASSWORD_LENGTH } from '../../staff/staff.js';
import { readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

/**
 * Signed out: "forgot password" asks for a link by mail; the link's page sets a new password (or an invited
 * agent's first one). The page behind a link only shows a form: nothing changes on a GET.
 */
export async function passwordRoutes(app: FastifyInstance): Promise<void> {
  const { accountRecovery } = app.services;

  const forgotPage = (request: FastifyRequest, reply: FastifyReply, data: { login: string; sent?: boolean; errors?: FieldErrors; formError?: unknown; retryAt?: Date | null }, status = 200) =>
    render(request, reply, 'staff/password-forgot', { title: 'staff.password.forgot_title', values: { login: data.login }, errors: data.errors ?? {}, sent: data.sent ?? false, formError: data.formError ?? null, retryAt: data.retryAt ?? null }, status);

  app.get('/password/forgot', async (request, reply) => {
    if (request.staff) return reply.redirect('/scp/preferences');
    return forgotPage(request, reply, { login: '' });
  });

  app.post('/password/forgot', async (request, reply) => {
    const login = (readForm(request).fields.login ?? '').trim();
    if (!login) return forgotPage(request, reply, { login, errors: { login: 'staff.password.login_required' } }, 400);
    try {
      await accountRecovery.requestReset(login, request.ip);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'TOO_MANY_ATTEMPTS') throw err;
      request.log.warn({ ip: request.ip }, 'password reset requests throttled');
      return forgotPage(request, reply, { login, formError: err.userMessage, retryAt: new Date(String(err.details?.retryAt)) }, 429);
    }
    // The same page whether or not an account matched, so the form cannot tell who has one.
    request.log.info('password reset requested');
    return forgotPage(request, reply, { login: '', sent: true });
  });

  const resetPage = async (request: FastifyRequest, reply: FastifyReply, token: string, errors: FieldErrors = {}, status = 200) => {
    const grant = await accountRecovery.check(token);
    if (!grant) {
      request.log.info('password link refused');
      return render(request, reply, 'staff/password-reset', { title: 'staff.password.link_invalid_title', valid: false }, 404);
    }
    return render(request, reply, 'staff/password-reset', {
      title: grant.purpose === 'invite' ? 'staff.password.invite_title' : 'staff.password.reset_title',
      valid: true, purpose: grant.purpose, token, username: grant.staff.username, errors, minPassword: MIN_PASSWORD_LENGTH,
    }, status);
  };

  app.get<{ Querystring: { t?: string } }>('/password/reset', async (request, reply) => resetPage(request, reply, request.query.t ?? ''));

  app.post('/password/reset', async (request, reply) => {
    const { fields } = readForm(request);
    const token = fields.t ?? '';
    try {
      const staff = await accountRecovery.setPassword(token, fields.password ?? '', fields.password2 ?? '');
      request.log.info({ staffId: staff.id }, 'password set by link');
    } catch (err) {
      if (err instanceof ValidationError) return resetPage(request, reply, token, err.fields, 400);
      if (err instanceof AppError && err.code === 'PASSWORD_LINK_INVALID') return resetPage(request, reply, token);
      throw err;
    }
    setFlash(reply, { type: 'success', message: 'staff.password.set_done' });
    return reply.redirect('/scp/login');
  });
}
