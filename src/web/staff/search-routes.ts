import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldErrors } from '../../errors.js';
import { SEARCH_PRIORITIES, SEARCH_STATUSES, readSearchUrl, searchQueryString, type SearchUrlParams } from '../../search/search-url.js';
import { isTicketNumber } from '../../tickets/ticket-rules.js';
import { SOURCES } from '../../tickets/ticket.js';
import { render } from '../render.js';

/** The "Save as queue" form under the results, when it comes back refused: what was typed and what is wrong. */
export interface SaveForm {
  values: { name: string; shared: boolean };
  errors: FieldErrors;
}

/**
 * The results page of a search, also used to answer a refused "Save as queue" with the form kept. An unknown
 * filter value is ignored rather than refused (search-url.ts).
 */
export async function renderSearch(request: FastifyRequest, reply: FastifyReply, params: SearchUrlParams, save: SaveForm | null = null): Promise<FastifyReply> {
  const { search, departments, config } = request.server.services;
  const p = request.staff!;
  const { words, filters, sort, form } = readSearchUrl(params);
  const allDepartments = await departments.menu({ includeArchived: true });
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
