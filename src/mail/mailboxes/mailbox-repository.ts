import type { Database } from '../../db/database.js';
import { fromDbTimeRequired, toDbTime, type Clock } from '../../db/time.js';
import { mapTopic, topicColumns, type HelpTopic } from '../../topics/topic-repository.js';
import type { DirectoryVersion } from '../../directory/directory-version.js';

export interface Mailbox {
  id: number;
  /** Lower-cased; the address is `<localPart>@<MAIL_DOMAIN>`. */
  localPart: string;
  departmentId: number;
  departmentName: string;
  topicId: number | null;
  topicName: string | null;
  /** The help topic as read with the mailbox, so that a new ticket from mail needs no second query for it. */
  topic: HelpTopic | null;
  /** The name of the topic's department, which places the mailbox's tickets while the topic is active. */
  topicDepartmentName: string | null;
  defaultPriority: number;
  /** Send the new-ticket auto-response to the requester. */
  autoResponse: boolean;
  createdAt: Date;
}

export type MailboxFields = Pick<Mailbox, 'localPart' | 'departmentId' | 'topicId' | 'defaultPriority' | 'autoResponse'>;

const map = (r: Record<string, unknown>): Mailbox => ({
  id: Number(r.id),
  localPart: r.local_part as string,
  departmentId: Number(r.department_id),
  departmentName: r.department_name as string,
  topicId: r.topic_id === null ? null : Number(r.topic_id),
  topicName: (r.ht_name as string | null) ?? null,
  topic: r.topic_id === null ? null : mapTopic(r, 'ht_'),
  topicDepartmentName: (r.ht_department_name as string | null) ?? null,
  defaultPriority: Number(r.default_priority),
  autoResponse: Boolean(r.auto_response),
  createdAt: fromDbTimeRequired(r.created_at as string),
});

export class MailboxRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
  ) {}

  private base() {
    return this.db.q('mailboxes as m')
      .join('departments as d', 'd.id', 'm.department_id')
      .leftJoin('help_topics as t', 't.id', 'm.topic_id')
      .leftJoin('departments as td', 'td.id', 't.department_id')
      .select('m.*', 'd.name as department_name', ...topicColumns('t', 'ht_'), 'td.name as ht_department_name');
  }

  async list(): Promise<Mailbox[]> {
    return (await this.db.run(() => this.base().orderBy('m.local_part'))).map(map);
  }

  async get(id: number): Promise<Mailbox | null> {
    const r = await this.db.run(() => this.base().where('m.id', id).first());
    return r ? map(r) : null;
  }

  async count(): Promise<number> {
    const r = await this.db.run((q) => q('mailboxes').count({ n: '*' }).first());
    return Number(r?.n ?? 0);
  }

  async insert(m: MailboxFields): Promise<number> {
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) =>
        q('mailboxes').insert({
          local_part: m.localPart,
          department_id: m.departmentId,
          topic_id: m.topicId,
          default_priority: m.defaultPriority,
          auto_response: m.autoResponse,
          created_at: toDbTime(this.clock.now()),
        }),
      );
      await this.version.bump();
      return Number(id);
    });
  }

  async update(id: number, m: MailboxFields): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) =>
        q('mailboxes').where({ id }).update({
          local_part: m.localPart,
          department_id: m.departmentId,
          topic_id: m.topicId,
          default_priority: m.defaultPriority,
          auto_response: m.autoResponse,
        }),
      );
      await this.version.bump();
    });
  }

  async delete(id: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run((q) => q('mailboxes').where({ id }).delete());
      await this.version.bump();
    });
  }
}
