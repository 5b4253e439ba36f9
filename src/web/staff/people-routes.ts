import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { msg } from '../../i18n/message.js';
import type { UserEdit } from '../../users/user-directory.js';
import type { UserDetails } from '../../users/user-repository.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };
type Paging = { Querystring: { q?: string; after?: string } };

const userEditValues = (u: UserDetails): UserEdit => ({ name: u.name, language: u.language ?? '', organization: u.organizationName ?? '' });

/** /scp/users: the directory, a person's page, editing, notes and merging (issue 11, item 5). */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  const { people } = app.services;

  app.get<Paging>('/users', async (request, reply) => {
    const q = (request.query.q ?? '').slice(0, 200);
    const page = await people.search(request.staff!, { q, after: request.query.after });
    return render(request, reply, 'staff/users', { title: 'staff.users.title', q, page, firstPage: !request.query.after });
  });

  async function renderUser(request: FastifyRequest<IdParams & Paging>, reply: FastifyReply, extra: { values?: Record<string, string>; errors?: FieldErrors } = {}, status = 200) {
    const found = await people.find(request.staff!, parseId(request.params.id));
    if ('mergedInto' in found) return reply.redirect(`/scp/users/${found.mergedInto}`);
    const page = await people.page(request.staff!, found, { after: request.query.after });
    return render(request, reply, 'staff/user', { title: msg('staff.users.page_title', { name: found.name }), ...page, values: extra.values ?? { note: '' }, errors: extra.errors ?? {} }, status);
  }

  app.get<IdParams & Paging>('/users/:id', (request, reply) => renderUser(request, reply));

  app.post<IdParams & Paging>('/users/:id/notes', async (request, reply) => {
    const id = parseId(request.params.id);
    const note = readForm(request).fields.note ?? '';
    try {
      await people.addNote(request.staff!, id, note);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderUser(request, reply, { values: { note }, errors: err.fields }, 400);
    }
    setFlash(reply, { type: 'success', message: 'staff.users.flash.note_added' });
    return reply.redirect(`/scp/users/${id}`);
  });

  async function renderEdit(request: FastifyRequest, reply: FastifyReply, user: UserDetails, values: UserEdit, errors: FieldErrors = {}, status = 200) {
    return render(request, reply, 'staff/user-form', {
      title: msg('staff.users.edit_title', { name: user.name }), user, values: { ...values }, errors,
      organizations: (await app.services.organizations.list(request.staff!, {})).rows,
    }, status);
  }

  app.get<IdParams>('/users/:id/edit', async (request, reply) => {
    const user = await people.forEdit(request.staff!, parseId(request.params.id));
    return renderEdit(request, reply, user, userEditValues(user));
  });

  app.post<IdParams>('/users/:id/edit', async (request, reply) => {
    const user = await people.forEdit(request.staff!, parseId(request.params.id));
    const { fields } = readForm(request);
    const values: UserEdit = { name: fields.name ?? '', language: fields.language ?? '', organization: fields.organization ?? '' };
    try {
      await people.update(request.staff!, user.id, values);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderEdit(request, reply, user, values, err.fields, 400);
    }
    setFlash(reply, { type: 'success', message: msg('staff.users.flash.saved', { name: values.name.trim() }) });
    return reply.redirect(`/scp/users/${user.id}`);
  });

  async function renderMergeForm(request: FastifyRequest, reply: FastifyReply, user: UserDetails, other: string, errors: FieldErrors = {}, status = 200) {
    return render(request, reply, 'staff/user-merge', { title: msg('staff.users.merge.title', { name: user.name }), user, values: { other }, errors }, status);
  }

  app.get<IdParams>('/users/:id/merge', async (request, reply) => {
    return renderMergeForm(request, reply, await people.forEdit(request.staff!, parseId(request.params.id)), '');
  });

  app.post<IdParams>('/users/:id/merge/preview', async (request, reply) => {
    const user = await people.forEdit(request.staff!, parseId(request.params.id));
    const other = readForm(request).fields.other ?? '';
    try {
      const found = await people.findOther(request.staff!, user.id, other);
      // The person whose page this is goes into the one named, unless the confirmation says otherwise.
      const preview = await people.mergePreview(request.staff!, user.id, found.id);
      const reverse = await people.mergePreview(request.staff!, found.id, user.id);
      return render(request, reply, 'staff/user-merge-confirm', { title: msg('staff.users.merge.title', { name: user.name }), user, preview, reverse });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderMergeForm(request, reply, user, other, err.fields, 400);
    }
  });

  app.post<IdParams>('/users/:id/merge', async (request, reply) => {
    const { fields } = readForm(request);
    const a = parseId(request.params.id);
    const b = parseId(fields.other);
    const survivor = parseId(fields.survivor) === a ? a : b;
    const done = await people.merge(request.staff!, survivor === a ? b : a, survivor);
    setFlash(reply, { type: 'success', message: msg('staff.users.flash.merged', { merged: done.merged.name, survivor: done.survivor.name, tickets: done.tickets }) });
    return reply.redirect(`/scp/users/${survivor}`);
  });
}

