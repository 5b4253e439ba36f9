import { PRIORITIES, SOURCES, STATUSES, isPriority, type TicketSource, type TicketStatus } from '../tickets/ticket.js';
import type { SearchFilters, SearchSort } from './search-repository.js';

/** The URL parameters of a search (issue 11, item 2): every choice is in the URL, so a search can be bookmarked. */
export const SEARCH_FIELDS = ['q', 'status', 'dept', 'assignee', 'prio', 'source', 'cfrom', 'cto', 'ufrom', 'uto', 'files', 'sort', 'cursor'] as const;
export type SearchUrlParams = Partial<Record<(typeof SEARCH_FIELDS)[number], string>>;

/** The statuses a search may filter by: those agents set, and spam. */
export const SEARCH_STATUSES = [...STATUSES, 'spam'] as const;
export const SEARCH_PRIORITIES = Object.keys(PRIORITIES).map(Number);
const ASSIGNEES = ['me', 'unassigned', 'someone'] as const;
const oneOf = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => ((list as readonly string[]).includes(v ?? '') ? (v as T) : undefined);

/** A day from a date field (YYYY-MM-DD), its first or last millisecond in UTC; anything else: no bound. */
function day(v: string | undefined, end: boolean): Date | undefined {
  if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const start = Date.parse(v);
  // Date.parse reads a date-only string as UTC; one it cannot read (2026-13-45) is NaN.
  return Number.isNaN(start) ? undefined : new Date(end ? start + 86_400_000 - 1 : start);
}

export interface SearchUrl {
  words: string;
  filters: SearchFilters;
  sort: SearchSort;
  /**
   * The values understood, as the search form shows them and its links keep them: an unknown value drops out
   * of the URL rather than being refused. Without the cursor.
   */
  form: Record<string, string | number>;
}

/** Reads a search from its URL parameters. */
export function readSearchUrl(q: SearchUrlParams): SearchUrl {
  const words = (q.q ?? '').trim();
  const status = oneOf<TicketStatus>(SEARCH_STATUSES, q.status);
  const priority = Number(q.prio);
  const dept = q.dept && /^\d{1,10}$/.test(q.dept) ? Number(q.dept) : 0;
  const filters: SearchFilters = {
    statuses: status ? [status] : undefined,
    departmentId: dept || undefined,
    assignee: oneOf(ASSIGNEES, q.assignee),
    priority: isPriority(priority) ? priority : undefined,
    source: oneOf<TicketSource>(SOURCES, q.source),
    createdFrom: day(q.cfrom, false),
    createdTo: day(q.cto, true),
    updatedFrom: day(q.ufrom, false),
    updatedTo: day(q.uto, true),
    hasAttachments: q.files === '1' ? true : undefined,
  };
  const sort = oneOf<SearchSort>(['relevance', 'updated'], q.sort) ?? 'relevance';
  const form: Record<string, string | number> = {
    q: words, status: status ?? '', dept: filters.departmentId ?? '', assignee: filters.assignee ?? '', prio: filters.priority ?? '', source: filters.source ?? '',
    cfrom: filters.createdFrom ? q.cfrom! : '', cto: filters.createdTo ? q.cto! : '', ufrom: filters.updatedFrom ? q.ufrom! : '', uto: filters.updatedTo ? q.uto! : '',
    files: filters.hasAttachments ? '1' : '', sort,
  };
  return { words, filters, sort, form };
}

/** The URL query string of a search's form values (`form` of readSearchUrl, changed by `over`), empty values left out. */
export function searchQueryString(form: Record<string, string | number>, over: Record<string, string | number> = {}): string {
  const q = new URLSearchParams();
  for (const [k, x] of Object.entries({ ...form, ...over })) if (x !== '') q.set(k, String(x));
  return q.toString();
}

/** What a saved queue keeps of a search: its words and filters, without the order (kept apart) or a page. */
export function savedSearchQuery(form: Record<string, string | number>): string {
  return searchQueryString(form, { sort: '' });
}

/** A saved queue's query string read back as the search it was. */
export function readSavedSearch(query: string): SearchUrl {
  return readSearchUrl(Object.fromEntries(new URLSearchParams(query)) as SearchUrlParams);
}
