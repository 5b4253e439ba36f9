import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { toDbTime } from '../db/time.js';
import { SORT_COLUMNS } from '../tickets/ticket-repository.js';
import { STATUSES, type Sort, type TicketSource, type TicketStatus } from '../tickets/ticket.js';
import type { Term } from './query.js';
import type { SearchEngine } from './search-port.js';

/** Who is searching, as the query restricts it: the access rules are conditions of the query itself. */
export type SearchScope =
  /** Staff: every department (administrators, `departmentIds` null) or theirs, plus tickets assigned to them. */
  | { kind: 'staff'; staffId: number; departmentIds: number[] | null }
  /** A client: their own tickets; internal notes never match. */
  | { kind: 'client'; userId: number };

export interface SearchFilters {
  statuses?: TicketStatus[];
  departmentId?: number;
  /** 'me' is the searching agent. */
  assignee?: 'me' | 'unassigned' | 'someone';
  priority?: number;
  source?: TicketSource;
  /** The requester. */
  userId?: number;
  /** The requester's organization. */
  organizationId?: number;
  topicId?: number;
  /** Inclusive bounds. */
  createdFrom?: Date;
  createdTo?: Date;
  updatedFrom?: Date;
  updatedTo?: Date;
  hasAttachments?: boolean;
}

/** What the search page sorts by. */
export type SearchSort = 'relevance' | 'updated';

/** The order of results: by relevance (with words only), or by a queue's column (a saved queue, sortable like any). */
export type SearchOrder = { by: 'relevance' } | { by: Sort; dir: 'asc' | 'desc' };

export interface SearchQuery {
  terms: Term[];
  excluded: Term[];
  scope: SearchScope;
  filters: SearchFilters;
  order: SearchOrder;
  /** The last row of the previous page: its sort value (`SearchHit.sortValue`) and id. */
  after: { value: number | string; id: number } | null;
  limit: number;
}

export interface SearchHit {
  id: number;
  /** What the page is ordered by (the score, or the column's value): where the next page starts. */
  sortValue: number | string;
}

/** A column's value as the cursor carries it: numbers stay numbers, anything else (times, text) a string. */
const sortValueOf = (v: unknown): number | string => (typeof v === 'number' ? v : String(v));

/** Keyset order over (value, id), both in the one direction: `a` before `b`? */
function precedes(a: { value: number | string; id: number }, b: { value: number | string; id: number }, dir: 'asc' | 'desc'): boolean {
  const before = a.value < b.value || (a.value === b.value && a.id < b.id);
  const same = a.value === b.value && a.id === b.id;
  return !same && (dir === 'asc' ? before : !before);
}

/**
 * Rows of ticket fields and rows of entries each term reads from the engine at most. A word in fewer rows is
 * found in full; a commoner one is found among this many of its rows (the newest, on SQLite), so that no search
 * reads a large part of the desk: see `words`.
 */
export const PROBE_ROWS = 250;

/** What a term's probe found: each ticket's relevance, and whether that is every ticket the term matches. */
interface TermMatch {
  scores: Map<number, number>;
  complete: boolean;
}

/** The tickets a search with words considers, the terms still to check on them, and what the probes found. */
interface Candidates {
  ids: number[];
  unchecked: Term[];
  matches: TermMatch[];
  complete: boolean;
}

/** The SQL of search: which tickets match, in what order, how many, and which entry matched. */
export class SearchRepository {
  constructor(
    private readonly db: Database,
    private readonly engine: SearchEngine,
    /** `PROBE_ROWS`; tests make it small to see common words with a few tickets. */
    private readonly probeRows = PROBE_ROWS,
  ) {}

