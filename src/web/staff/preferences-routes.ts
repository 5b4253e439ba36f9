import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import { readForm } from '../forms.js';
import { STAFF_COOKIE, endSession } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

/** The form's value for "Site default": an empty code, stored as null. */
const SITE_DEFAULT = '';

/** "My preferences": what any agent may change about their own account. */
export async function preferencesRoutes(app: FastifyInstance): Promise<void> {
  const { staff, i18n } = app.services;

  /** The page, also shown again with a refused form's values and errors in place. */
  function preferencesPage(request: FastifyRequest, reply: FastifyReply, values: { timezone: string; language: string }, errors: FieldErrors = {}, status = 200) {
    // Each language by its own name: an agent who cannot read the current one still finds theirs.
    const languageOptions = i18n.languages.map((l) => ({ value: l.code, label: l.name }));
    return render(request, reply, 'staff/preferences', { title: 'staff.preferences.title', values, errors, timeZones: timeZoneOptions(values.timezone), languageOptions }, status);
  }

  const saved = (request: FastifyRequest) => ({ timezone: request.staff!.timezone, language: request.staff!.language ?? SITE_DEFAULT });

  app.get('/preferences', async (request, reply) => preferencesPage(request, reply, saved(request)));

  app.post('/preferences/password', async (request, reply) => {
    const { fields } = readForm(request);
    try {
      await staff.changeOwnPassword(request.staff!, { current: fields.current ?? '', password: fields.password ?? '', password2: fields.password2 ?? '' }, request.cookies[STAFF_COOKIE]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return preferencesPage(request, reply, saved(request), err.fields, 400);
    }
    setFlash(reply, { type: 'success', message: 'staff.preferences.password_changed' });
    return reply.redirect('/scp/preferences');
  });

  app.post('/preferences/sign-out-everywhere', async (request, reply) => {
    await staff.signOutEverywhere(request.staff!);
    await endSession(request, reply, 'staff');
    setFlash(reply, { type: 'info', message: 'staff.preferences.signed_out_everywhere' });
    return reply.redirect('/scp/login');
  });

  app.post('/preferences', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { timezone: fields.timezone ?? '', language: fields.language ?? SITE_DEFAULT };
    try {
      await staff.updatePreferences(request.staff!, { timezone: values.timezone, language: values.language === SITE_DEFAULT ? null : values.language }, (code) => i18n.supported(code));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return preferencesPage(request, reply, values, err.fields, 400);
    }
    // The flash is said on the next page, which is already in the newly chosen language.
    setFlash(reply, { type: 'success', message: msg('staff.preferences.saved', { timezone: values.timezone.trim() }) });
    return reply.redirect('/scp/preferences');
  });
}
