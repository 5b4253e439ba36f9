import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { SEARCH_PRIORITIES, SEARCH_STATUSES, readSearchUrl, searchQueryString, type SearchUrlParams } from '../../search/search-url.js';
import { isTicketNumber } from '../../tickets/ticket-rules.js';
import { SOURCES } from '../../tickets/ticket.js';
import { render } from '../render.js';

/** The "Save as queue" form under the results, when it comes back refused: what was typed and what is wrong. */
export interface SaveForm {
  values: { name: string; shared: boolean };
  errors: FieldErrors;
}

/** What a filter's id names, or undefined when it names nothing (a stale link): the filter is then left out. */
async function named<T>(id: number | undefined, get: (id: number) => Promise<T>): Promise<T | undefined> {
  if (!id) return undefined;
  try {
    return await get(id);
  } catch (err) {
    if (err instanceof AppError && err.category === 'not_found') return undefined;
    throw err;
  }
}

/**
 * The results page of a search, also used to answer a refused "Save as queue" with the form kept. An unknown
 * filter value is ignored rather than refused (search-url.ts).
 */
export async function renderSearch(request: FastifyRequest, reply: FastifyReply, params: SearchUrlParams, save: SaveForm | null = null): Promise<FastifyReply> {
  const { search, departments, topics, people, organizations, config } = request.server.services;
  const p = request.staff!;
  const { words, filters, sort, form } = readSearchUrl(params, p.timezone);
  const [allDepartments, user, organization, allTopics] = await Promise.all([
    departments.menu({ includeArchived: true }),
    named(filters.userId, (id) => people.get(p, id)),
    named(filters.organizationId, (id) => organizations.get(p, id)),
    topics.list(),
  ]);
  // A filter's person, organization or topic is shown by name; an id that names nothing drops out, as any
  // unknown value does.
  const topic = allTopics.find((x) => x.id === filters.topicId);
  const known = { user: user?.id, org: organization?.id, topic: topic?.id };
  Object.assign(filters, { userId: known.user, organizationId: known.org, topicId: known.topic });
  for (const [field, value] of Object.entries(known)) form[field] = value ?? '';
  let result = null;
  let errors: FieldErrors = {};
  try {
    result = await search.search(p, { words, filters, sort, after: params.cursor ?? null, limit: config.queuePageSize });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    errors = err.fields;
  }
  return render(request, reply, 'staff/search', {
    title: 'staff.search.title',
    form,
    // What "Save as queue" keeps: the search as its URL has it, the first page.
    search: searchQueryString(form),
    result,
    errors,
    save: save ?? { values: { name: '', shared: false }, errors: {} },
    firstPage: !params.cursor,
    departments: p.isAdmin ? allDepartments : allDepartments.filter((d) => p.departmentIds.includes(d.id)),
    statuses: SEARCH_STATUSES,
    priorities: SEARCH_PRIORITIES,
    sources: SOURCES,
    topics: allTopics,
    user,
    organization,
  }, Object.keys(errors).length || (save && Object.keys(save.errors).length) ? 400 : 200);
}

/**
 * The header's search box (issue 11, item 1): a ticket number the agent can see opens that ticket; anything
 * else lists the matching tickets. Every choice is in the URL, so a search can be bookmarked and shared.
 */
export async function searchRoutes(app: FastifyInstance): Promise<void> {
  const { tickets } = app.services;

  app.get<{ Querystring: SearchUrlParams }>('/search', async (request, reply) => {
    const q = request.query;
    const number = (q.q ?? '').trim().replace(/^#/, '');
    if (isTicketNumber(number) && !q.cursor && (await tickets.isVisible(request.staff!, number))) return reply.redirect(`/scp/tickets/${number}`);
    return renderSearch(request, reply, q);
  });
}
