import type { FastifyInstance } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import type { SearchFilters, SearchSort } from '../../search/search-service.js';
import { isTicketNumber } from '../../tickets/ticket-rules.js';
import { PRIORITIES, SOURCES, STATUSES, isPriority, type TicketSource, type TicketStatus } from '../../tickets/ticket.js';
import { parseId } from '../forms.js';
import { render } from '../render.js';
import { dayBounds } from '../time-zones.js';

const FIELDS = ['q', 'status', 'dept', 'assignee', 'prio', 'source', 'user', 'org', 'topic', 'cfrom', 'cto', 'ufrom', 'uto', 'files', 'sort', 'cursor'] as const;
type SearchQuerystring = Partial<Record<(typeof FIELDS)[number], string>>;

const ASSIGNEES = ['me', 'unassigned', 'someone'] as const;
const oneOf = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => ((list as readonly string[]).includes(v ?? '') ? (v as T) : undefined);

/** A thing a filter names, or undefined when the id is not one (a stale link): the filter is then left out. */
async function named<T>(id: string | undefined, get: (id: number) => Promise<T>): Promise<T | undefined> {
  const n = parseId(id);
  if (!n) return undefined;
  try {
    return await get(n);
  } catch (err) {
    if (err instanceof AppError && err.category === 'not_found') return undefined;
    throw err;
  }
}

/**
 * The header's search box (issue 11, item 1): a ticket number the agent can see opens that ticket; anything
 * else lists the matching tickets. Every choice is in the URL, so a search can be bookmarked and shared; an
 * unknown filter value is ignored rather than refused.
 */
export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { search, tickets, departments, topics, people, organizations, config } = app.services;

  app.get<{ Querystring: SearchQuerystring }>('/search', async (request, reply) => {
    const p = request.staff!;
    const q = request.query;
    const words = (q.q ?? '').trim();
    const number = words.replace(/^#/, '');
    if (isTicketNumber(number) && !q.cursor && (await tickets.isVisible(p, number))) return reply.redirect(`/scp/tickets/${number}`);
    const status = oneOf<TicketStatus>([...STATUSES, 'spam'], q.status);
    const priority = Number(q.prio);
    const [user, organization, allTopics] = await Promise.all([
      named(q.user, (id) => people.get(p, id)),
      named(q.org, (id) => organizations.get(p, id)),
      topics.list(),
    ]);
    const topic = allTopics.find((x) => x.id === parseId(q.topic));
    const [created, updated] = [[q.cfrom, q.cto], [q.ufrom, q.uto]].map(([from, to]) => ({ from: dayBounds(from, p.timezone), to: dayBounds(to, p.timezone) }));
    const filters: SearchFilters = {
      statuses: status ? [status] : undefined,
      departmentId: parseId(q.dept) || undefined,
      assignee: oneOf(ASSIGNEES, q.assignee),
      priority: isPriority(priority) ? priority : undefined,
      source: oneOf<TicketSource>(SOURCES, q.source),
      userId: user?.id,
      organizationId: organization?.id,
      topicId: topic?.id,
      createdFrom: created!.from?.start,
      createdTo: created!.to?.end,
      updatedFrom: updated!.from?.start,
      updatedTo: updated!.to?.end,
      hasAttachments: q.files === '1' ? true : undefined,
    };
    const sort = oneOf<SearchSort>(['relevance', 'updated'], q.sort) ?? 'relevance';
    // What the form shows and the links keep: the values understood, so an unknown one drops out of the URL.
    const form: Record<string, string | number> = {
      q: words, status: status ?? '', dept: filters.departmentId ?? '', assignee: filters.assignee ?? '', prio: filters.priority ?? '', source: filters.source ?? '',
      user: user?.id ?? '', org: organization?.id ?? '', topic: topic?.id ?? '',
      cfrom: filters.createdFrom ? q.cfrom! : '', cto: filters.createdTo ? q.cto! : '', ufrom: filters.updatedFrom ? q.ufrom! : '', uto: filters.updatedTo ? q.uto! : '',
      files: filters.hasAttachments ? '1' : '', sort,
    };
    const allDepartments = await departments.menu({ includeArchived: true });
    let result = null;
    let errors: FieldErrors = {};
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
      departments: p.isAdmin ? allDepartments : allDepartments.filter((d) => p.departmentIds.includes(d.id)),
      statuses: [...STATUSES, 'spam'],
      priorities: Object.keys(PRIORITIES).map(Number),
      sources: SOURCES,
      topics: allTopics,
      user,
      organization,
    }, Object.keys(errors).length ? 400 : 200);
  });
}
