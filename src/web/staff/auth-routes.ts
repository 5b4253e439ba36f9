import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ValidationError } from '../../errors.js';
import { readForm } from '../forms.js';
import { endSession, startSession } from '../plugins/sessions.js';
import { msg } from '../../i18n/message.js';
import { MIN_PASSWORD_LENGTH } from '../../staff/staff.js';
import { timeZoneOptions } from '../time-zones.js';
import { render, setFlash } from '../render.js';
import { translatorFor } from '../i18n.js';

/**
 * Only same-panel relative paths, so the login form cannot bounce users to another site: printable ASCII URL
 * characters (non-ASCII would make an invalid Location header), no `//`, no dot segments, bounded length.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000) return '/scp/';
  const path = next.split(/[?#]/, 1)[0]!;
  const ok = /^\/scp(\/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?#]*)?$/.test(next) && !path.includes('//') && !/(^|\/)\.\.?(\/|$)/.test(path) && !/%2e|%2f|%5c/i.test(path);
  return ok ? next : '/scp/';
}

/** Saves text that arrived with an expired session as the agent's draft; a ticket they cannot see keeps nothing. */
async function keepDraft(request: FastifyRequest, staffId: number, number: string, kind: string, text: string): Promise<void> {
  const { staff, drafts } = request.server.services;
  const principal = await staff.principal(staffId);
  if (!principal) return;
  await drafts.save(principal, number, kind, text).catch((err: unknown) => {
    request.log.warn({ err, number }, 'could not keep the draft posted with an expired session');
  });
}

export async function staffAuthRoutes(app: FastifyInstance): Promise<void> {
  const { staff, setup } = app.services;

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    if (request.staff) return reply.redirect(safeNext(request.query.next));
    return render(request, reply, 'staff/login', { title: 'staff.login.title', values: { next: safeNext(request.query.next) } });
  });

  app.post('/login', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { login: fields.login ?? '', next: safeNext(fields.next), keepTicket: fields.keepTicket ?? '', keepKind: fields.keepKind ?? '', keepText: fields.keepText ?? '' };
    try {
      const who = await staff.authenticate(values.login, fields.password ?? '', request.ip);
      await startSession(request, reply, 'staff', { staffId: who.id });
      request.log.info({ staffId: who.id }, 'staff login');
      // `who` was read before this sign-in was recorded: its last login is the previous one.
      const { i18n, siteLanguage } = request.server.services;
      const tr = i18n.translator(i18n.pick([who.language], await siteLanguage()));
      setFlash(reply, { type: 'info', message: who.lastLoginAt ? msg('staff.login.welcome_back', { name: who.name, at: tr.exact(who.lastLoginAt, who.timezone) }) : msg('staff.login.welcome_first', { name: who.name }) });
      if (fields.keepTicket && fields.keepText?.trim()) await keepDraft(request, who.id, fields.keepTicket, fields.keepKind ?? 'note', fields.keepText);
      return reply.redirect(values.next);
    } catch (err) {
      if (!(err instanceof AppError) || (err.code !== 'LOGIN_FAILED' && err.code !== 'TOO_MANY_ATTEMPTS')) throw err;
      request.log.warn({ code: err.code, ip: request.ip }, 'staff login refused');
      const retryAt = err.details?.retryAt ? new Date(String(err.details.retryAt)) : null;
      return render(request, reply, 'staff/login', { title: 'staff.login.title', values, loginError: err.userMessage, retryAt }, err.code === 'TOO_MANY_ATTEMPTS' ? 429 : 401);
    }
  });

  app.post('/logout', async (request, reply) => {
    await endSession(request, reply, 'staff');
    setFlash(reply, { type: 'info', message: 'staff.login.signed_out' });
    return reply.redirect('/scp/login');
  });

  app.get<{ Querystring: { token?: string } }>('/setup', async (request, reply) => {
    const token = request.query.token ?? '';
    if (!(await setup.isTokenValid(token))) throw new AppError('SETUP_LINK_INVALID', 'not_found', 'staff.setup.link_invalid');
    // UTC until the page's script picks the browser's zone; a re-shown form keeps what was chosen.
    return render(request, reply, 'staff/setup', { title: 'staff.setup.title', values: { token, timezone: 'UTC' }, timeZones: timeZoneOptions('UTC'), preselectZone: true, minPassword: MIN_PASSWORD_LENGTH });
  });

  app.post('/setup', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { token: fields.token ?? '', username: fields.username ?? '', email: fields.email ?? '', name: fields.name ?? '', timezone: fields.timezone ?? 'UTC' };
    try {
      // The first administrator keeps the language they set up in (the page's: their browser's, or the
      // switcher's), unless it is the site's anyway: a Danish admin should not land in an English panel.
      const shown = (await translatorFor(request)).locale;
      const language = shown === (await request.server.services.siteLanguage()) ? null : shown;
      const admin = await setup.createFirstAdmin(values.token, { ...values, language, password: fields.password ?? '', passwordAgain: fields.password2 ?? '' });
      await startSession(request, reply, 'staff', { staffId: admin.id });
      setFlash(reply, { type: 'success', message: msg('staff.setup.done', { name: admin.name }) });
      return reply.redirect('/scp/');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'staff/setup', { title: 'staff.setup.title', values, errors: err.fields, timeZones: timeZoneOptions(values.timezone), minPassword: MIN_PASSWORD_LENGTH }, 400);
    }
  });
}
