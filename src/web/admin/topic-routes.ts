import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { PRIORITIES } from '../../tickets/ticket.js';
import type { TopicInput } from '../../topics/topic-service.js';
import { descendants } from '../../topics/topic-tree.js';
import { gather, optionalId, parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

type IdParams = { Params: { id: string } };

type TopicForm = {
  name: string;
  parentId: string;
  departmentId: string;
  defaultPriority: string;
  isPublic: boolean;
  assignStaffId: string;
  autoResponse: boolean;
};

const EMPTY: TopicForm = { name: '', parentId: '', departmentId: '', defaultPriority: '2', isPublic: true, assignStaffId: '', autoResponse: true };

/** Help topics (issue 12, item 1): the ordered tree, the form, archive or delete, and move up or down. */
export async function topicAdminRoutes(app: FastifyInstance): Promise<void> {
  const { topics, departments, directory } = app.services;

  app.get('/topics', async (request, reply) => {
    const [tree, deps, current] = await Promise.all([topics.tree(), departments.list({ includeArchived: true }), topics.defaultTopic()]);
    const names = new Map(deps.map((d) => [d.id, d.name]));
    const agents = new Map((await agentOptions()).map((a) => [a.value, a.name]));
    // Up and down move a topic among its siblings: the first has no "up", the last no "down".
    const rows = tree.map((t) => {
      const siblings = tree.filter((s) => s.parentId === t.parentId);
      return {
        ...t,
        departmentName: names.get(t.departmentId) ?? '',
        assigneeName: t.assignStaffId !== null ? (agents.get(t.assignStaffId) ?? null) : null,
        first: siblings[0]?.id === t.id,
        last: siblings[siblings.length - 1]?.id === t.id,
      };
    });
    return render(request, reply, 'admin/topic-list', { title: 'admin.topics.title', topics: rows, defaultTopicId: current?.id ?? null });
  });

  /** Every active agent who works some department, once, named with their departments. */
  async function agentOptions() {
    const byId = new Map<number, { value: number; name: string; label: string }>();
    for (const d of await departments.list()) {
      for (const s of await directory.departmentMembers(d.id)) {
        const known = byId.get(s.id);
        byId.set(s.id, { value: s.id, name: s.name, label: known ? `${known.label}, ${d.name}` : `${s.name}: ${d.name}` });
      }
    }
    return [...byId.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  async function form(request: FastifyRequest, reply: FastifyReply, topicId: number | null, values: TopicForm, errors: FieldErrors = {}, status = 200) {
    const [tree, deps, agents] = await Promise.all([topics.tree(), departments.list(), agentOptions()]);
    // Not under itself or its own subtopics; archived topics take no new children.
    const excluded = topicId === null ? [] : [topicId, ...descendants(tree, topicId)];
    const current = topicId === null ? null : tree.find((t) => t.id === topicId);
    return render(request, reply, 'admin/topic-form', {
      title: current ? msg('admin.topics.edit_title', { name: current.name }) : 'admin.topics.new_title',
      topicId,
      archived: current ? !current.isActive : false,
      values,
      errors,
      parents: tree.filter((t) => t.isActive && !excluded.includes(t.id)),
      departments: deps,
      agents,
      priorities: PRIORITIES,
    }, status);
  }

  function valuesOf(fields: Record<string, string>): TopicForm {
    return {
      name: fields.name ?? '',
      parentId: fields.parentId ?? '',
      departmentId: fields.departmentId ?? '',
      defaultPriority: fields.defaultPriority ?? '',
      isPublic: fields.isPublic === '1',
      assignStaffId: fields.assignStaffId ?? '',
      autoResponse: fields.autoResponse === '1',
    };
  }

  async function save(request: FastifyRequest, reply: FastifyReply, topicId: number | null) {
    const values = valuesOf(readForm(request).fields);
    const known: FieldErrors = {};
    const input: TopicInput = {
      name: values.name,
      parentId: gather(() => optionalId(values.parentId, 'parentId'), known, null),
      departmentId: gather(() => optionalId(values.departmentId, 'departmentId'), known, null) ?? 0,
      defaultPriority: Number(gather(() => optionalId(values.defaultPriority, 'defaultPriority'), known, null) ?? 0),
      isPublic: values.isPublic,
      assignStaffId: gather(() => optionalId(values.assignStaffId, 'assignStaffId'), known, null),
      autoResponse: values.autoResponse,
    };
    try {
      // A field that is not even a number is reported alone: nothing is saved with it read as empty.
      if (Object.keys(known).length) throw new ValidationError(known);
      if (topicId === null) await topics.create(request.staff!, input);
      else await topics.update(request.staff!, topicId, input);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return form(request, reply, topicId, values, { ...err.fields, ...known }, 400);
    }
    setFlash(reply, { type: 'success', message: msg('admin.topics.flash.saved', { name: values.name.trim() }) });
    return reply.redirect('/scp/admin/topics');
  }

  app.get('/topics/new', async (request, reply) => form(request, reply, null, EMPTY));
  app.post('/topics/new', async (request, reply) => save(request, reply, null));

  app.get<IdParams>('/topics/:id', async (request, reply) => {
    const t = await topics.get(parseId(request.params.id));
    return form(request, reply, t.id, {
      name: t.name, parentId: t.parentId === null ? '' : String(t.parentId), departmentId: String(t.departmentId), defaultPriority: String(t.defaultPriority),
      isPublic: t.isPublic, assignStaffId: t.assignStaffId === null ? '' : String(t.assignStaffId), autoResponse: t.autoResponse,
    });
  });
  app.post<IdParams>('/topics/:id', async (request, reply) => save(request, reply, (await topics.get(parseId(request.params.id))).id));

  app.post<IdParams>('/topics/:id/move', async (request, reply) => {
    const t = await topics.get(parseId(request.params.id));
    await topics.move(request.staff!, t.id, readForm(request).fields.direction === 'up' ? 'up' : 'down');
    return reply.redirect('/scp/admin/topics');
  });

  /** The confirmation page: what names the topic, and archive, or delete when nothing does. */
  async function removePage(request: FastifyRequest, reply: FastifyReply, id: number, formError?: Msg, status = 200) {
    const [t, usage, current] = await Promise.all([topics.get(id), topics.usage(id), topics.defaultTopic()]);
    const isDefault = current?.id === id;
    const inUse = usage.tickets + usage.mailboxes + usage.children > 0 || isDefault;
    return render(request, reply, 'admin/topic-remove', { title: msg('admin.topics.remove_title', { name: t.name }), topic: t, usage, isDefault, inUse, formError }, status);
  }

  app.get<IdParams>('/topics/:id/remove', async (request, reply) => removePage(request, reply, parseId(request.params.id)));

  app.post<IdParams>('/topics/:id/remove', async (request, reply) => {
    const t = await topics.get(parseId(request.params.id));
    const remove = readForm(request).fields.action === 'delete';
    try {
      if (remove) await topics.delete(request.staff!, t.id);
      else await topics.archive(request.staff!, t.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'TOPIC_IN_USE') return removePage(request, reply, t.id, err.userMessage, 409);
      throw err;
    }
    setFlash(reply, { type: 'success', message: msg(remove ? 'admin.topics.flash.deleted' : 'admin.topics.flash.archived', { name: t.name }) });
    return reply.redirect('/scp/admin/topics');
  });

  app.post<IdParams>('/topics/:id/restore', async (request, reply) => {
    const t = await topics.get(parseId(request.params.id));
    try {
      await topics.restore(request.staff!, t.id);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'TOPIC_PARENT_ARCHIVED') throw err;
      setFlash(reply, { type: 'error', message: err.userMessage });
      return reply.redirect(`/scp/admin/topics/${t.id}`);
    }
    setFlash(reply, { type: 'success', message: msg('admin.topics.flash.restored', { name: t.name }) });
    return reply.redirect('/scp/admin/topics');
  });
}
