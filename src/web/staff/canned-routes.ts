import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CannedArea } from '../../canned/canned-service.js';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { parseId, readForm } from '../forms.js';
import { jsonErrorHandler } from '../plugins/errors.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

const AREAS = {
  shared: { base: '/scp/admin/canned', title: 'staff.canned.title_shared' },
  personal: { base: '/scp/canned', title: 'staff.canned.title_personal' },
} as const;

/**
 * The management pages of canned responses, the same for both areas: registered as `/canned` in the admin
 * panel (global and department responses) and in the staff panel (an agent's own). List, new, edit, and
 * delete after a confirmation page; a refused form comes back with what was typed.
 */
export function cannedManagementRoutes(area: CannedArea) {
  const { base, title } = AREAS[area];
  return async (app: FastifyInstance): Promise<void> => {
    const { canned, departments } = app.services;

    async function formPage(request: FastifyRequest, reply: FastifyReply, id: number | null, values: Record<string, string>, errors: FieldErrors = {}, status = 200) {
      // The shared area chooses global or a department; an archived department is offered only where it already is.
      const all = area === 'shared' ? await departments.list({ includeArchived: true }) : [];
      return render(request, reply, 'staff/canned-form', {
        title: id === null ? 'staff.canned.new_title' : msg('staff.canned.edit_title', { title: values.title ?? '' }),
        area, base, id, values, errors,
        departments: all.filter((d) => !d.archivedAt || String(d.id) === values.departmentId),
      }, status);
    }

    const input = (fields: Record<string, string>) => ({ title: fields.title ?? '', body: fields.body ?? '', departmentId: fields.departmentId ?? '' });

    app.get('/canned', async (request, reply) => {
      const [list, all] = await Promise.all([canned.list(request.staff!, area), area === 'shared' ? departments.list({ includeArchived: true }) : []]);
      const departmentNames = Object.fromEntries(all.map((d) => [d.id, d.name]));
      return render(request, reply, 'staff/canned-list', { title, area, base, responses: list, departmentNames });
    });

    app.get('/canned/new', async (request, reply) => {
      return formPage(request, reply, null, { title: '', body: '', departmentId: '' });
    });

    app.post('/canned/new', async (request, reply) => {
      const values = input(readForm(request).fields);
      try {
        await canned.create(request.staff!, area, values);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return formPage(request, reply, null, values, err.fields, 400);
      }
      setFlash(reply, { type: 'success', message: msg('staff.canned.flash.created', { title: values.title.trim() }) });
      return reply.redirect(base);
    });

    app.get<IdParams>('/canned/:id', async (request, reply) => {
      const c = await canned.get(request.staff!, area, parseId(request.params.id));
      return formPage(request, reply, c.id, { title: c.title, body: c.body, departmentId: c.departmentId === null ? '' : String(c.departmentId) });
    });

    app.post<IdParams>('/canned/:id', async (request, reply) => {
      const current = await canned.get(request.staff!, area, parseId(request.params.id));
      const values = input(readForm(request).fields);
      try {
        await canned.update(request.staff!, area, current.id, values);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return formPage(request, reply, current.id, values, err.fields, 400);
      }
      setFlash(reply, { type: 'success', message: msg('staff.canned.flash.saved', { title: values.title.trim() }) });
      return reply.redirect(base);
    });

    app.get<IdParams>('/canned/:id/delete', async (request, reply) => {
      const c = await canned.get(request.staff!, area, parseId(request.params.id));
      return render(request, reply, 'staff/canned-delete', { title: msg('staff.canned.delete_title', { title: c.title }), area, base, response: c });
    });

    app.post<IdParams>('/canned/:id/delete', async (request, reply) => {
      const c = await canned.delete(request.staff!, area, parseId(request.params.id));
      setFlash(reply, { type: 'success', message: msg('staff.canned.flash.deleted', { title: c.title }) });
      return reply.redirect(base);
    });
  };
}

/** GET /scp/tickets/:number/canned/:id: a response expanded for that ticket, for the picker script. Reads only. */
export async function cannedApiRoutes(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(jsonErrorHandler);
  app.get<{ Params: { number: string; id: string } }>('/tickets/:number/canned/:id', async (request, reply) => {
    const expanded = await app.services.canned.expand(request.staff!, request.params.number, parseId(request.params.id));
    // Filled with the requester's details: not for shared caches or the back button after sign-out.
    reply.header('Cache-Control', 'no-store');
    return expanded;
  });
}

/**
 * The reply form's "Insert" without JavaScript: the form comes back (status 200, nothing sent) with the chosen
 * response's text appended to what the agent typed, every other field as it was posted, and a warning naming
 * placeholders that are not variables; no response chosen is a field error. For the ticket page's renderer.
 */
export async function insertCanned(
  request: FastifyRequest,
  number: string,
  fields: Record<string, string>,
): Promise<{ values: Record<string, string>; errors?: FieldErrors; cannedWarning?: Msg; status: number }> {
  const refused = { values: fields, errors: { cannedId: 'validation.choose_from_list' }, status: 400 };
  const id = parseId(fields.cannedId);
  if (!id) return refused;
  let expanded;
  try {
    expanded = await request.server.services.canned.expand(request.staff!, number, id);
  } catch (err) {
    // Deleted meanwhile, or not the agent's to use: the form again, the text kept.
    if (err instanceof AppError && err.code === 'CANNED_NOT_FOUND') return refused;
    throw err;
  }
  const { text, unknown } = expanded;
  const typed = (fields.message ?? '').trimEnd();
  const values = { ...fields, message: typed ? `${typed}\n\n${text}` : text };
  return { values, status: 200, ...(unknown.length ? { cannedWarning: msg('staff.canned.unknown_warning', { count: unknown.length, names: unknown.join(', ') }) } : {}) };
}
