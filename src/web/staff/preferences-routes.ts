import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import { readForm } from '../forms.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

/** "My preferences": what any agent may change about their own account. */
export async function preferencesRoutes(app: FastifyInstance): Promise<void> {
  const { staff } = app.services;

  app.get('/preferences', async (request, reply) => {
    const timezone = request.staff!.timezone;
    return render(request, reply, 'staff/preferences', { title: 'My preferences', values: { timezone }, timeZones: timeZoneOptions(timezone) });
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
