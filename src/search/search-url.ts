import { PRIORITIES, SOURCES, STATUSES, isPriority, type TicketSource, type TicketStatus } from '../tickets/ticket.js';
import { DAY_MS, wallToInstant } from '../schedules/zone-clock.js';
import type { SearchFilters, SearchSort } from './search-repository.js';

/** The URL parameters of a search (issue 11, item 2): every choice is in the URL, so a search can be bookmarked. */
export const SEARCH_FIELDS = ['q', 'status', 'dept', 'assignee', 'prio', 'source', 'user', 'org', 'topic', 'cfrom', 'cto', 'ufrom', 'uto', 'files', 'sort', 'cursor'] as const;
export type SearchUrlParams = Partial<Record<(typeof SEARCH_FIELDS)[number], string>>;

/** The statuses a search may filter by: those agents set, and spam. */
export const SEARCH_STATUSES = [...STATUSES, 'spam'] as const;
export const SEARCH_PRIORITIES = Object.keys(PRIORITIES).map(Number);
const ASSIGNEES = ['me', 'unassigned', 'someone'] as const;
const oneOf = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => ((list as readonly string[]).includes(v ?? '') ? (v as T) : undefined);

/**
 * The first and last millisecond of a calendar day (YYYY-MM-DD) in the searcher's zone: a date field means the
 * day the person lives in, not UTC's (in Copenhagen a ticket made at 00:30 belongs to that day, not the one
 * before). Undefined for anything that is not a real date.
 */
export function dayBounds(isoDate: string | undefined, timeZone: string): { start: Date; end: Date } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const midnight = Date.UTC(y, mo - 1, d);
  const date = new Date(midnight);
  // 2026-02-30 rolls over to March in Date.UTC: not a date anyone picked.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  return { start: new Date(wallToInstant(timeZone, midnight)), end: new Date(wallToInstant(timeZone, midnight + DAY_MS) - 1) };
}

const id = (v: string | undefined) => (v && /^\d{1,10}$/.test(v) ? Number(v) || undefined : undefined);

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

/** Reads a search from its URL parameters; its days are those of `timeZone`, the searcher's. */
export function readSearchUrl(q: SearchUrlParams, timeZone: string): SearchUrl {
  const words = (q.q ?? '').trim();
  const status = oneOf<TicketStatus>(SEARCH_STATUSES, q.status);
  const priority = Number(q.prio);
  const [created, updated] = [[q.cfrom, q.cto], [q.ufrom, q.uto]].map(([from, to]) => ({ from: dayBounds(from, timeZone), to: dayBounds(to, timeZone) }));
  const filters: SearchFilters = {
    statuses: status ? [status] : undefined,
    departmentId: id(q.dept),
    assignee: oneOf(ASSIGNEES, q.assignee),
    priority: isPriority(priority) ? priority : undefined,
    source: oneOf<TicketSource>(SOURCES, q.source),
    userId: id(q.user),
    organizationId: id(q.org),
    topicId: id(q.topic),
    createdFrom: created!.from?.start,
    createdTo: created!.to?.end,
    updatedFrom: updated!.from?.start,
    updatedTo: updated!.to?.end,
    hasAttachments: q.files === '1' ? true : undefined,
  };
  const sort = oneOf<SearchSort>(['relevance', 'updated'], q.sort) ?? 'relevance';
  const form: Record<string, string | number> = {
    q: words, status: status ?? '', dept: filters.departmentId ?? '', assignee: filters.assignee ?? '', prio: filters.priority ?? '', source: filters.source ?? '',
    user: filters.userId ?? '', org: filters.organizationId ?? '', topic: filters.topicId ?? '',
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

/** A saved queue's query string read back as the search it was, its days in the viewer's zone. */
export function readSavedSearch(query: string, timeZone: string): SearchUrl {
  return readSearchUrl(Object.fromEntries(new URLSearchParams(query)) as SearchUrlParams, timeZone);
}
