import { ValidationError } from '../errors.js';
import type { Principal, TicketListRow } from '../tickets/ticket.js';
import { parseQuery } from './query.js';
import type { SearchFilters, SearchHit, SearchQuery, SearchRepository, SearchScope, SearchSort } from './search-repository.js';
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
 * than the page, so that count stops here ("more than 1,000"). With words, a count is exact while the rarest
 * word is in few enough rows (search-repository.ts), and otherwise a lower bound, shown the same way.
 */
export const COUNT_CAP = 1000;

export interface SearchServiceDeps {
  repo: SearchRepository;
  /** The queue rows (with names) of these tickets, in any order. */
  rows(ids: number[]): Promise<TicketListRow[]>;
}

/** Where the next page starts: the last row's sort value and id. */
type Cursor = { value: number | string; id: number };

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.value, c.id])).toString('base64url');

/** A cursor from a URL: anything that is not one of ours reads as the first page. */
function decodeCursor(s: string | null | undefined): Cursor | null {
  if (!s) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && (typeof v[0] === 'number' || typeof v[0] === 'string') && Number.isSafeInteger(v[1])) {
      return { value: v[0], id: v[1] as number };
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
    const { hits, total, complete } = terms.length ? await this.d.repo.words(query) : await this.byFilters(query);
    const page = hits.slice(0, p.limit);
    const last = page[page.length - 1];
    const next = hits.length > p.limit && last ? encodeCursor({ value: sort === 'relevance' ? last.score : last.updatedAt, id: last.id }) : null;
    const ids = page.map((h) => h.id);
    const [rows, texts] = await Promise.all([this.d.rows(ids), this.d.repo.bestEntries(ids, terms, scope.kind === 'staff')]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out = ids.flatMap((id) => {
      const row = byId.get(id);
      const text = texts.get(id);
      return row ? [{ ...row, snippetHtmlSanitized: text ? snippetHtml(text, terms) : null }] : [];
    });
    return {
      rows: out, total: Math.min(total, COUNT_CAP), more: total > COUNT_CAP || !complete, next,
      noWords: !terms.length && p.words.trim() !== '', sort,
    };
  }

  /** Filters alone: a page reads only its own rows, and the count stops at the cap. */
  private async byFilters(query: SearchQuery): Promise<{ hits: SearchHit[]; total: number; complete: boolean }> {
    const [hits, total] = await Promise.all([this.d.repo.filtersPage(query), this.d.repo.count({ ...query, after: null }, COUNT_CAP)]);
    return { hits, total, complete: true };
  }
}