type OrgValues = { name: string; domains: string };

/** /scp/orgs: organizations, their members and tickets; changes by administrators (the service checks). */
export async function organizationRoutes(app: FastifyInstance): Promise<void> {
  const { organizations } = app.services;

  app.get<Paging>('/orgs', async (request, reply) => {
    const q = (request.query.q ?? '').slice(0, 200);
    const page = await organizations.list(request.staff!, { q, after: request.query.after });
    return render(request, reply, 'staff/orgs', { title: 'staff.orgs.title', q, page, firstPage: !request.query.after });
  });

  async function renderForm(request: FastifyRequest, reply: FastifyReply, id: number | null, values: OrgValues, errors: FieldErrors = {}, status = 200) {
    return render(request, reply, 'staff/org-form', { title: id === null ? 'staff.orgs.new_title' : msg('staff.orgs.edit_title', { name: values.name }), orgId: id, values, errors }, status);
  }

  const valuesOf = (request: FastifyRequest): OrgValues => {
    const { fields } = readForm(request);
    return { name: fields.name ?? '', domains: fields.domains ?? '' };
  };

  app.get('/orgs/new', async (request, reply) => {
    organizations.mayManage(request.staff!);
    return renderForm(request, reply, null, { name: '', domains: '' });
  });

  app.post('/orgs/new', async (request, reply) => {
    const values = valuesOf(request);
    try {
      const id = await organizations.create(request.staff!, values);
      setFlash(reply, { type: 'success', message: msg('staff.orgs.flash.created', { name: values.name.trim() }) });
      return reply.redirect(`/scp/orgs/${id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderForm(request, reply, null, values, err.fields, 400);
    }
  });

  app.get<IdParams & Paging>('/orgs/:id', async (request, reply) => {
    const page = await organizations.page(request.staff!, parseId(request.params.id), { after: request.query.after });
    return render(request, reply, 'staff/org', { title: msg('staff.orgs.page_title', { name: page.organization.name }), ...page });
  });

  app.get<IdParams>('/orgs/:id/edit', async (request, reply) => {
    const org = await organizations.forEdit(request.staff!, parseId(request.params.id));
    return renderForm(request, reply, org.id, { name: org.name, domains: org.domains.join('\n') });
  });

  app.post<IdParams>('/orgs/:id/edit', async (request, reply) => {
    const id = parseId(request.params.id);
    const values = valuesOf(request);
    try {
      await organizations.update(request.staff!, id, values);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return renderForm(request, reply, id, values, err.fields, 400);
    }
    setFlash(reply, { type: 'success', message: msg('staff.orgs.flash.saved', { name: values.name.trim() }) });
    return reply.redirect(`/scp/orgs/${id}`);
  });

  app.get<IdParams>('/orgs/:id/delete', async (request, reply) => {
    const org = await organizations.forEdit(request.staff!, parseId(request.params.id));
    return render(request, reply, 'staff/org-delete', { title: msg('staff.orgs.delete_title', { name: org.name }), org, memberCount: await organizations.memberCount(org.id) });
  });

  app.post<IdParams>('/orgs/:id/delete', async (request, reply) => {
    const org = await organizations.delete(request.staff!, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: msg('staff.orgs.flash.deleted', { name: org.name }) });
    return reply.redirect('/scp/orgs');
  });
}
