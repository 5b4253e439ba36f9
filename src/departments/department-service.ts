import { UniqueViolation } from '../db/errors.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { Department, DepartmentRepository, DepartmentUsage, DepartmentWithCounts } from './department-repository.js';
import type { Database } from '../db/database.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import type { MenuCache } from '../cache/menu-cache.js';

/** Where a ticket goes when neither its help topic nor its mailbox nor the agent decides. */
export const DEFAULT_DEPARTMENT_KEY = 'tickets.default_department';

const DUPLICATE_NAME = () => new ValidationError({ name: 'admin.departments.errors.duplicate_name' });

export class DepartmentService {
  constructor(
    private readonly db: Database,
    private readonly departments: DepartmentRepository,
    private readonly audit: AuditRepository,
    private readonly settings: SettingsRepository,
    /** Raised with the default-department setting, which the directory cache holds. */
    private readonly version: DirectoryVersion,
    private readonly menus: MenuCache,
  ) {}

  /** Active departments, for choosing one; archived ones too where existing tickets are listed. */
  list(opts: { includeArchived?: boolean } = {}): Promise<Department[]> {
    return this.departments.list(opts);
  }

  /** `list` for the agents' pages' menus, from the MenuCache (up to DIRECTORY_REFRESH_MS behind another node's change). */
  menu(opts: { includeArchived?: boolean } = {}): Promise<Department[]> {
    return this.menus.get(`departments:${Boolean(opts.includeArchived)}`, () => this.list(opts));
  }

  listWithCounts(): Promise<DepartmentWithCounts[]> {
    return this.departments.listWithCounts();
  }

  async get(id: number): Promise<Department> {
    const d = await this.departments.get(id);
    if (!d) throw notFound('DEPARTMENT_NOT_FOUND', 'admin.departments.not_found');
    return d;
  }

  usage(id: number): Promise<DepartmentUsage> {
    return this.departments.usage(id);
  }

  /**
   * The default department (a setting; first run stores the department it creates). Should the setting
   * name nothing usable, the oldest active department, which is the one setup created.
   */
  async defaultDepartment(): Promise<Department | null> {
    const id = Number(await this.settings.get(DEFAULT_DEPARTMENT_KEY));
    const d = Number.isInteger(id) && id > 0 ? await this.departments.get(id) : null;
    return d && !d.archivedAt ? d : this.departments.firstActive();
  }

  /** First run: the department setup made becomes the default, unless one is already set. */
  async ensureDefault(d: Department): Promise<void> {
    // Every start comes here: once set, no write, so starting a node neither takes SQLite's write lock nor
    // makes every node reload its directory.
    if ((await this.settings.get(DEFAULT_DEPARTMENT_KEY)) !== null) return;
    await this.db.transaction(async () => {
      // The write first: a SQLite transaction that reads before it writes cannot wait for another writer.
      await this.version.bump();
      await this.settings.getOrInsert(DEFAULT_DEPARTMENT_KEY, () => String(d.id));
    });
  }

  async setDefault(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const d = await this.departments.get(id);
    if (!d || d.archivedAt) throw new ValidationError({ defaultDepartmentId: 'validation.choose_department' });
    await this.db.transaction(async () => {
      await this.settings.set(DEFAULT_DEPARTMENT_KEY, String(id));
      await this.version.bump();
      await this.audit.record({ staffId: actor.staffId, action: 'settings.default_department', objectType: 'department', objectId: id, details: { name: d.name } });
    });
  }

  /** Used by first run and the CLI: returns the department with that name, creating it if needed. */
  async ensure(name: string): Promise<Department> {
    const existing = await this.departments.findByName(name);
    if (existing) return existing;
    try {
      return (await this.departments.get(await this.departments.insert(name)))!;
    } catch (err) {
      if (err instanceof UniqueViolation) return (await this.departments.findByName(name))!;
      throw err;
    }
  }

