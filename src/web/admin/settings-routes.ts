import type { FastifyInstance } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { optionalId, parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

/** Help-desk-wide settings an administrator changes without a restart. */
export async function settingsAdminRoutes(app: FastifyInstance): Promise<void> {
  const { departments, topics, siteLanguage, siteLanguageSetting } = app.services;

  async function page(values: Record<string, unknown>, errors: FieldErrors = {}) {
    return { title: 'admin.settings.title', values, errors, departments: await departments.list(), topics: await topics.list() };
  }

  app.get('/settings', async (request, reply) => {
    const [current, topic, language] = await Promise.all([departments.defaultDepartment(), topics.defaultTopic(), siteLanguage()]);
    return render(request, reply, 'admin/settings', await page({ defaultDepartmentId: current?.id ?? '', defaultTopicId: topic?.id ?? '', defaultLanguage: language }));
  });

  app.post('/settings', async (request, reply) => {
    const { fields } = readForm(request);
    // A form from before the language field existed (or a script) leaves the language as it is.
    const values = {
      defaultDepartmentId: fields.defaultDepartmentId ?? '',
      defaultTopicId: fields.defaultTopicId ?? String((await topics.defaultTopic())?.id ?? ''),
      defaultLanguage: fields.defaultLanguage ?? (await siteLanguage()),
    };
    try {
      // Checked before anything is saved: a refused form changes nothing.
      siteLanguageSetting.check(values.defaultLanguage);
      const topicId = optionalId(values.defaultTopicId, 'defaultTopicId');
      await topics.checkDefault(topicId);
      await departments.setDefault(request.staff!, parseId(values.defaultDepartmentId));
      if (String((await topics.defaultTopic())?.id ?? '') !== String(topicId ?? '')) await topics.setDefault(request.staff!, topicId);
      await siteLanguageSetting.set(request.staff!, values.defaultLanguage);
      setFlash(reply, { type: 'success', message: 'admin.settings.flash.saved' });
      return reply.redirect('/scp/admin/settings');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/settings', await page(values, err.fields), 400);
    }
  });
}
