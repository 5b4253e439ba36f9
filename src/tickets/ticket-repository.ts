import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { fromDbTime, fromDbTimeRequired, toDbTime } from '../db/time.js';
import type { Priority, Queue, Sort, Ticket, TicketListRow, TicketSource, TicketStatus } from './ticket.js';

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
}

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

const SORT_COLUMNS: Record<Sort, string> = {
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

export class TicketRepository {
  constructor(private readonly db: Database) {}

  private withNames(q: Knex) {
    return q('tickets as t')
      .join('users as u', 'u.id', 't.user_id')
      .join('user_emails as ue', (j) => j.on('ue.user_id', 'u.id').andOn('ue.is_primary', q.raw('?', [true])))
      .join('departments as d', 'd.id', 't.department_id')
      .leftJoin('staff as s', 's.id', 't.assignee_id')
      .select('t.*', 'u.name as requester_name', 'ue.address as requester_email', 'd.name as department_name', 's.name as assignee_name');
  }

  async insert(t: NewTicket): Promise<number> {
    const at = toDbTime(t.createdAt);
    const [id] = await this.db.run((q) =>
      q('tickets').insert({
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
        created_at: at,
        updated_at: at,
      }),
    );
    return Number(id);
  }

  async findBy(where: { id: number } | { number: string }): Promise<Ticket | null> {
    const r = await this.db.run((q) => {
      const query = this.withNames(q).leftJoin('help_topics as ht', 'ht.id', 't.topic_id').select('ht.name as topic_name');
      return 'id' in where ? query.where('t.id', where.id).first() : query.where('t.number', where.number).first();
    });
    if (!r) return null;
    return {
      ...rowToListRow(r),
      userId: Number(r.user_id),
      topicId: r.topic_id === null ? null : Number(r.topic_id),
      topicName: (r.topic_name as string | null) ?? null,
      source: r.source as TicketSource,
      closedAt: fromDbTime(r.closed_at as string | null),
    };
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
  }

  private applyQueue(query: Knex.QueryBuilder, queue: Queue, staffId: number): void {
    switch (queue) {
      case 'open':
        query.where('t.status', 'open').where('t.is_answered', false);
        break;
      case 'answered':
        query.where('t.status', 'open').where('t.is_answered', true);
        break;
      case 'mine':
        query.where('t.status', 'open').where('t.assignee_id', staffId);
        break;
      case 'unassigned':
        query.where('t.status', 'open').whereNull('t.assignee_id');
        break;
      case 'closed':
        query.whereIn('t.status', ['resolved', 'closed']);
        break;
    }
  }

  /**
   * One page of a queue with keyset pagination: the next page starts after the last row's (sort value, id),
   * so a deep page costs what the first does, however many tickets precede it.
   */
  async queuePage(p: QueueQuery): Promise<TicketListRow[]> {
    const col = SORT_COLUMNS[p.sort];
    const cmp = p.dir === 'desc' ? '<' : '>';
    const rows = await this.db.run((q) => {
      const query = this.withNames(q);
      this.applyQueue(query, p.queue, p.staffId);
      if (p.departmentIds) query.whereIn('t.department_id', p.departmentIds.length ? p.departmentIds : [0]);
      if (p.after) {
        const { value, id } = p.after;
        query.where((w) => w.where(col, cmp, value).orWhere((w2) => w2.where(col, value).where('t.id', cmp, id)));
      }
      return query.orderBy([{ column: col, order: p.dir }, { column: 't.id', order: p.dir }]).limit(p.limit);
    });
    return rows.map(rowToListRow);
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

  /** Counts for every queue in one pass over the counts index. */
  async queueCounts(staffId: number, departmentIds: number[] | null): Promise<Record<Queue, number>> {
    const rows = await this.db.run((q) => {
      const query = q('tickets as t')
        .select('t.status', 't.is_answered', q.raw('CASE WHEN t.assignee_id = ? THEN 1 ELSE 0 END as mine', [staffId]), q.raw('CASE WHEN t.assignee_id IS NULL THEN 1 ELSE 0 END as unassigned'))
        .count({ n: '*' })
        .groupBy('t.status', 't.is_answered', 'mine', 'unassigned');
      if (departmentIds) query.whereIn('t.department_id', departmentIds.length ? departmentIds : [0]);
      return query;
    });
    const out: Record<Queue, number> = { open: 0, mine: 0, unassigned: 0, answered: 0, closed: 0 };
    for (const r of rows as Array<Record<string, unknown>>) {
      const n = Number(r.n);
      if (r.status === 'open') {
        if (Number(r.is_answered)) out.answered += n;
        else out.open += n;
        if (Number(r.mine)) out.mine += n;
        if (Number(r.unassigned)) out.unassigned += n;
      } else {
        out.closed += n;
      }
    }
    return out;
  }

  async listForUser(userId: number, limit: number): Promise<TicketListRow[]> {
    const rows = await this.db.run((q) => this.withNames(q).where('t.user_id', userId).orderBy('t.updated_at', 'desc').limit(limit));
    return rows.map(rowToListRow);
  }
}