  async create(actor: StaffPrincipal, input: { name: string; signature: string }): Promise<Department> {
    requireAdmin(actor);
    validate(input);
    if (await this.departments.findByName(input.name)) throw DUPLICATE_NAME();
    return this.db.transaction(async () => {
      try {
        const id = await this.departments.insert(input.name.trim(), input.signature);
        await this.audit.record({ staffId: actor.staffId, action: 'department.create', objectType: 'department', objectId: id, details: { name: input.name } });
        return (await this.departments.get(id))!;
      } catch (err) {
        if (err instanceof UniqueViolation) throw DUPLICATE_NAME();
        throw err;
      }
    });
  }

  async update(actor: StaffPrincipal, id: number, input: { name: string; signature: string }): Promise<void> {
    requireAdmin(actor);
    validate(input);
    await this.get(id);
    const same = await this.departments.findByName(input.name);
    if (same && same.id !== id) throw DUPLICATE_NAME();
    await this.db.transaction(async () => {
      try {
        await this.departments.update(id, { name: input.name.trim(), signature: input.signature });
        await this.audit.record({ staffId: actor.staffId, action: 'department.update', objectType: 'department', objectId: id, details: { name: input.name } });
      } catch (err) {
        if (err instanceof UniqueViolation) throw DUPLICATE_NAME();
        throw err;
      }
    });
  }

  /**
   * Retires a department: its mailboxes and help topics (and the default setting, if it names it) move to
   * `targetId` first, so no new ticket can land in it; its tickets stay where they are. With `remove`, a
   * department that never had a ticket is deleted instead (memberships go with it).
   */
  async archive(actor: StaffPrincipal, id: number, targetId: number | null, opts: { remove?: boolean } = {}): Promise<'archived' | 'deleted'> {
    requireAdmin(actor);
    const d = await this.get(id);
    return this.db.transaction(async () => {
      const usage = await this.departments.usage(id);
      const isDefault = (await this.defaultDepartment())?.id === id;
      const needsTarget = usage.mailboxes > 0 || usage.topics > 0 || isDefault;
      const target = targetId !== null && targetId !== id ? await this.departments.get(targetId) : null;
      if (needsTarget && (!target || target.archivedAt)) {
        throw new ValidationError({ targetId: 'admin.departments.errors.target_required' });
      }
      if (opts.remove && usage.tickets > 0) {
        throw new AppError('DEPARTMENT_HAS_TICKETS', 'conflict', 'admin.departments.errors.has_tickets');
      }
      if (target) {
        await this.departments.repoint(id, target.id);
        if (isDefault) await this.settings.set(DEFAULT_DEPARTMENT_KEY, String(target.id));
      }
      const details = { name: d.name, movedTo: target?.id ?? null, mailboxes: usage.mailboxes, topics: usage.topics };
      if (opts.remove) {
        await this.departments.delete(id);
        await this.audit.record({ staffId: actor.staffId, action: 'department.delete', objectType: 'department', objectId: id, details });
        return 'deleted' as const;
      }
      await this.departments.setArchived(id, true);
      await this.audit.record({ staffId: actor.staffId, action: 'department.archive', objectType: 'department', objectId: id, details });
      return 'archived' as const;
    });
  }

  async restore(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const d = await this.get(id);
    if (!d.archivedAt) return;
    await this.db.transaction(async () => {
      await this.departments.setArchived(id, false);
      await this.audit.record({ staffId: actor.staffId, action: 'department.restore', objectType: 'department', objectId: id, details: { name: d.name } });
    });
  }
}

function validate(input: { name: string; signature: string }): void {
  const fields: FieldErrors = {};
  const name = input.name.trim();
  if (!name) fields.name = 'validation.enter_name';
  else if (name.length > 120) fields.name = msg('validation.too_long', { max: 120 });
  if (input.signature.length > 2000) fields.signature = msg('validation.too_long', { max: 2000 });
  if (Object.keys(fields).length) throw new ValidationError(fields);
}

export function requireAdmin(actor: StaffPrincipal): void {
  if (!actor.isAdmin) throw new AppError('ADMIN_REQUIRED', 'forbidden', 'admin.errors.admin_required_action');
}
