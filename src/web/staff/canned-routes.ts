import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CannedArea } from '../../canned/canned-service.js';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { checkUploads, parseId, readForm, type Form } from '../forms.js';
import type { CannedFile } from '../../canned/canned-repository.js';
import type { FileInput } from '../../tickets/ticket.js';
import { sendAttachment } from '../attachments.js';
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
    const { canned, departments, config } = app.services;

    async function formPage(request: FastifyRequest, reply: FastifyReply, id: number | null, form: { values: Record<string, string>; removeFile?: string[] }, errors: FieldErrors = {}, status = 200) {
      const { values } = form;
      // The shared area chooses global or a department; an archived department is offered only where it already is.
      const [all, files] = await Promise.all([
        area === 'shared' ? departments.list({ includeArchived: true }) : [],
        id === null ? [] : canned.files(request.staff!, area, id),
      ]);
      return render(request, reply, 'staff/canned-form', {
        title: id === null ? 'staff.canned.new_title' : msg('staff.canned.edit_title', { title: values.title ?? '' }),
        area, base, id, values, errors, files, removeFile: form.removeFile ?? [], limits: config.attachments,
        departments: all.filter((d) => !d.archivedAt || String(d.id) === values.departmentId),
      }, status);
    }

    const input = (fields: Record<string, string>) => ({ title: fields.title ?? '', body: fields.body ?? '', departmentId: fields.departmentId ?? '' });

    app.get('/canned', async (request, reply) => {
      const [list, all] = await Promise.all([canned.list(request.staff!, area), area === 'shared' ? departments.list({ includeArchived: true }) : []]);
      const departmentNames = Object.fromEntries(all.map((d) => [d.id, d.name]));
      return render(request, reply, 'staff/canned-list', { title, area, base, responses: list, departmentNames });
    });

    app.get('/canned/new', async (request, reply) => formPage(request, reply, null, { values: { title: '', body: '', departmentId: '' } }));

    app.post('/canned/new', { config: { uploads: 'staff' } }, async (request, reply) => {
      const form = readForm(request);
      const values = input(form.fields);
      try {
        await canned.create(request.staff!, area, values, checkUploads(form.files.attachments ?? [], config.attachments));
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return formPage(request, reply, null, { values }, err.fields, request.uploadRefused ? 413 : 400);
      }
      setFlash(reply, { type: 'success', message: msg('staff.canned.flash.created', { title: values.title.trim() }) });
      return reply.redirect(base);
    });

    app.get<IdParams>('/canned/:id', async (request, reply) => {
      const c = await canned.get(request.staff!, area, parseId(request.params.id));
      return formPage(request, reply, c.id, { values: { title: c.title, body: c.body, departmentId: c.departmentId === null ? '' : String(c.departmentId) } });
    });

    app.post<IdParams>('/canned/:id', { config: { uploads: 'staff' } }, async (request, reply) => {
      const current = await canned.get(request.staff!, area, parseId(request.params.id));
      const form = readForm(request);
      const values = input(form.fields);
      const removeFile = form.lists.removeFile ?? [];
      try {
        await canned.update(request.staff!, area, current.id, values, checkUploads(form.files.attachments ?? [], config.attachments), removeFile);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return formPage(request, reply, current.id, { values, removeFile }, err.fields, request.uploadRefused ? 413 : 400);
      }
      setFlash(reply, { type: 'success', message: msg('staff.canned.flash.saved', { title: values.title.trim() }) });
      return reply.redirect(base);
    });

    app.get<IdParams>('/canned/files/:id', async (request, reply) => sendAttachment(reply, await canned.file(request.staff!, parseId(request.params.id))));

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
 * response's text appended to what the agent typed, its files added to those already carried, every other
 * field as it was posted, and a warning naming placeholders that are not variables; no response chosen is a
 * field error. For the ticket page's renderer.
 */
export async function insertCanned(
  request: FastifyRequest,
  number: string,
  form: Form,
): Promise<{ values: Record<string, string>; errors?: FieldErrors; cannedWarning?: Msg; cannedFiles: CannedFile[]; keptLastEntryId?: number; status: number }> {
  const { fields } = form;
  const { cannedFiles } = await keptCannedFiles(request, form);
  // The newest entry the agent had seen when they started, kept: entries that came meanwhile still stop the send.
  const seen = parseId(fields.lastEntryId);
  const kept = { cannedFiles, ...(seen ? { keptLastEntryId: seen } : {}) };
  const refused = { values: fields, errors: { cannedId: 'validation.choose_from_list' }, ...kept, status: 400 };
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
  const { text, unknown, files } = expanded;
  const typed = (fields.message ?? '').trimEnd();
  const values = { ...fields, message: typed ? `${typed}\n\n${text}` : text };
  const carried = [...cannedFiles, ...files.filter((f) => !cannedFiles.some((c) => c.id === f.id))];
  return { values, ...kept, cannedFiles: carried, status: 200, ...(unknown.length ? { cannedWarning: msg('staff.canned.unknown_warning', { count: unknown.length, names: unknown.join(', ') }) } : {}) };
}

/** The canned responses' files a reply form carries (its ticked `cannedFile` boxes), to show them again. */
export async function keptCannedFiles(request: FastifyRequest, form: Form): Promise<{ cannedFiles: CannedFile[] }> {
  return { cannedFiles: await request.server.services.canned.usableFiles(request.staff!, form.lists.cannedFile ?? []) };
}

/** The canned files a reply sends along with `uploaded` files of its own; together within the per-reply cap. */
export async function cannedReplyFiles(request: FastifyRequest, number: string, form: Form, uploaded: number): Promise<FileInput[]> {
  const { canned, config } = request.server.services;
  const files = await canned.replyFiles(request.staff!, number, form.lists.cannedFile ?? []);
  if (uploaded + files.length > config.attachments.maxFiles) throw new ValidationError({ attachments: msg('validation.too_many_files', { max: config.attachments.maxFiles }) });
  return files;
}
