import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { toDbTime } from '../db/time.js';
import { SORT_COLUMNS } from '../tickets/ticket-repository.js';
import type { Sort, TicketSource, TicketStatus } from '../tickets/ticket.js';
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

/** The SQL of search: which tickets match, in what order, how many, and which entry matched best. */
export class SearchRepository {
  constructor(
    private readonly db: Database,
    private readonly engine: SearchEngine,
  ) {}

  /**
   * One page, in keyset order. With `total`, each row also carries how many tickets match in all, counted by
   * the same statement: with words, every match is read anyway to order them, so a count of its own would
   * read them all a second time.
   */
  async page(s: SearchQuery, total = false): Promise<{ hits: SearchHit[]; total: number }> {
    // Relevance comes with words only (SearchService orders a search without them by last activity).
    const order = s.order;
    const byScore = order.by === 'relevance';
    const col = byScore ? 'h.score' : SORT_COLUMNS[order.by];
    const dir = byScore ? 'desc' : order.dir;
    const cmp = dir === 'desc' ? '<' : '>';
    const rows = await this.db.run((q) => {
      const query = this.matchingTickets(q, s).select('t.id', q.raw('?? as sort_value', [col]));
      if (total) query.select(q.raw('count(*) over () as total'));
      if (s.after) {
        const { value, id } = s.after;
        query.where((w) => w.where(col, cmp, value).orWhere((o) => o.where(col, value).where('t.id', cmp, id)));
      }
      return query.orderBy([{ column: col, order: dir }, { column: 't.id', order: dir }]).limit(s.limit);
    });
    return {
      hits: rows.map((r: Record<string, unknown>) => ({ id: Number(r.id), sortValue: byScore ? Number(r.sort_value) : (r.sort_value as number | string) })),
      total: Number(rows[0]?.total ?? 0),
    };
  }

  /**
   * How many tickets match, counting no further than `cap`: a count past it says "more than", cheaply. For
   * filters alone, where a page reads only its own rows in index order.
   */
  async count(s: SearchQuery, cap: number): Promise<number> {
    const [row] = await this.db.run((q) => q.from(this.matchingTickets(q, s).select('t.id').limit(cap + 1).as('c')).count({ n: '*' }));
    return Number(row?.n ?? 0);
  }

  /** For each ticket, the text of the visible entry that matched best (for its snippet). */
  async bestEntries(ticketIds: number[], terms: Term[], notes: boolean): Promise<Map<number, string>> {
    if (!ticketIds.length || !terms.length) return new Map();
    const rows = await this.db.run((q) =>
      this.engine.matchingEntries(q, terms, notes).whereIn('e.ticket_id', ticketIds).orderBy([{ column: 'score', order: 'desc' }, { column: 'e.id', order: 'desc' }]),
    );
    const best = new Map<number, string>();
    for (const r of rows) if (!best.has(Number(r.ticket_id))) best.set(Number(r.ticket_id), r.body_text as string);
    return best;
  }

  /**
   * Tickets visible in the scope that match every term (each anywhere in the ticket: its fields or any entry
   * the searcher may see) and no excluded one, under the filters. With terms, `h.score` is the sum of the
   * engine's relevance over the matching rows. Exclusions count only beside terms (query.ts drops them alone):
   * they are one more branch of the same aggregate, tagged -1. As a NOT IN of their own, MariaDB ran their
   * MATCH once per candidate ticket (17 s for "invoice -refund" at 10,000 tickets).
   */
  private matchingTickets(q: Knex, s: SearchQuery): Knex.QueryBuilder {
    const notes = s.scope.kind === 'staff';
    let query: Knex.QueryBuilder;
    if (s.terms.length) {
      // The tag is written into the SQL, not bound: knex would bind it ahead of the subquery's values.
      const branch = (terms: Term[], tag: number) => q.from(this.engine.matching(q, terms, notes).as(`m${tag + 1}`)).select('ticket_id', 'score', q.raw(`${tag} as term`));
      const [first, ...rest] = [...s.terms.map((term, i) => branch([term], i)), ...(s.excluded.length ? [branch(s.excluded, -1)] : [])];
      const union = rest.length ? first!.unionAll(rest) : first!;
      const hits = q.from(union.as('u')).groupBy('ticket_id').select('ticket_id', q.raw('SUM(score) as score'));
      if (rest.length) {
        hits.having(q.raw('count(distinct term)'), '=', s.terms.length).having(q.raw('min(term)'), '>=', 0);
      }
      query = q.from(hits.as('h')).join('tickets as t', 't.id', 'h.ticket_id').select('h.score');
    } else {
      query = q.from('tickets as t');
    }
    const scope = s.scope;
    if (scope.kind === 'client') query.where('t.user_id', scope.userId);
    else if (scope.departmentIds) {
      const departmentIds = scope.departmentIds.length ? scope.departmentIds : [0];
      query.where((w) => w.whereIn('t.department_id', departmentIds).orWhere('t.assignee_id', scope.staffId));
    }
    // A merged ticket is found as its survivor.
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
