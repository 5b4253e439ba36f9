import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import { ALERT_KINDS, type AlertPreferences } from '../../staff/staff.js';
import { readForm } from '../forms.js';
import { STAFF_COOKIE, endSession } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

/** The form's value for "Site default": an empty code, stored as null. */
const SITE_DEFAULT = '';

type PreferenceValues = {
  timezone: string;
  language: string;
  name: string;
  email: string;
  signature: string;
};

/** "My preferences": what any agent may change about their own account. */
export async function preferencesRoutes(app: FastifyInstance): Promise<void> {
  const { staff, i18n } = app.services;

  /**
   * The page, also shown again with a refused form's values and errors in place; `values` holds the refused
   * form's fields, the others show what is saved.
   */
  async function preferencesPage(request: FastifyRequest, reply: FastifyReply, values: Partial<PreferenceValues> = {}, errors: FieldErrors = {}, status = 200) {
    // Each language by its own name: an agent who cannot read the current one still finds theirs.
    const languageOptions = i18n.languages.map((l) => ({ value: l.code, label: l.name }));
    const me = await staff.get(request.staff!.staffId);
    const all: PreferenceValues = { timezone: me.timezone, language: me.language ?? SITE_DEFAULT, name: me.name, email: me.email, signature: me.signature, ...values };
    return render(request, reply, 'staff/preferences', { title: 'staff.preferences.title', values: all, alerts: me.alerts, errors, timeZones: timeZoneOptions(all.timezone), languageOptions }, status);
  }

  app.get('/preferences', async (request, reply) => preferencesPage(request, reply));

  app.post('/preferences/profile', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', email: fields.email ?? '', signature: fields.signature ?? '' };
    try {
      await staff.updateProfile(request.staff!, { ...values, password: fields.emailPassword ?? '' });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return preferencesPage(request, reply, values, err.fields, 400);
    }
    setFlash(reply, { type: 'success', message: 'staff.preferences.profile_saved' });
    return reply.redirect('/scp/preferences');
  });

  app.post('/preferences/alerts', async (request, reply) => {
    const { fields } = readForm(request);
    // A checkbox left unticked sends nothing: absent is off.
    const alerts = Object.fromEntries(ALERT_KINDS.map((k) => [k, fields[k] === '1'])) as AlertPreferences;
    await staff.updateAlertPreferences(request.staff!, alerts);
    setFlash(reply, { type: 'success', message: 'staff.preferences.alerts_saved' });
    return reply.redirect('/scp/preferences');
  });

  app.post('/preferences/password', async (request, reply) => {
    const { fields } = readForm(request);
    try {
      await staff.changeOwnPassword(request.staff!, { current: fields.current ?? '', password: fields.password ?? '', password2: fields.password2 ?? '' }, request.cookies[STAFF_COOKIE]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return preferencesPage(request, reply, {}, err.fields, 400);
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
