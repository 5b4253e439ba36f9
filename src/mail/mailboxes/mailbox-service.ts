import type { AuditRepository } from '../../audit/audit-repository.js';
import type { Database } from '../../db/database.js';
import { UniqueViolation } from '../../db/errors.js';
import { requireAdmin } from '../../departments/department-service.js';
import type { DirectoryCache } from '../../directory/directory-cache.js';
import type { Department, DepartmentRepository } from '../../departments/department-repository.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../../errors.js';
import type { StaffPrincipal } from '../../staff/staff.js';
import { isPriority } from '../../tickets/ticket.js';
import type { TopicRepository } from '../../topics/topic-repository.js';
import type { Mailbox, MailboxFields, MailboxRepository } from './mailbox-repository.js';

export interface MailboxInput {
  localPart: string;
  departmentId: number;
  topicId: number | null;
  defaultPriority: number;
  autoResponse: boolean;
}

// No "+": it separates the mailbox from a tag (support+billing@ reaches support@).
const LOCAL_PART = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

export const DEFAULT_MAILBOX = 'support';

/** The support addresses at MAIL_DOMAIN, each mapped to a department, a priority and a help topic. */
export class MailboxService {
  constructor(
    private readonly db: Database,
    private readonly mailboxes: MailboxRepository,
    private readonly directory: Pick<DirectoryCache, 'mailboxByLocalPart' | 'mailboxes'>,
    private readonly departments: DepartmentRepository,
    private readonly topics: TopicRepository,
    private readonly audit: AuditRepository,
    readonly mailDomain: string,
    private readonly defaultDepartment: () => Promise<Department | null>,
  ) {}

  list(): Promise<Mailbox[]> {
    return this.mailboxes.list();
  }

  async get(id: number): Promise<Mailbox> {
    const m = await this.mailboxes.get(id);
    if (!m) throw notFound('MAILBOX_NOT_FOUND', 'admin.mailboxes.not_found');
    return m;
  }

  address(m: Pick<Mailbox, 'localPart'>): string {
    return `${m.localPart}@${this.mailDomain}`;
  }

  /**
   * The mailbox an envelope recipient names, or null: only our domain, only defined mailboxes, with any
   * "+tag" ignored. This is what keeps the listener from ever relaying. From the directory cache: a mailbox
   * deleted on any node stops receiving here within DIRECTORY_REFRESH_MS.
   */
  async resolveRecipient(address: string): Promise<Mailbox | null> {
    const at = address.lastIndexOf('@');
    if (at <= 0 || address.slice(at + 1).toLowerCase() !== this.mailDomain.toLowerCase()) return null;
    const local = address.slice(0, at).toLowerCase().split('+')[0]!;
    return LOCAL_PART.test(local) ? this.directory.mailboxByLocalPart(local) : null;
  }

  /** Where mail arriving without a usable recipient (the pipe, the API) goes. */
  async defaultMailbox(): Promise<Mailbox | null> {
    return (await this.directory.mailboxByLocalPart(DEFAULT_MAILBOX)) ?? (await this.directory.mailboxes())[0] ?? null;
  }

  /** First run: `support@` for the default department, with the auto-response on. */
  async ensureDefault(): Promise<void> {
    if ((await this.mailboxes.count()) > 0) return;
    const dept = await this.defaultDepartment();
    if (!dept) return;
    const topic = (await this.topics.all()).find((t) => t.departmentId === dept.id && t.isActive) ?? null;
    try {
      await this.mailboxes.insert({ localPart: DEFAULT_MAILBOX, departmentId: dept.id, topicId: topic?.id ?? null, defaultPriority: topic?.defaultPriority ?? 2, autoResponse: true });
    } catch (err) {
      // Another node starting at the same moment created it.
      if (!(err instanceof UniqueViolation)) throw err;
    }
  }

  /** `current`: the mailbox being edited, which may keep a topic archived since (and no other archived one). */
  private async validate(input: MailboxInput, current: Mailbox | null = null): Promise<MailboxFields> {
    const fields: FieldErrors = {};
    const localPart = input.localPart.trim().toLowerCase().replace(new RegExp(`@${this.mailDomain.replace(/\./g, '\\.')}$`, 'i'), '');
    if (!LOCAL_PART.test(localPart)) fields.localPart = 'admin.mailboxes.errors.local_part';
    const department = await this.departments.get(input.departmentId);
    if (!department || department.archivedAt) fields.departmentId = 'validation.choose_department';
    if (input.topicId !== null) {
      const topic = await this.topics.get(input.topicId);
      if (!topic || (!topic.isActive && topic.id !== current?.topicId)) fields.topicId = 'validation.choose_topic';
    }
    if (!isPriority(input.defaultPriority)) fields.defaultPriority = 'validation.choose_priority';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    return { localPart, departmentId: input.departmentId, topicId: input.topicId, defaultPriority: input.defaultPriority, autoResponse: input.autoResponse };
  }

  async create(actor: StaffPrincipal, input: MailboxInput): Promise<Mailbox> {
    requireAdmin(actor);
    const m = await this.validate(input);
    return this.db.transaction(async () => {
      let id: number;
      try {
        id = await this.mailboxes.insert(m);
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ localPart: 'admin.mailboxes.errors.exists' });
        throw err;
      }
      await this.audit.record({ staffId: actor.staffId, action: 'mailbox.create', objectType: 'mailbox', objectId: id, details: { address: this.address(m) } });
      return (await this.mailboxes.get(id))!;
    });
  }

  async update(actor: StaffPrincipal, id: number, input: MailboxInput): Promise<void> {
    requireAdmin(actor);
    const m = await this.validate(input, await this.get(id));
    await this.db.transaction(async () => {
      try {
        await this.mailboxes.update(id, m);
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ localPart: 'admin.mailboxes.errors.exists' });
        throw err;
      }
      await this.audit.record({ staffId: actor.staffId, action: 'mailbox.update', objectType: 'mailbox', objectId: id, details: { ...m } });
    });
  }

  async delete(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const m = await this.get(id);
    if ((await this.mailboxes.count()) <= 1) {
      throw new AppError('LAST_MAILBOX', 'conflict', 'admin.mailboxes.errors.last_mailbox');
    }
    await this.db.transaction(async () => {
      await this.mailboxes.delete(id);
      await this.audit.record({ staffId: actor.staffId, action: 'mailbox.delete', objectType: 'mailbox', objectId: id, details: { address: this.address(m) } });
    });
  }
}
