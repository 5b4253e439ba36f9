import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };


/** Departments with their member and open-ticket counts, and the new/edit forms. */
export async function departmentAdminRoutes(app: FastifyInstance): Promise<void> {
  const { departments } = app.services;

  app.get('/departments', async (request, reply) => {
    return render(request, reply, 'admin/department-list', { title: 'Departments', departments: await departments.listWithCounts() });
  });

  app.get('/departments/new', async (request, reply) => {
    return render(request, reply, 'admin/department-form', { title: 'New department', departmentId: null, values: { name: '', signature: '' } });
  });

  app.post('/departments/new', async (request, reply) => {
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', signature: fields.signature ?? '' };
    try {
      const d = await departments.create(request.staff!, values);
      setFlash(reply, { type: 'success', message: `Department "${d.name}" created.` });
      return reply.redirect('/scp/admin/departments');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/department-form', { title: 'New department', departmentId: null, values, errors: err.fields }, 400);
    }
  });

  app.get<IdParams>('/departments/:id', async (request, reply) => {
    const d = await departments.get(parseId(request.params.id));
    return render(request, reply, 'admin/department-form', { title: `Edit department ${d.name}`, departmentId: d.id, values: { name: d.name, signature: d.signature } });
  });

  app.post<IdParams>('/departments/:id', async (request, reply) => {
    const current = await departments.get(parseId(request.params.id));
    const { fields } = readForm(request);
    const values = { name: fields.name ?? '', signature: fields.signature ?? '' };
    try {
      await departments.update(request.staff!, current.id, values);
      setFlash(reply, { type: 'success', message: `Department "${values.name.trim()}" saved.` });
      return reply.redirect('/scp/admin/departments');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(request, reply, 'admin/department-form', { title: `Edit department ${current.name}`, departmentId: current.id, values, errors: err.fields }, 400);
    }
  });
}
