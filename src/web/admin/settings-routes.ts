import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

/** Help-desk-wide settings an administrator changes without a restart. */
export async function settingsAdminRoutes(app: FastifyInstance): Promise<void> {
  const { departments } = app.services;

  async function page(values: Record<string, unknown>, errors = {}) {
    return { title: 'Settings', values, errors, departments: await departments.list() };
  }

  app.get('/settings', async (request, reply) => {
    const current = await departments.defaultDepartment();
    return render(request, reply, 'admin/settings', await page({ defaultDepartmentId: current?.id ?? '' }));
  });

  app.post('/settings', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { defaultDepartmentId: fields.defaultDepartmentId ?? '' };
    try {
      await departments.setDefault(request.staff!, parseId(values.defaultDepartmentId));
      setFlash(reply, { type: 'success', message: 'Settings saved.' });
      return reply.redirect('/scp/admin/settings');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/settings', await page(values, err.fields), 400);
    }
  });
}
