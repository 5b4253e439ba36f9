import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import { MIN_PASSWORD_LENGTH } from '../../staff/staff.js';
import { parseId, readForm, type Form } from '../forms.js';
import { STAFF_COOKIE } from '../plugins/sessions.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

type IdParams = { Params: { id: string } };

/** What the staff form shows and sends back; lists of department ids as strings, as the checkboxes post them. */
type StaffFormValues = {
  username: string;
  name: string;
  email: string;
  timezone: string;
  /** A language code, or '' for the site default. */
  language: string;
  isAdmin: boolean;
  isActive: boolean;
  dept: string[];
  manager: string[];
};

function valuesFrom({ fields, lists }: Form): StaffFormValues {
  return {
    username: fields.username ?? '',
    name: fields.name ?? '',
    email: fields.email ?? '',
    timezone: fields.timezone ?? 'UTC',
    language: fields.language ?? '',
    isAdmin: fields.isAdmin === '1',
    isActive: fields.isActive === '1',
    dept: lists.dept ?? [],
    manager: lists.manager ?? [],
  };
}


/** Staff directory and the new/edit forms (administrators only, guarded by the admin context). */
export async function staffAdminRoutes(app: FastifyInstance): Promise<void> {
  const { staff, accountRecovery, departments, i18n, siteLanguage } = app.services;

  async function renderForm(request: FastifyRequest, reply: FastifyReply, data: { id: number | null; values: StaffFormValues; errors?: FieldErrors; passwordSet?: boolean }, status = 200) {
    return render(request, reply, 'admin/staff-form', {
      title: data.id === null ? 'admin.staff.new_title' : msg('admin.staff.edit_title', { name: data.values.name || data.values.username }),
      staffId: data.id,
      passwordSet: data.passwordSet ?? true,
      values: data.values,
      errors: data.errors ?? {},
      departments: await departments.list({ includeArchived: true }),
      timeZones: timeZoneOptions(data.values.timezone),
      siteLanguageName: i18n.translator(await siteLanguage()).language.name,
      minPasswordLength: MIN_PASSWORD_LENGTH,
    }, status);
  }

  /**
   * Checked departments, each a manager or not; ticking "manager" alone makes the agent a member too. Ids that
   * no longer exist are a field error, not a 500.
   */
  async function memberships(values: StaffFormValues) {
    const known = new Set((await departments.list({ includeArchived: true })).map((d) => d.id));
    const ids = [...new Set([...values.dept, ...values.manager].map(parseId))];
    if (ids.some((id) => !known.has(id))) throw new ValidationError({ departments: 'admin.staff.errors.department_gone' });
    return ids.map((departmentId) => ({ departmentId, isManager: values.manager.includes(String(departmentId)) }));
  }

  /** The chosen language, null for the site default; a code this installation does not offer is a field error. */
  function language(values: StaffFormValues): string | null {
    if (!values.language) return null;
    const code = i18n.supported(values.language);
    if (!code) throw new ValidationError({ language: 'validation.choose_from_list' });
    return code;
  }

  app.get('/staff', async (request, reply) => {
    return render(request, reply, 'admin/staff-list', { title: 'admin.staff.list.title', members: await staff.list() });
  });

  app.get('/staff/new', async (request, reply) => {
    return renderForm(request, reply, { id: null, values: { username: '', name: '', email: '', timezone: 'UTC', language: '', isAdmin: false, isActive: true, dept: [], manager: [] } });
  });

  app.post('/staff/new', async (request, reply) => {
    const form = readForm(request);
    const values = { ...valuesFrom(form), isActive: true };
    try {
      const created = await staff.create(request.staff!, {
        username: values.username,
        name: values.name,
        email: values.email,
        // Empty: the agent is invited to choose their own.
        password: form.fields.password || undefined,
        isAdmin: values.isAdmin,
        timezone: values.timezone,
        language: language(values),
        departments: await memberships(values),
      });
      const said = created.passwordSet ? msg('admin.staff.flash.created', { username: created.username }) : msg('admin.staff.flash.created_invited', { username: created.username, email: created.email });
      setFlash(reply, { type: 'success', message: said });
      return reply.redirect('/scp/admin/staff');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderForm(request, reply, { id: null, values, errors: err.fields }, 400);
    }
  });

  app.post<IdParams>('/staff/:id/password-link', async (request, reply) => {
    const s = await staff.get(parseId(request.params.id));
    const purpose = await accountRecovery.sendLink(request.staff!.staffId, s.id);
    setFlash(reply, { type: 'success', message: msg(purpose === 'invite' ? 'admin.staff.flash.link_sent_invite' : 'admin.staff.flash.link_sent_reset', { email: s.email }) });
    return reply.redirect(`/scp/admin/staff/${s.id}`);
  });

  app.get<IdParams>('/staff/:id', async (request, reply) => {
    const s = await staff.get(parseId(request.params.id));
    return renderForm(request, reply, {
      id: s.id,
      passwordSet: s.passwordSet,
      values: {
        username: s.username,
        name: s.name,
        email: s.email,
        timezone: s.timezone,
        language: s.language ?? '',
        isAdmin: s.isAdmin,
        isActive: s.isActive,
        dept: s.departments.map((d) => String(d.id)),
        manager: s.departments.filter((d) => d.isManager).map((d) => String(d.id)),
      },
    });
  });

  app.post<IdParams>('/staff/:id', async (request, reply) => {
    const id = parseId(request.params.id);
    const current = await staff.get(id);
    const form = readForm(request);
    const values = { ...valuesFrom(form), username: current.username };
    try {
      await staff.update(request.staff!, id, {
        username: current.username,
        name: values.name,
        email: values.email,
        password: form.fields.password || undefined,
        isAdmin: values.isAdmin,
        isActive: values.isActive,
        timezone: values.timezone,
        language: language(values),
        departments: await memberships(values),
      }, request.cookies[STAFF_COOKIE]);
      setFlash(reply, { type: 'success', message: msg('admin.staff.flash.saved', { username: current.username }) });
      return reply.redirect('/scp/admin/staff');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderForm(request, reply, { id, values, errors: err.fields, passwordSet: current.passwordSet }, 400);
    }
  });
}
