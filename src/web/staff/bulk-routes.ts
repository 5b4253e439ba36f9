import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import type { Staff } from '../../staff/staff.js';
import { TicketBulk, type BulkAction, type BulkOutcome } from '../../tickets/ticket-bulk.js';
import { PRIORITIES, STATUSES, isPriority } from '../../tickets/ticket.js';
import { parseId, readForm } from '../forms.js';
import { render, setFlash } from '../render.js';

/** Where the bulk pages lead back to: the queue or the ticket page the agent came from, never anywhere else. */
function backUrl(raw: string | undefined): string {
  return raw && /^\/scp\/tickets(\/\d{4,16}|\?[^\s]*)?$/.test(raw) ? raw : '/scp/tickets';
}

/**
 * The action form's value: `kind` or `kind:argument` (one select, so that it works without JavaScript).
 * Null when it names no action the agent could have been offered.
 */
export function parseBulkAction(raw: string | undefined, me: number): BulkAction | null {
  const [kind, arg = ''] = (raw ?? '').split(':', 2);
  switch (kind) {
    case 'assign':
      if (arg === 'me') return { kind, assigneeId: me };
      if (arg === 'none') return { kind, assigneeId: null };
      return parseId(arg) ? { kind, assigneeId: parseId(arg) } : null;
    case 'transfer':
      return parseId(arg) ? { kind, departmentId: parseId(arg) } : null;
    case 'status':
      return (STATUSES as readonly string[]).includes(arg) ? { kind, status: arg as (typeof STATUSES)[number] } : null;
    case 'priority':
      return isPriority(Number(arg)) ? { kind, priority: Number(arg) as keyof typeof PRIORITIES } : null;
    case 'delete':
      return arg ? null : { kind };
    case 'spam':
      return arg === '' || arg === 'ban' ? { kind, ban: arg === 'ban' } : null;
    default:
      return null;
  }
}

/** The form value of an action, to carry it from the confirmation to the apply. */
function actionValue(a: BulkAction, me: number): string {
  switch (a.kind) {
    case 'assign':
      return `assign:${a.assigneeId === null ? 'none' : a.assigneeId === me ? 'me' : a.assigneeId}`;
    case 'transfer':
      return `transfer:${a.departmentId}`;
    case 'status':
      return `status:${a.status}`;
    case 'priority':
      return `priority:${a.priority}`;
    case 'delete':
      return 'delete';
    case 'spam':
      return a.ban ? 'spam:ban' : 'spam';
  }
}

/** What the action form offers the agent: agents of the departments they see, and every open department. */
export async function bulkChoices(request: FastifyRequest): Promise<{ bulkAssignees: Staff[]; bulkDepartments: Array<{ id: number; name: string }> }> {
  const { departments, staff } = request.server.services;
  const p = request.staff!;
  const open = await departments.menu();
  const mine = p.isAdmin ? open : open.filter((d) => p.departmentIds.includes(d.id));
  const byId = new Map<number, Staff>();
  for (const list of await Promise.all(mine.map((d) => staff.listAssignable(d.id)))) for (const s of list) byId.set(s.id, s);
  return {
    bulkAssignees: [...byId.values()].filter((s) => s.id !== p.staffId).sort((a, b) => a.name.localeCompare(b.name)),
    bulkDepartments: open.map((d) => ({ id: d.id, name: d.name })),
  };
}

/**
 * The sentence the confirmation and the summary say the action with: a catalog key, its parameters, and the
 * status or priority the template names in the reader's words.
 */
async function describe(request: FastifyRequest, a: BulkAction, count: number): Promise<{ key: string; params: Record<string, string | number>; status?: string; priority?: number }> {
  const { departments, staff } = request.server.services;
  switch (a.kind) {
    case 'assign':
      if (a.assigneeId === null) return { key: 'staff.bulk.confirm.unassign', params: { count } };
      if (a.assigneeId === request.staff!.staffId) return { key: 'staff.bulk.confirm.assign_me', params: { count } };
      return { key: 'staff.bulk.confirm.assign', params: { count, name: (await staff.get(a.assigneeId).catch(() => null))?.name ?? `#${a.assigneeId}` } };
    case 'transfer':
      return { key: 'staff.bulk.confirm.transfer', params: { count, department: (await departments.menu({ includeArchived: true })).find((d) => d.id === a.departmentId)?.name ?? `#${a.departmentId}` } };
    case 'status':
      return { key: 'staff.bulk.confirm.status', params: { count }, status: a.status };
    case 'priority':
      return { key: 'staff.bulk.confirm.priority', params: { count }, priority: a.priority };
    case 'delete':
      return { key: 'staff.bulk.confirm.delete', params: { count } };
    case 'spam':
      return { key: a.ban ? 'staff.bulk.confirm.spam_ban' : 'staff.bulk.confirm.spam', params: { count } };
  }
}

