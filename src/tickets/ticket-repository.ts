import { randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import { ticketTokens } from '../search/search-index.js';
import { CountCache } from '../cache/count-cache.js';
import type { Database, PreparedSelect } from '../db/database.js';
import { UniqueViolation } from '../db/errors.js';
import { fromDbTime, fromDbTimeRequired, toDbTime } from '../db/time.js';
import type { Priority, Queue, RequesterTicket, Sort, Ticket, TicketListRow, TicketSource, TicketStatus } from './ticket.js';

export interface NewTicket {
  number: string;
  subject: string;
  userId: number;
  departmentId: number;
  topicId: number | null;
  assigneeId: number | null;
  priority: Priority;
  source: TicketSource;
  createdAt: Date;
  mailboxId?: number | null;
  /** The requester and anyone copied: search finds the ticket by their names and addresses. */
  people?: Array<{ name: string; email: string }>;
}

/**
 * The columns a Ticket is read from: never `t.*`, which on MySQL would carry each ticket's search tokens along
 * to every queue row.
 */
const TICKET_COLUMNS = ['id', 'number', 'subject', 'user_id', 'department_id', 'topic_id', 'assignee_id', 'status', 'is_answered', 'priority', 'source', 'mailbox_id', 'created_at', 'updated_at', 'closed_at', 'access_epoch', 'merged_into_id'].map((c) => `t.${c}`);

export interface QueueQuery {
  queue: Queue;
  staffId: number;
  /** null: every department (administrators). */
  departmentIds: number[] | null;
  sort: Sort;
  dir: 'asc' | 'desc';
  after: { value: string | number; id: number } | null;
  limit: number;
}

/** Which tickets an agent sees: their departments' and those assigned to them; `departmentIds` null: all. */
export interface TicketVisibility {
  staffId: number;
  departmentIds: number[] | null;
}

/** Whose tickets a person's or an organization's page lists. */
export type RequesterScope = { userId: number } | { organizationId: number };

/** The column each queue sort orders by, as `t` (the tickets table) names it: also what search results sort by. */
export const SORT_COLUMNS: Record<Sort, string> = {
  updated: 't.updated_at',
  created: 't.created_at',
  number: 't.number',
  priority: 't.priority',
  subject: 't.subject',
};

const rowToListRow = (r: Record<string, unknown>): TicketListRow => ({
  id: Number(r.id),
  number: r.number as string,
  subject: r.subject as string,
  requesterName: r.requester_name as string,
  requesterEmail: r.requester_email as string,
  departmentId: Number(r.department_id),
  departmentName: r.department_name as string,
  assigneeId: r.assignee_id === null ? null : Number(r.assignee_id),
  assigneeName: (r.assignee_name as string | null) ?? null,
  status: r.status as TicketStatus,
  isAnswered: Boolean(r.is_answered),
  priority: Number(r.priority) as Priority,
  createdAt: fromDbTimeRequired(r.created_at as string),
  updatedAt: fromDbTimeRequired(r.updated_at as string),
});

/** A ticket read with its names (`withTopic`). */
const toTicket = (r: Record<string, unknown>): Ticket => ({
  ...rowToListRow(r),
  userId: Number(r.user_id),
  topicId: r.topic_id === null ? null : Number(r.topic_id),
  topicName: (r.topic_name as string | null) ?? null,
  requesterLanguage: (r.requester_language as string | null) ?? null,
  source: r.source as TicketSource,
  closedAt: fromDbTime(r.closed_at as string | null),
  mailboxId: r.mailbox_id === null || r.mailbox_id === undefined ? null : Number(r.mailbox_id),
  accessEpoch: Number(r.access_epoch ?? 0),
  mergedIntoId: r.merged_into_id === null || r.merged_into_id === undefined ? null : Number(r.merged_into_id),
});

/** How long queue counts are reused (a node's own ticket changes drop them at once; see cache/count-cache.ts). */
export const COUNTS_TTL_MS = 10_000;

export class TicketRepository {
  /** A ticket with its names, by id or by number: built once, read on every ticket page and most actions. */
  private readonly byId: PreparedSelect<{ id: number }>;
  private readonly byNumber: PreparedSelect<{ number: string }>;
  private readonly insertRow: (row: Record<string, unknown>) => Promise<number>;
  private readonly joined = new Map<string, PreparedSelect<{ number: string }>>();
  private readonly extrasBy = new Map<string, PreparedSelect<{ ticketId: number }>>();

  constructor(
    private readonly db: Database,
    /** The queue counts, built-in and saved: a change that can move a ticket between queues makes them stale. */
    private readonly counts: CountCache = new CountCache(COUNTS_TTL_MS),
  ) {
    this.byId = db.select<{ id: number }>((q, p) => this.withTopic(q).where('t.id', p.id).first());
    this.byNumber = db.select<{ number: string }>((q, p) => this.withTopic(q).where('t.number', p.number).first());
    this.insertRow = db.inserter('tickets');
  }

  /** Ticket rows (`t`: the table, or a page of it) with the names a list or a ticket page shows. */
  private withNames(q: Knex, from: Knex.QueryBuilder | string = 'tickets as t') {
    return q
      .from(from)
      .join('users as u', 'u.id', 't.user_id')
      .join('user_emails as ue', (j) => j.on('ue.user_id', 'u.id').andOn('ue.is_primary', q.raw('?', [true])))
      .join('departments as d', 'd.id', 't.department_id')
      .leftJoin('staff as s', 's.id', 't.assignee_id')
      .select(...TICKET_COLUMNS, 'u.name as requester_name', 'ue.address as requester_email', 'd.name as department_name', 's.name as assignee_name');
  }

  async insert(t: NewTicket): Promise<number> {
    const at = toDbTime(t.createdAt);
    const id = await this.insertRow({
      number: t.number,
      subject: t.subject,
      user_id: t.userId,
      department_id: t.departmentId,
      topic_id: t.topicId,
      assignee_id: t.assigneeId,
      status: 'open',
      is_answered: false,
      priority: t.priority,
      source: t.source,
      mailbox_id: t.mailboxId ?? null,
      created_at: at,
      updated_at: at,
      // Indexed by the same INSERT (migration 0026).
      search_tokens: ticketTokens({ number: t.number, subject: t.subject, people: t.people ?? [] }),
    });
    this.counts.changed();
    return id;
  }

  /** Inserts under a fresh random number (unguessable, DESIGN.md §4), drawing again on the rare collision. */
  async insertNumbered(t: Omit<NewTicket, 'number'>): Promise<{ id: number; number: string }> {
    for (let attempt = 0; ; attempt++) {
      const number = String(randomInt(10_000_000, 100_000_000));
      try {
        return { id: await this.insert({ ...t, number }), number };
      } catch (err) {
        if (!(err instanceof UniqueViolation) || attempt > 5) throw err;
      }
    }
  }

  private withTopic(q: Knex) {
    return this.withNames(q).leftJoin('help_topics as ht', 'ht.id', 't.topic_id').select('ht.name as topic_name', 'u.language as requester_language');
  }

  async findBy(where: { id: number } | { number: string }): Promise<Ticket | null> {
    const [r] = 'id' in where ? await this.byId(where) : await this.byNumber(where);
    return r ? toTicket(r) : null;
  }

  /**
   * A ticket by number with more joined to it (`join` adds to the query over `t`, e.g. its thread): one row per
   * joined row, the ticket's columns on each. Built once per `shape` name, which must name one `join`.
   */
  async findWithRows(number: string, shape: string, join: (q: Knex, tickets: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<{ ticket: Ticket | null; rows: Array<Record<string, unknown>> }> {
    let select = this.joined.get(shape);
    if (!select) {
      select = this.db.select<{ number: string }>((q, p) => join(q, this.withTopic(q).where('t.number', p.number)));
      this.joined.set(shape, select);
    }
    const rows = await select({ number });
    return { ticket: rows[0] ? toTicket(rows[0]) : null, rows };
  }

  /**
   * What a page shows beside a ticket's thread (its history, its collaborators…) in one statement of scalar
   * subqueries, each written by the repository that owns the table: `columns` maps a result name to a function
   * of the SQL that stands for the ticket's id. `shape` names the set of columns (the statement is prepared once).
   */
  async extras<K extends string>(shape: string, ticketId: number, columns: Record<K, (ticketIdSql: string) => string>): Promise<Record<K, unknown>> {
    let select = this.extrasBy.get(shape);
    if (!select) {
      // The id is bound once, as a one-row derived table; each column's SQL names it as often as it needs.
      select = this.db.select<{ ticketId: number }>((q, p) =>
        q.select(Object.entries<(id: string) => string>(columns).map(([name, sql]) => q.raw(`${sql('x.id')} AS ${name}`))).from(q.raw('(SELECT ? AS id) AS x', [p.ticketId])),
      );
      this.extrasBy.set(shape, select);
    }
    return ((await select({ ticketId }))[0] ?? {}) as Record<K, unknown>;
  }

  /** Several tickets in one query, for work done in batches (the pending alerts); missing ids are left out. */
  async findByIds(ids: number[]): Promise<Ticket[]> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) => this.withTopic(q).whereIn('t.id', ids));
    return rows.map(toTicket);
  }

  /** Tickets by number in one query, for actions on many at once (bulk actions); missing numbers are left out. */
  /** Queue rows of these tickets, in no particular order (search results: search/search-service.ts). */
  async listRows(ids: number[]): Promise<TicketListRow[]> {
    if (!ids.length) return [];
    const rows = await this.db.run((q) => this.withNames(q).whereIn('t.id', ids));
    return rows.map(rowToListRow);
  }

  async findByNumbers(numbers: string[]): Promise<Ticket[]> {
    if (!numbers.length) return [];
    const rows = await this.db.run((q) => this.withTopic(q).whereIn('t.number', numbers));
    return rows.map(toTicket);
  }

  /**
   * Deletes the ticket row; its thread, attachment links, locks, drafts, collaborators and presence go with it
   * (ON DELETE CASCADE), and outbox and inbound rows keep their content with ticket_id set to NULL.
   */
  async delete(id: number): Promise<boolean> {
    const n = await this.db.run((q) => q('tickets').where({ id }).delete());
    this.counts.changed();
    return n > 0;
  }

  /** Tickets marked as spam before `cutoff` (closed_at holds when), for the retention job. */
  async spamBefore(cutoff: Date, limit: number): Promise<Array<{ id: number; number: string; subject: string }>> {
    const rows = await this.db.run((q) => q('tickets').where('status', 'spam').where('closed_at', '<', toDbTime(cutoff)).orderBy('id').limit(limit).select('id', 'number', 'subject'));
    return rows.map((r) => ({ id: Number(r.id), number: String(r.number), subject: String(r.subject) }));
  }

  async update(
    id: number,
    fields: Partial<{ status: TicketStatus; isAnswered: boolean; priority: Priority; departmentId: number; assigneeId: number | null; closedAt: Date | null; updatedAt: Date }>,
  ): Promise<void> {
    const row: Record<string, unknown> = {};
    if (fields.status !== undefined) row.status = fields.status;
    if (fields.isAnswered !== undefined) row.is_answered = fields.isAnswered;
    if (fields.priority !== undefined) row.priority = fields.priority;
    if (fields.departmentId !== undefined) row.department_id = fields.departmentId;
    if (fields.assigneeId !== undefined) row.assignee_id = fields.assigneeId;
    if (fields.closedAt !== undefined) row.closed_at = fields.closedAt ? toDbTime(fields.closedAt) : null;
    if (fields.updatedAt !== undefined) row.updated_at = toDbTime(fields.updatedAt);
    await this.db.run((q) => q('tickets').where({ id }).update(row));
    // Priority moves no ticket between the built-in queues, but a saved queue may filter by it.
    if (row.status !== undefined || row.is_answered !== undefined || row.priority !== undefined || row.department_id !== undefined || row.assignee_id !== undefined) this.counts.changed();
  }

  /** Revokes the ticket's access links: they are signed with the epoch this bumps. */
  async bumpAccessEpoch(id: number): Promise<void> {
    await this.db.run((q) => q('tickets').where({ id }).increment('access_epoch', 1));
  }

  /** Tickets assigned to an agent outside the given departments (all of them for an empty list). */
  async assignedOutside(staffId: number, departmentIds: number[]): Promise<Array<{ id: number; number: string; departmentId: number }>> {
    const rows = await this.db.run((q) => q('tickets').where('assignee_id', staffId).whereNotIn('department_id', departmentIds).select('id', 'number', 'department_id'));
    return rows.map((r) => ({ id: Number(r.id), number: String(r.number), departmentId: Number(r.department_id) }));
  }

  /** The statuses a queue spans, and its other conditions. */
  private queueFilter(queue: Queue, staffId: number): { statuses: TicketStatus[]; apply: (query: Knex.QueryBuilder) => void } {
    switch (queue) {
      case 'open':
        return { statuses: ['open'], apply: (query) => query.where('t.is_answered', false) };
      case 'answered':
        return { statuses: ['open'], apply: (query) => query.where('t.is_answered', true) };
      case 'mine':
        return { statuses: ['open'], apply: (query) => query.where('t.assignee_id', staffId) };
      case 'unassigned':
        return { statuses: ['open'], apply: (query) => query.whereNull('t.assignee_id') };
      case 'closed':
        return { statuses: ['resolved', 'closed'], apply: () => undefined };
    }
  }

  /**
   * One page of a queue with keyset pagination: the next page starts after the last row's (sort value, id),
   * so a deep page costs what the first does, however many tickets precede it.
   */
  async queuePage(p: QueueQuery): Promise<TicketListRow[]> {
    const col = SORT_COLUMNS[p.sort];
    const cmp = p.dir === 'desc' ? '<' : '>';
    const order = [{ column: col, order: p.dir }, { column: 't.id', order: p.dir }];
    const filter = this.queueFilter(p.queue, p.staffId);
    const rows = await this.db.run((q) => {
      const pageOf = (status: TicketStatus) => {
        const query = q('tickets as t').select(TICKET_COLUMNS).where('t.status', status);
        filter.apply(query);
        if (p.departmentIds) query.whereIn('t.department_id', p.departmentIds.length ? p.departmentIds : [0]);
        if (p.after) {
          const { value, id } = p.after;
          // The inclusive bound gives both engines a range to seek into; with the OR alone SQLite walks the
          // queue from its top, so page 200 read 5,000 index entries to return 25 rows.
          query.where(col, `${cmp}=`, value).where((w) => w.where(col, cmp, value).orWhere('t.id', cmp, id));
        }
        return query.orderBy(order).limit(p.limit);
      };
      // One ordered, limited page per status, merged: an IN list over statuses cannot be read in index order,
      // so the Closed queue (resolved + closed) would sort every closed ticket on each view.
      const [first, ...rest] = filter.statuses.map((status, i) => q.select('*').from(pageOf(status).as(`s${i}`)));
      const page = rest.length ? first!.unionAll(rest) : first!;
      // The page is chosen from tickets alone and only its rows get names joined: with the joins in the same
      // query, MariaDB started from departments and sorted the whole queue (150 ms for page 1 at 100,000).
      return this.withNames(q, page.as('t'))
        .leftJoin('tickets as mt', 'mt.id', 't.merged_into_id')
        .select('mt.number as merged_into_number')
        .orderBy(order)
        .limit(p.limit);
    });
    return rows.map((r: Record<string, unknown>) => ({ ...rowToListRow(r), mergedIntoNumber: (r.merged_into_number as string | null) ?? null }));
  }

  sortValue(row: TicketListRow, sort: Sort): string | number {
    switch (sort) {
      case 'updated':
        return toDbTime(row.updatedAt);
      case 'created':
        return toDbTime(row.createdAt);
      case 'number':
        return row.number;
      case 'priority':
        return row.priority;
      case 'subject':
        return row.subject;
    }
  }

  /** Counts for every queue, reused per agent and department filter (cache/count-cache.ts). */
  async queueCounts(staffId: number, departmentIds: number[] | null): Promise<Record<Queue, number>> {
    const key = `queues:${staffId}:${departmentIds ? departmentIds.join(',') : '*'}`;
    return { ...(await this.counts.get(key, () => this.countQueries(staffId, departmentIds))) };
  }

  /** Two index-only scans: open tickets over tickets_open_counts_idx, resolved and closed ones counted apart. */
  private async countQueries(staffId: number, departmentIds: number[] | null): Promise<Record<Queue, number>> {
    const visible = (query: Knex.QueryBuilder) => {
      if (departmentIds) query.whereIn('t.department_id', departmentIds.length ? departmentIds : [0]);
      return query;
    };
    const [open, closed] = await Promise.all([
      this.db.run((q) =>
        visible(
          q('tickets as t')
            .where('t.status', 'open')
            .select(
              q.raw('COUNT(*) as n'),
              q.raw('SUM(CASE WHEN t.is_answered = ? THEN 1 ELSE 0 END) as answered', [true]),
              q.raw('SUM(CASE WHEN t.assignee_id = ? THEN 1 ELSE 0 END) as mine', [staffId]),
              q.raw('SUM(CASE WHEN t.assignee_id IS NULL THEN 1 ELSE 0 END) as unassigned'),
            ),
        ).first(),
      ),
      this.db.run((q) => visible(q('tickets as t').whereIn('t.status', ['resolved', 'closed']).count({ n: '*' })).first()),
    ]);
    const answered = Number(open?.answered ?? 0);
    return {
      open: Number(open?.n ?? 0) - answered,
      answered,
      mine: Number(open?.mine ?? 0),
      unassigned: Number(open?.unassigned ?? 0),
      closed: Number(closed?.n ?? 0),
    };
  }

  /**
   * A requester's other tickets in the given departments (null: all), open ones first, then by last activity:
   * what the agent wants to know about the person asking. Only the ticket row, on its user index.
   */
  async othersOfRequester(userId: number, exceptId: number, departmentIds: number[] | null, limit: number): Promise<RequesterTicket[]> {
    if (departmentIds?.length === 0) return [];
    const rows = await this.db.run((q) => {
      const query = q('tickets').where('user_id', userId).whereNot('id', exceptId);
      if (departmentIds) query.whereIn('department_id', departmentIds);
      return query.orderByRaw("CASE WHEN status = 'open' THEN 0 ELSE 1 END").orderBy('updated_at', 'desc').limit(limit).select('number', 'subject', 'status', 'updated_at');
    });
    return rows.map((r) => ({ number: r.number as string, subject: r.subject as string, status: r.status as TicketStatus, updatedAt: fromDbTimeRequired(r.updated_at as string) }));
  }

  async listForUser(userId: number, limit: number): Promise<TicketListRow[]> {
    const rows = await this.db.run((q) => this.withNames(q).where('t.user_id', userId).orderBy('t.updated_at', 'desc').limit(limit));
    return rows.map(rowToListRow);
  }

  /** Restricts `t` to what the agent sees (TicketService.canStaffSee, as SQL). */
  private visibleTo(query: Knex.QueryBuilder, v: TicketVisibility): Knex.QueryBuilder {
    const ids = v.departmentIds;
    return ids ? query.where((w) => w.whereIn('t.department_id', ids.length ? ids : [0]).orWhere('t.assignee_id', v.staffId)) : query;
  }

  /**
   * A person's or an organization's tickets that the agent sees, newest activity first, a page after
   * (updated_at, id): keyset, on the user index (or the organization's members' rows). Merged aliases left out.
   */
  async pageForRequester(scope: RequesterScope, v: TicketVisibility, after: { updatedAt: string; id: number } | null, limit: number): Promise<TicketListRow[]> {
    const rows = await this.db.run((q) => {
      const page = q('tickets as t').select(TICKET_COLUMNS).whereNull('t.merged_into_id');
      if ('userId' in scope) page.where('t.user_id', scope.userId);
      else page.whereIn('t.user_id', q('users').where('organization_id', scope.organizationId).select('id'));
      this.visibleTo(page, v);
      if (after) page.where('t.updated_at', '<=', after.updatedAt).where((w) => w.where('t.updated_at', '<', after.updatedAt).orWhere('t.id', '<', after.id));
      const order = [{ column: 't.updated_at', order: 'desc' }, { column: 't.id', order: 'desc' }];
      return this.withNames(q, page.orderBy(order).limit(limit).as('t')).orderBy(order);
    });
    return rows.map(rowToListRow);
  }

  /** Open tickets per requester among those the agent sees; a requester with none is absent. */
  async openCountsByRequester(userIds: number[], v: TicketVisibility): Promise<Map<number, number>> {
    if (!userIds.length) return new Map();
    const rows = await this.db.run((q) =>
      this.visibleTo(q('tickets as t').whereIn('t.user_id', userIds).where('t.status', 'open').whereNull('t.merged_into_id'), v)
        .groupBy('t.user_id')
        .select('t.user_id', q.raw('count(*) as n')),
    );
    return new Map(rows.map((r: Record<string, unknown>) => [Number(r.user_id), Number(r.n)]));
  }

  /** All of them, whoever sees them: what a user merge is about to move. */
  async countForRequester(userId: number): Promise<number> {
    const r = await this.db.run((q) => q('tickets').where('user_id', userId).count({ n: '*' }).first());
    return Number(r?.n ?? 0);
  }

  /** A user merge: every ticket of one requester becomes the other's. */
  async moveRequester(fromUserId: number, toUserId: number): Promise<number> {
    return this.db.run((q) => q('tickets').where('user_id', fromUserId).update({ user_id: toUserId }));
  }
}
