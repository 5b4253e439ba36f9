import { ValidationError } from '../errors.js';
import type { Principal, Sort, TicketListRow } from '../tickets/ticket.js';
import { parseQuery, type Term } from './query.js';
import type { SearchFilters, SearchHit, SearchOrder, SearchQuery, SearchRepository, SearchScope } from './search-repository.js';
import { snippetHtml } from './snippet.js';

export type { SearchFilters, SearchSort } from './search-repository.js';

/** What results are sorted by: relevance, or a queue's column. */
export type ResultSort = 'relevance' | Sort;

export interface SearchParams {
  words: string;
  filters: SearchFilters;
  /** Relevance by default; a search without words is sorted by last activity instead. */
  sort?: ResultSort;
  /** For a column's sort: newest, highest or last first by default. */
  dir?: 'asc' | 'desc';
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
  /** The order applied (relevance asked of a search without words is by last activity). */
  sort: ResultSort;
  dir: 'asc' | 'desc';
}

/** A page of results as a queue shows them: rows only, neither counted nor with snippets. */
export interface SearchListPage {
  rows: TicketListRow[];
  next: string | null;
  sort: ResultSort;
  dir: 'asc' | 'desc';
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

/** The filters, unless a date range ends before it starts. */
export function checkFilters(f: SearchFilters): SearchFilters {
  if (f.createdFrom && f.createdTo && f.createdTo < f.createdFrom) throw new ValidationError({ created: 'validation.search.range' });
  if (f.updatedFrom && f.updatedTo && f.updatedTo < f.updatedFrom) throw new ValidationError({ updated: 'validation.search.range' });
  return f;
}

/** Ticket search (issue 11): words and filters, under the searcher's access rules. */
export class SearchService {
  constructor(private readonly d: SearchServiceDeps) {}

  /** The results page of a search: rows with snippets, and how many match. */
  async search(principal: Principal, p: SearchParams): Promise<SearchResult> {
    const { query, terms } = this.prepare(principal, p);
    const { hits, total, complete } = terms.length ? await this.d.repo.words(query) : await this.byFilters(query);
    const { ids, next } = this.paged(hits, p.limit);
    const [rows, texts] = await Promise.all([this.d.rows(ids), this.d.repo.bestEntries(ids, terms, query.scope.kind === 'staff')]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out = ids.flatMap((id) => {
      const row = byId.get(id);
      const text = texts.get(id);
      return row ? [{ ...row, snippetHtmlSanitized: text ? snippetHtml(text, terms) : null }] : [];
    });
    return {
      rows: out, total: Math.min(total, COUNT_CAP), more: total > COUNT_CAP || !complete, next,
      noWords: !terms.length && p.words.trim() !== '', ...orderOf(query.order),
    };
  }

  /** A page of results as a queue lists them (a saved queue): neither counted nor with snippets. */
  async list(principal: Principal, p: SearchParams): Promise<SearchListPage> {
    const { query, terms } = this.prepare(principal, p);
    const hits = terms.length ? (await this.d.repo.words(query)).hits : await this.d.repo.filtersPage(query);
    const { ids, next } = this.paged(hits, p.limit);
    const byId = new Map((await this.d.rows(ids)).map((r) => [r.id, r]));
    return { rows: ids.flatMap((id) => byId.get(id) ?? []), next, ...orderOf(query.order) };
  }

  /** How many tickets the search finds, up to COUNT_CAP (`more` past it, or when the count is a lower bound). */
  async count(principal: Principal, p: Pick<SearchParams, 'words' | 'filters'>): Promise<{ total: number; more: boolean }> {
    const { query, terms } = this.prepare(principal, { ...p, limit: 0 });
    if (terms.length) {
      const { total, complete } = await this.d.repo.words({ ...query, after: null });
      return { total: Math.min(total, COUNT_CAP), more: total > COUNT_CAP || !complete };
    }
    const n = await this.d.repo.count({ ...query, after: null }, COUNT_CAP);
    return { total: Math.min(n, COUNT_CAP), more: n > COUNT_CAP };
  }

  /** Filters alone: a page reads only its own rows, and the count stops at the cap. */
  private async byFilters(query: SearchQuery): Promise<{ hits: SearchHit[]; total: number; complete: boolean }> {
    const [hits, total] = await Promise.all([this.d.repo.filtersPage(query), this.d.repo.count({ ...query, after: null }, COUNT_CAP)]);
    return { hits, total, complete: true };
  }

  private prepare(principal: Principal, p: SearchParams): { query: SearchQuery; terms: Term[] } {
    const f = checkFilters(p.filters);
    const { terms, excluded } = parseQuery(p.words);
    const scope: SearchScope = principal.kind === 'staff'
      ? { kind: 'staff', staffId: principal.staffId, departmentIds: principal.isAdmin ? null : principal.departmentIds }
      : { kind: 'client', userId: principal.userId };
    const sort = p.sort ?? 'relevance';
    const order: SearchOrder = sort !== 'relevance' ? { by: sort, dir: p.dir ?? 'desc' } : terms.length ? { by: 'relevance' } : { by: 'updated', dir: 'desc' };
    const after = decodeCursor(p.after);
    return { query: { terms, excluded, scope, filters: f, order, after, limit: p.limit + 1 }, terms };
  }

  /** The page's ids (one more row than a page was read, to know whether another follows) and the next cursor. */
  private paged(hits: SearchHit[], limit: number): { ids: number[]; next: string | null } {
    const page = hits.slice(0, limit);
    const last = page[page.length - 1];
    return { ids: page.map((h) => h.id), next: hits.length > limit && last ? encodeCursor({ value: last.sortValue, id: last.id }) : null };
  }
}

const orderOf = (o: SearchOrder): { sort: ResultSort; dir: 'asc' | 'desc' } => (o.by === 'relevance' ? { sort: 'relevance', dir: 'desc' } : { sort: o.by, dir: o.dir });
