import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import { readForm } from '../forms.js';
import { STAFF_COOKIE, endSession } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

/** "My preferences": what any agent may change about their own account. */
export async function preferencesRoutes(app: FastifyInstance): Promise<void> {
  const { staff } = app.services;

  app.get('/preferences', async (request, reply) => {
    const timezone = request.staff!.timezone;
    return render(request, reply, 'staff/preferences', { title: 'My preferences', values: { timezone }, timeZones: timeZoneOptions(timezone) });
  });

  app.post('/preferences/password', async (request, reply) => {
    const { fields } = readForm(request);
    try {
      await staff.changeOwnPassword(request.staff!, { current: fields.current ?? '', password: fields.password ?? '', password2: fields.password2 ?? '' }, request.cookies[STAFF_COOKIE]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const timezone = request.staff!.timezone;
      return render(request, reply, 'staff/preferences', { title: 'My preferences', values: { timezone }, errors: err.fields, timeZones: timeZoneOptions(timezone) }, 400);
    }
    setFlash(reply, { type: 'success', message: 'Password changed. You stay signed in here; every other session has ended.' });
    return reply.redirect('/scp/preferences');
  });

  app.post('/preferences/sign-out-everywhere', async (request, reply) => {
    await staff.signOutEverywhere(request.staff!);
    await endSession(request, reply, 'staff');
    setFlash(reply, { type: 'info', message: 'You have been signed out on every device, this one included.' });
    return reply.redirect('/scp/login');
  });

  app.post('/preferences', async (request, reply) => {
    const timezone = readForm(request).fields.timezone ?? '';
    try {
      await staff.updatePreferences(request.staff!, { timezone });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'staff/preferences', { title: 'My preferences', values: { timezone }, errors: err.fields, timeZones: timeZoneOptions(timezone) }, 400);
    }
    setFlash(reply, { type: 'success', message: `Preferences saved. Times are now shown in ${timezone}.` });
    return reply.redirect('/scp/preferences');
  });
}