  /**
   * A search with words: one page in keyset order, how many tickets match (`complete` when that is all of them,
   * otherwise a lower bound). Each term is probed for a bounded number of rows (`PROBE_ROWS`). The rarest term
   * found in full drives: its tickets are the candidates, which the other terms found in full narrow at no cost,
   * and which the engine checks exactly against the remaining (common) terms and the exclusions. Only when every
   * term is common are the candidates those of a bounded probe, and the result a part of all matches. A client's
   * candidates are their own tickets instead, which a probe of the whole desk would mostly miss. Access and
   * filters then apply to at most a few hundred tickets, ordered here.
   */
  async words(s: SearchQuery): Promise<{ hits: SearchHit[]; total: number; complete: boolean }> {
    const notes = s.scope.kind === 'staff';
    const start = s.scope.kind === 'client' ? await this.ownTickets(s) : await this.probed(s, notes);
    const { matches, complete } = start;
    let ids = start.ids;
    for (const term of start.unchecked) {
      if (!ids.length) break;
      const found = await this.engine.within(this.db, [term], notes, ids);
      ids = ids.filter((id) => found.has(id));
    }
    if (s.excluded.length && ids.length) {
      const found = await this.engine.within(this.db, s.excluded, notes, ids);
      ids = ids.filter((id) => !found.has(id));
    }
    if (!ids.length) return { hits: [], total: 0, complete };
    const order = s.order;
    const rows = await this.db.run((q) => {
      const query = this.filtered(q, q.from('tickets as t').whereIn('t.id', ids), s).select('t.id');
      return order.by === 'relevance' ? query : query.select(q.raw('?? as sort_value', [SORT_COLUMNS[order.by]]));
    });
    const score = (id: number) => matches.reduce((sum, m) => sum + (m.scores.get(id) ?? 0), 0);
    const dir = order.by === 'relevance' ? 'desc' : order.dir;
    const hits: SearchHit[] = rows.map((r: Record<string, unknown>) => ({
      id: Number(r.id), sortValue: order.by === 'relevance' ? score(Number(r.id)) : sortValueOf(r.sort_value),
    }));
    const key = (h: SearchHit) => ({ value: h.sortValue, id: h.id });
    hits.sort((a, b) => (precedes(key(a), key(b), dir) ? -1 : precedes(key(b), key(a), dir) ? 1 : 0));
    const after = s.after;
    const rest = after ? hits.filter((h) => precedes(after, key(h), dir)) : hits;
    return { hits: rest.slice(0, s.limit), total: hits.length, complete };
  }

  /** Candidates from the terms' probes: the rarest term found in full drives (see `words`). */
  private async probed(s: SearchQuery, notes: boolean): Promise<Candidates> {
    const matches = await Promise.all(s.terms.map((term) => this.probe(term, notes)));
    const order = matches.map((m, i) => ({ m, term: s.terms[i]! }))
      .sort((a, b) => Number(b.m.complete) - Number(a.m.complete) || a.m.scores.size - b.m.scores.size);
    const [driver, ...others] = order;
    let ids = [...driver!.m.scores.keys()];
    for (const { m } of others) if (m.complete) ids = ids.filter((id) => m.scores.has(id));
    return { ids, unchecked: others.filter(({ m }) => !m.complete).map(({ term }) => term), matches, complete: driver!.m.complete };
  }

  /** A client's newest tickets under the filters, as many as two probes would give, every term to check. */
  private async ownTickets(s: SearchQuery): Promise<Candidates> {
    const limit = 2 * this.probeRows;
    const rows = await this.db.run((q) => this.filtered(q, q.from('tickets as t'), s).orderBy('t.updated_at', 'desc').limit(limit + 1).pluck('t.id'));
    return { ids: rows.slice(0, limit).map(Number), unchecked: s.terms, matches: [], complete: rows.length <= limit };
  }

  /**
   * One page of a search by filters alone, in keyset order of a column (last activity unless a saved queue's
   * column is chosen): a walk of an index per status, each stopping at a page, merged. Without a status the
   * walk would be "anything but spam", which no index is in order for: the database would sort every ticket
   * the other filters select (a department's 40,000 at 100,000 tickets) for each page.
   */
  async filtersPage(s: SearchQuery): Promise<SearchHit[]> {
    const statuses = s.filters.statuses?.length ? s.filters.statuses : STATUSES;
    const { by, dir } = s.order.by === 'relevance' ? { by: 'updated' as const, dir: 'desc' as const } : s.order;
    const col = SORT_COLUMNS[by];
    const cmp = dir === 'desc' ? '<' : '>';
    const rows = await this.db.run((q) => {
      const pages = statuses.map((status, i) => {
        const query = this.filtered(q, q.from('tickets as t'), { ...s, filters: { ...s.filters, statuses: [status] } }).select('t.id', q.raw('?? as sort_value', [col]));
        if (s.after) {
          const { value, id } = s.after;
          query.where((w) => w.where(col, cmp, value).orWhere((o) => o.where(col, value).where('t.id', cmp, id)));
        }
        return q.from(query.orderBy([{ column: col, order: dir }, { column: 't.id', order: dir }]).limit(s.limit).as(`p${i}`)).select('*');
      });
      const [first, ...rest] = pages;
      return q.from((rest.length ? first!.unionAll(rest) : first!).as('u')).select('*').orderBy([{ column: 'sort_value', order: dir }, { column: 'id', order: dir }]).limit(s.limit);
    });
    return rows.map((r: Record<string, unknown>) => ({ id: Number(r.id), sortValue: sortValueOf(r.sort_value) }));
  }

