import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.js';
import type { SearchFilters, SearchSort } from '../../search/search-service.js';
import { isTicketNumber } from '../../tickets/ticket-rules.js';
import { STATUSES, type TicketStatus } from '../../tickets/ticket.js';
import { parseId } from '../forms.js';
import { render } from '../render.js';

type SearchQuerystring = { q?: string; status?: string; dept?: string; assignee?: string; sort?: string; cursor?: string };

const ASSIGNEES = ['me', 'unassigned', 'someone'] as const;
const oneOf = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => (list as readonly string[]).includes(v ?? '') ? (v as T) : undefined;

/**
 * The header's search box (issue 11, item 1): a ticket number the agent can see opens that ticket; anything
 * else lists the matching tickets. Every choice is in the URL, so a search can be bookmarked and shared; an
 * unknown filter value is ignored rather than refused.
 */
export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { search, tickets, departments, config } = app.services;

  app.get<{ Querystring: SearchQuerystring }>('/search', async (request, reply) => {
    const p = request.staff!;
    const q = request.query;
    const words = (q.q ?? '').trim();
    const number = words.replace(/^#/, '');
    if (isTicketNumber(number) && !q.cursor && (await tickets.isVisible(p, number))) return reply.redirect(`/scp/tickets/${number}`);
    const status = oneOf<TicketStatus>([...STATUSES, 'spam'], q.status);
    const departmentId = parseId(q.dept) || undefined;
    const assignee = oneOf(ASSIGNEES, q.assignee);
    const sort = oneOf<SearchSort>(['relevance', 'updated'], q.sort) ?? 'relevance';
    const filters: SearchFilters = { statuses: status ? [status] : undefined, departmentId, assignee };
    const allDepartments = await departments.menu({ includeArchived: true });
    const visibleDepartments = p.isAdmin ? allDepartments : allDepartments.filter((d) => p.departmentIds.includes(d.id));
    const form = { q: words, status: status ?? '', dept: departmentId ?? '', assignee: assignee ?? '', sort };
    let result = null;
    let errors = {};
    try {
      result = await search.search(p, { words, filters, sort, after: q.cursor ?? null, limit: config.queuePageSize });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      errors = err.fields;
    }
    return render(request, reply, 'staff/search', {
      title: 'staff.search.title',
      form,
      result,
      errors,
      firstPage: !q.cursor,
      departments: visibleDepartments,
      statuses: [...STATUSES, 'spam'],
    });
  });
}
