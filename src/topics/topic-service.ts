import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import { UniqueViolation, refusingDuplicates } from '../db/errors.js';
import type { DepartmentRepository } from '../departments/department-repository.js';
import { requireAdmin } from '../departments/department-service.js';
import type { DirectoryCache } from '../directory/directory-cache.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { isPriority } from '../tickets/ticket.js';
import type { HelpTopic, TopicFields, TopicRepository, TopicUsage } from './topic-repository.js';
import { descendants, topicTree, wouldCycle, type TopicNode } from './topic-tree.js';

/** The topic a new ticket gets when nothing else names one (mail to a mailbox without a topic, say). */
export const DEFAULT_TOPIC_KEY = 'tickets.default_topic';

export type TopicInput = Omit<TopicFields, 'isActive'>;

const NAME_MAX = 120;
/** Two racing saves that both found the name free: the unique key refuses the second, told as the check would. */
const DUPLICATE_NAME: FieldErrors = { name: 'admin.topics.errors.duplicate_name' };

export interface TopicServiceDeps {
  db: Database;
  topics: TopicRepository;
  departments: DepartmentRepository;
  settings: SettingsRepository;
  audit: AuditRepository;
  version: DirectoryVersion;
  /** Department members as every node caches them: who a topic may assign to. */
  directory: Pick<DirectoryCache, 'departmentMembers'>;
}

/**
 * Help topics (issue 12, item 1): what they route to, where they are offered, their order and nesting. An
 * archived topic's subtopics are archived with it, so an active topic always has active ancestors and "offered"
 * needs no look at the tree.
 */
export class TopicService {
  constructor(private readonly d: TopicServiceDeps) {}

  /** Every topic in display order with its full name, archived ones included: the admin list. */
  async tree(): Promise<TopicNode[]> {
    return topicTree(await this.d.topics.all());
  }

  /** The topics offered for a new ticket, in display order: public ones only for the portal. */
  async list(opts: { publicOnly?: boolean } = {}): Promise<TopicNode[]> {
    return (await this.tree()).filter((t) => t.isActive && (!opts.publicOnly || t.isPublic));
  }

  async get(id: number): Promise<HelpTopic> {
    const t = await this.d.topics.get(id);
    if (!t) throw notFound('TOPIC_NOT_FOUND', 'admin.topics.not_found');
    return t;
  }

  usage(id: number): Promise<TopicUsage> {
    return this.d.topics.usage(id);
  }

  /** The default topic setting, if it names an active topic. */
  async defaultTopic(): Promise<HelpTopic | null> {
    const id = Number(await this.d.settings.get(DEFAULT_TOPIC_KEY));
    const t = Number.isInteger(id) && id > 0 ? await this.d.topics.get(id) : null;
    return t?.isActive ? t : null;
  }

  /** Sets the default topic; null for none (the default department then decides alone). */
  async setDefault(actor: StaffPrincipal, id: number | null): Promise<void> {
    requireAdmin(actor);
    const t = await this.checkDefault(id);
    await this.d.db.transaction(async () => {
      await this.d.version.bump();
      if (t) await this.d.settings.set(DEFAULT_TOPIC_KEY, String(t.id));
      else await this.d.settings.delete(DEFAULT_TOPIC_KEY);
      await this.d.audit.record({ staffId: actor.staffId, action: 'settings.default_topic', objectType: 'help_topic', objectId: t?.id ?? 0, details: { name: t?.name ?? null } });
    });
  }

  /** The topic `setDefault(id)` would store, or its refusal: for a form that saves other settings with it. */
  async checkDefault(id: number | null): Promise<HelpTopic | null> {
    const t = id === null ? null : await this.d.topics.get(id);
    if (id !== null && !t?.isActive) throw new ValidationError({ defaultTopicId: 'validation.choose_topic' });
    return t;
  }

  /** First run: the first topic, for the first department, unless a topic exists. */
  async ensureFirst(name: string, departmentId: number): Promise<void> {
    if ((await this.d.topics.all()).length > 0) return;
    await this.d.topics.insert({ name, departmentId, defaultPriority: 2, isPublic: true, isActive: true }).catch((err: unknown) => {
      // Another node starting at the same moment created it.
      if (!(err instanceof UniqueViolation)) throw err;
    });
  }

  async create(actor: StaffPrincipal, input: TopicInput): Promise<HelpTopic> {
    requireAdmin(actor);
    const fields = await this.validate(null, input);
    return this.d.db.transaction(async () => {
      const id = await refusingDuplicates(() => this.d.topics.insert({ ...fields, isActive: true }), DUPLICATE_NAME);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.create', objectType: 'help_topic', objectId: id, details: { name: fields.name } });
      return (await this.d.topics.get(id))!;
    });
  }