export async function bulkRoutes(app: FastifyInstance): Promise<void> {
  const { ticketBulk } = app.services;

  /**
   * The chosen tickets, or null after telling the agent what is wrong (nothing chosen, or too many). The
   * queue's "select all on this page" box sends the page's numbers (`page`), so it works without JavaScript.
   */
  function chosen(reply: FastifyReply, form: { fields: Record<string, string>; lists: Record<string, string[]> }): string[] | null {
    try {
      return TicketBulk.chosen((form.fields.all === '1' ? form.lists.page : form.lists.tickets) ?? []);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      setFlash(reply, { type: 'error', message: err.fields.tickets ?? err.userMessage });
      return null;
    }
  }

  /** What both steps post: the queue to go back to, the chosen tickets (null: refused, flash set), the action. */
  function readBulk(request: FastifyRequest, reply: FastifyReply) {
    const form = readForm(request);
    return { back: backUrl(form.fields.back), numbers: chosen(reply, form), action: parseBulkAction(form.fields.action, request.staff!.staffId), merge: form.fields.action === 'merge' };
  }

  /** The confirmation page, or the action choice again with its error when the action is missing or unknown. */
  app.post('/tickets/bulk', async (request, reply) => {
    const { back, numbers, action, merge } = readBulk(request, reply);
    if (!numbers) return reply.redirect(back);
    // Merging is one change to several tickets, not one per ticket: the merge form takes over, filled in, where the
    // agent picks the surviving ticket and confirms (relation-routes.ts).
    if (merge) {
      if (numbers.length < 2) {
        setFlash(reply, { type: 'error', message: 'staff.bulk.merge_two' });
        return reply.redirect(back);
      }
      return reply.redirect(`/scp/tickets/${numbers[0]}/merge?others=${numbers.slice(1).join('+')}`);
    }
    const p = request.staff!;
    const targets = await ticketBulk.preview(p, numbers);
    const errors: FieldErrors = action ? {} : { action: 'staff.bulk.choose_action' };
    return render(request, reply, 'staff/bulk', {
      title: 'staff.bulk.confirm_title',
      step: action ? 'confirm' : 'choose',
      back,
      targets,
      values: { action: action ? actionValue(action, p.staffId) : '' },
      errors,
      describe: action ? await describe(request, action, numbers.length) : null,
      ...(action ? {} : await bulkChoices(request)),
    }, action ? 200 : 400);
  });

  /** Applies the action, ticket by ticket, and says what was done and what was refused. */
  app.post('/tickets/bulk/confirm', async (request, reply) => {
    const { back, numbers, action } = readBulk(request, reply);
    if (!numbers) return reply.redirect(back);
    const p = request.staff!;
    if (!action) {
      setFlash(reply, { type: 'error', message: 'staff.bulk.choose_action' });
      return reply.redirect(back);
    }
    const outcomes = await ticketBulk.apply(p, numbers, action);
    for (const o of outcomes) if (o.error) request.log.error({ err: o.error, number: o.number, action: action.kind }, 'bulk action failed on a ticket');
    request.log.info({ staffId: p.staffId, action: action.kind, done: count(outcomes, 'done'), refused: count(outcomes, 'refused') }, 'bulk action');
    return render(request, reply, 'staff/bulk', {
      title: 'staff.bulk.summary_title',
      step: 'summary',
      // A deleted ticket has no page to go back to.
      back: action.kind === 'delete' && back.startsWith('/scp/tickets/') ? '/scp/tickets' : back,
      outcomes,
      counts: { done: count(outcomes, 'done'), unchanged: count(outcomes, 'unchanged'), refused: count(outcomes, 'refused') },
      describe: await describe(request, action, numbers.length),
    });
  });
}

const count = (outcomes: BulkOutcome[], result: BulkOutcome['result']) => outcomes.filter((o) => o.result === result).length;
