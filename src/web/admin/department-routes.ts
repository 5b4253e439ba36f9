import type { FastifyInstance } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

/** Departments with their member and open-ticket counts, and the new/edit forms. */
export async function departmentAdminRoutes(app: FastifyInstance): Promise<void> {
  const { departments } = app.services;

  app.get('/departments', async (request, reply) => {
    const [list, current] = await Promise.all([departments.listWithCounts(), departments.defaultDepartment()]);
    return render(request, reply, 'admin/department-list', { title: 'admin.departments.title', departments: list, defaultDepartmentId: current?.id ?? null });
  });

  app.get('/departments/new', async (request, reply) => {
    return render(request, reply, 'admin/department-form', { title: 'admin.departments.new_title', departmentId: null, values: { name: '', signature: '' } });
  });

  app.post('/departments/new', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', signature: fields.signature ?? '' };
    try {
      const d = await departments.create(request.staff!, values);
      setFlash(reply, { type: 'success', message: msg('admin.departments.flash.created', { name: d.name }) });
      return reply.redirect('/scp/admin/departments');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/department-form', { title: 'admin.departments.new_title', departmentId: null, values, errors: err.fields }, 400);
    }
  });

  app.get<IdParams>('/departments/:id', async (request, reply) => {
    const d = await departments.get(parseId(request.params.id));
    return render(request, reply, 'admin/department-form', { title: msg('admin.departments.edit_title', { name: d.name }), departmentId: d.id, archived: Boolean(d.archivedAt), values: { name: d.name, signature: d.signature } });
  });

  app.post<IdParams>('/departments/:id', async (request, reply) => {
    const current = await departments.get(parseId(request.params.id));
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', signature: fields.signature ?? '' };
    try {
      await departments.update(request.staff!, current.id, values);
      setFlash(reply, { type: 'success', message: msg('admin.departments.flash.saved', { name: values.name.trim() }) });
      return reply.redirect('/scp/admin/departments');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/department-form', { title: msg('admin.departments.edit_title', { name: current.name }), departmentId: current.id, values, errors: err.fields }, 400);
    }
  });

  /** The confirmation page: what moves where, and the choice of the department that takes over. */
  async function archivePage(id: number, values: Record<string, unknown>, errors: FieldErrors = {}, formError?: Msg) {
    const d = await departments.get(id);
    const [usage, others, current] = await Promise.all([departments.usage(id), departments.list(), departments.defaultDepartment()]);
    return {
      title: msg('admin.departments.archive_title', { name: d.name }),
      department: d,
      usage,
      isDefault: current?.id === id,
      targets: others.filter((o) => o.id !== id),
      values,
      errors,
      formError,
    };
  }

  app.get<IdParams>('/departments/:id/archive', async (request, reply) => {
    return render(request, reply, 'admin/department-archive', await archivePage(parseId(request.params.id), { targetId: '' }));
  });

  app.post<IdParams>('/departments/:id/archive', async (request, reply) => {
    const id = parseId(request.params.id);
    const { fields } = readForm(request);
    const values = { targetId: fields.targetId ?? '' };
    try {
      const d = await departments.get(id);
      const done = await departments.archive(request.staff!, id, parseId(values.targetId) || null, { remove: fields.action === 'delete' });
      setFlash(reply, { type: 'success', message: msg(done === 'deleted' ? 'admin.departments.flash.deleted' : 'admin.departments.flash.archived', { name: d.name }) });
      return reply.redirect('/scp/admin/departments');
    } catch (err) {
      if (err instanceof ValidationError) return render(request, reply, 'admin/department-archive', await archivePage(id, values, err.fields), 400);
      if (err instanceof AppError && err.code === 'DEPARTMENT_HAS_TICKETS') return render(request, reply, 'admin/department-archive', await archivePage(id, values, {}, err.userMessage), 409);
      throw err;
    }
  });

  app.post<IdParams>('/departments/:id/restore', async (request, reply) => {
    const d = await departments.get(parseId(request.params.id));
    await departments.restore(request.staff!, d.id);
    setFlash(reply, { type: 'success', message: msg('admin.departments.flash.restored', { name: d.name }) });
    return reply.redirect('/scp/admin/departments');
  });
}