  /** How many tickets the filters alone select, counting no further than `cap`: past it, "more than", cheaply. */
  async count(s: SearchQuery, cap: number): Promise<number> {
    const [row] = await this.db.run((q) => q.from(this.filtered(q, q.from('tickets as t'), s).select('t.id').limit(cap + 1).as('c')).count({ n: '*' }));
    return Number(row?.n ?? 0);
  }

  /** For each ticket, the text of its newest visible entry that matches (for its snippet). */
  async bestEntries(ticketIds: number[], terms: Term[], notes: boolean): Promise<Map<number, string>> {
    if (!ticketIds.length || !terms.length) return new Map();
    const best = new Map<number, { id: number; text: string }>();
    for (const e of await this.engine.entriesWithin(this.db, terms, notes, ticketIds)) {
      if ((best.get(e.ticketId)?.id ?? 0) < e.id) best.set(e.ticketId, e);
    }
    return new Map([...best].map(([ticketId, e]) => [ticketId, e.text]));
  }

  private async probe(term: Term, notes: boolean): Promise<TermMatch> {
    const { rows, complete } = await this.engine.probe(this.db, term, this.probeRows);
    const scores = new Map<number, number>();
    for (const r of rows) if (notes || !r.note) scores.set(r.ticketId, (scores.get(r.ticketId) ?? 0) + r.score);
    return { scores, complete };
  }

  /**
   * The tickets of `query` (as `t`) that are visible in the scope and pass the filters. A merged ticket is found
   * as its survivor only.
   */
  private filtered(q: Knex, query: Knex.QueryBuilder, s: SearchQuery): Knex.QueryBuilder {
    const scope = s.scope;
    if (scope.kind === 'client') query.where('t.user_id', scope.userId);
    else if (scope.departmentIds) {
      const departmentIds = scope.departmentIds.length ? scope.departmentIds : [0];
      query.where((w) => w.whereIn('t.department_id', departmentIds).orWhere('t.assignee_id', scope.staffId));
    }
    query.whereNull('t.merged_into_id');
    const f = s.filters;
    if (f.statuses?.length) query.whereIn('t.status', f.statuses);
    else query.whereNot('t.status', 'spam');
    if (f.departmentId !== undefined) query.where('t.department_id', f.departmentId);
    if (f.assignee === 'me' && scope.kind === 'staff') query.where('t.assignee_id', scope.staffId);
    if (f.assignee === 'unassigned') query.whereNull('t.assignee_id');
    if (f.assignee === 'someone') query.whereNotNull('t.assignee_id');
    if (f.priority !== undefined) query.where('t.priority', f.priority);
    if (f.source) query.where('t.source', f.source);
    if (f.userId !== undefined) query.where('t.user_id', f.userId);
    if (f.organizationId !== undefined) query.whereIn('t.user_id', q('users').where('organization_id', f.organizationId).select('id'));
    if (f.topicId !== undefined) query.where('t.topic_id', f.topicId);
    if (f.createdFrom) query.where('t.created_at', '>=', toDbTime(f.createdFrom));
    if (f.createdTo) query.where('t.created_at', '<=', toDbTime(f.createdTo));
    if (f.updatedFrom) query.where('t.updated_at', '>=', toDbTime(f.updatedFrom));
    if (f.updatedTo) query.where('t.updated_at', '<=', toDbTime(f.updatedTo));
    if (f.hasAttachments !== undefined) {
      const files = q('attachments as a').whereRaw('a.ticket_id = t.id').select(q.raw('1'));
      if (f.hasAttachments) query.whereExists(files);
      else query.whereNotExists(files);
    }
    return query;
  }
}