  async update(actor: StaffPrincipal, id: number, input: TopicInput): Promise<void> {
    requireAdmin(actor);
    const current = await this.get(id);
    const fields = await this.validate(current, input);
    await this.d.db.transaction(async () => {
      await refusingDuplicates(() => this.d.topics.update(id, fields), DUPLICATE_NAME);
      // A topic moved under another parent goes last there.
      if (fields.parentId !== current.parentId) await this.d.topics.reorder([...(await this.siblings(fields.parentId)).filter((s) => s !== id), id]);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.update', objectType: 'help_topic', objectId: id, details: { ...fields } });
    });
  }

  /** One place up or down among its siblings; at either end, nothing changes. */
  async move(actor: StaffPrincipal, id: number, direction: 'up' | 'down'): Promise<void> {
    requireAdmin(actor);
    const t = await this.get(id);
    await this.d.db.transaction(async () => {
      const ids = await this.siblings(t.parentId);
      const at = ids.indexOf(id);
      const to = direction === 'up' ? at - 1 : at + 1;
      if (at < 0 || to < 0 || to >= ids.length) return;
      [ids[at], ids[to]] = [ids[to]!, ids[at]!];
      await this.d.topics.reorder(ids);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.move', objectType: 'help_topic', objectId: id, details: { name: t.name, direction } });
    });
  }

  /** Archives a topic and its subtopics: their tickets keep them; nothing new is offered them. */
  async archive(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const t = await this.get(id);
    await this.d.db.transaction(async () => {
      const ids = [id, ...descendants(await this.d.topics.all(), id)];
      await this.d.topics.setActive(ids, false);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.archive', objectType: 'help_topic', objectId: id, details: { name: t.name, topics: ids } });
    });
  }

  /** Restores a topic alone (its subtopics stay archived until restored one by one); never under an archived parent. */
  async restore(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const t = await this.get(id);
    if (t.isActive) return;
    if (t.parentId !== null && !(await this.d.topics.get(t.parentId))?.isActive) {
      throw new AppError('TOPIC_PARENT_ARCHIVED', 'conflict', 'admin.topics.errors.parent_archived');
    }
    await this.d.db.transaction(async () => {
      await this.d.topics.setActive([id], true);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.restore', objectType: 'help_topic', objectId: id, details: { name: t.name } });
    });
  }

  /** Deletes a topic nothing names: no ticket, mailbox or subtopic, and not the default. */
  async delete(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const t = await this.get(id);
    await this.d.db.transaction(async () => {
      const u = await this.d.topics.usage(id);
      const isDefault = (await this.d.settings.get(DEFAULT_TOPIC_KEY)) === String(id);
      if (u.tickets || u.mailboxes || u.children || isDefault) throw new AppError('TOPIC_IN_USE', 'conflict', 'admin.topics.errors.in_use');
      await this.d.topics.delete(id);
      await this.d.audit.record({ staffId: actor.staffId, action: 'topic.delete', objectType: 'help_topic', objectId: id, details: { name: t.name } });
    });
  }

  /** The ids of the topics under one parent, in their order. */
  private async siblings(parentId: number | null): Promise<number[]> {
    return (await this.d.topics.all()).filter((t) => t.parentId === parentId).map((t) => t.id);
  }

  private async validate(current: HelpTopic | null, input: TopicInput): Promise<TopicInput> {
    const fields: FieldErrors = {};
    const name = input.name.trim();
    const all = await this.d.topics.all();
    if (!name) fields.name = 'validation.enter_name';
    else if (name.length > NAME_MAX) fields.name = msg('validation.too_long', { max: NAME_MAX });
    // Unique among its siblings regardless of case, as the unique key on the name says (topicNameKey).
    else if (all.some((t) => t.id !== current?.id && t.parentId === input.parentId && t.name.trim().toLowerCase() === name.toLowerCase())) fields.name = 'admin.topics.errors.duplicate_name';
    if (input.parentId !== null) {
      const parent = all.find((t) => t.id === input.parentId);
      if (!parent || !parent.isActive) fields.parentId = 'validation.choose_topic';
      else if (current && wouldCycle(all, current.id, parent.id)) fields.parentId = 'admin.topics.errors.parent_cycle';
    }
    const department = Number.isInteger(input.departmentId) && input.departmentId > 0 ? await this.d.departments.get(input.departmentId) : null;
    if (!department || department.archivedAt) fields.departmentId = 'validation.choose_department';
    if (!isPriority(input.defaultPriority)) fields.defaultPriority = 'validation.choose_priority';
    if (input.assignStaffId !== null && department && !(await this.d.directory.departmentMembers(department.id)).some((s) => s.id === input.assignStaffId)) {
      fields.assignStaffId = 'admin.topics.errors.assignee_not_member';
    }
    if (Object.keys(fields).length) throw new ValidationError(fields);
    return { ...input, name };
  }
}
