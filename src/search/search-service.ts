import { ValidationError } from '../errors.js';
import type { Principal, TicketListRow } from '../tickets/ticket.js';
import { parseQuery } from './query.js';
import type { SearchFilters, SearchQuery, SearchRepository, SearchScope, SearchSort } from './search-repository.js';
import { snippetHtml } from './snippet.js';

export type { SearchFilters, SearchSort } from './search-repository.js';

export interface SearchParams {
  words: string;
  filters: SearchFilters;
  sort?: SearchSort;
  /** The `next` of the previous page. */
  after?: string | null;
  limit: number;
}

export interface SearchResultRow extends TicketListRow {
  /** Where the words matched: escaped text with <mark>ed words, made here (snippet.ts). */
  snippetHtmlSanitized: string | null;
}

export interface SearchResult {
  rows: SearchResultRow[];
  /** How many tickets match, up to COUNT_CAP; `more` when there are more than that. */
  total: number;
  more: boolean;
  next: string | null;
  /** The words held nothing to search for (only stop words or symbols): the filters alone applied. */
  noWords: boolean;
  sort: SearchSort;
}

/**
 * Counts are shown up to this: counting every ticket a filter alone selects at a million tickets costs more
 * than the page, so that count stops here ("more than 1,000"); with words the count is exact but shown the same.
 */
export const COUNT_CAP = 1000;

export interface SearchServiceDeps {
  repo: SearchRepository;
  /** The queue rows (with names) of these tickets, in any order. */
  rows(ids: number[]): Promise<TicketListRow[]>;
}

/** Where the next page starts, and the first page's count, which later pages show again rather than recount. */
type Cursor = { value: number | string; id: number; total: number };

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.value, c.id, c.total])).toString('base64url');

/** A cursor from a URL: anything that is not one of ours reads as the first page. */
function decodeCursor(s: string | null | undefined): Cursor | null {
  if (!s) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && (typeof v[0] === 'number' || typeof v[0] === 'string') && Number.isSafeInteger(v[1]) && Number.isSafeInteger(v[2])) {
      return { value: v[0], id: v[1] as number, total: v[2] as number };
    }
  } catch {
    // Not JSON: the first page.
  }
  return null;
}

/** Ticket search (issue 11): words and filters, under the searcher's access rules. */
export class SearchService {
  constructor(private readonly d: SearchServiceDeps) {}

  async search(principal: Principal, p: SearchParams): Promise<SearchResult> {
    const f = p.filters;
    if (f.createdFrom && f.createdTo && f.createdTo < f.createdFrom) throw new ValidationError({ created: 'validation.search.range' });
    if (f.updatedFrom && f.updatedTo && f.updatedTo < f.updatedFrom) throw new ValidationError({ updated: 'validation.search.range' });
    const { terms, excluded } = parseQuery(p.words);
    const scope: SearchScope = principal.kind === 'staff'
      ? { kind: 'staff', staffId: principal.staffId, departmentIds: principal.isAdmin ? null : principal.departmentIds }
      : { kind: 'client', userId: principal.userId };
    const sort: SearchSort = terms.length ? (p.sort ?? 'relevance') : 'updated';
    const after = decodeCursor(p.after);
    const query: SearchQuery = { terms, excluded, scope, filters: f, sort, after, limit: p.limit + 1 };
    // With words the first page counts in its own statement (page()); later pages carry that count.
    const counted = terms.length > 0 && !after;
    const [{ hits, total: pageTotal }, total] = await Promise.all([
      this.d.repo.page(query, counted),
      counted ? null : after && terms.length ? after.total : this.d.repo.count({ ...query, after: null }, COUNT_CAP),
    ]);
    const page = hits.slice(0, p.limit);
    const last = page[page.length - 1];
    const count = total ?? pageTotal;
    const next = hits.length > p.limit && last ? encodeCursor({ value: sort === 'relevance' ? last.score : last.updatedAt, id: last.id, total: count }) : null;
    const ids = page.map((h) => h.id);
    const [rows, texts] = await Promise.all([this.d.rows(ids), this.d.repo.bestEntries(ids, terms, scope.kind === 'staff')]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out = ids.flatMap((id) => {
      const row = byId.get(id);
      const text = texts.get(id);
      return row ? [{ ...row, snippetHtmlSanitized: text ? snippetHtml(text, terms) : null }] : [];
    });
    return {
      rows: out, total: Math.min(count, COUNT_CAP), more: count > COUNT_CAP, next,
      noWords: !terms.length && p.words.trim() !== '', sort,
    };
  }
}
