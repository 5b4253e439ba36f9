import type { AuditRepository } from '../audit/audit-repository.js';
import type { Database } from '../db/database.js';
import { refusingDuplicates } from '../db/errors.js';
import { requireAdmin } from '../departments/department-service.js';
import { AppError, ValidationError, notFound, type FieldErrors } from '../errors.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { checkDraft, type Schedule, type ScheduleDraft } from './schedule.js';
import type { ScheduleRepository } from './schedule-repository.js';

/** Two racing saves that both found the name free: the unique key refuses the second, told as the check would. */
const DUPLICATE_NAME: FieldErrors = { name: 'admin.schedules.errors.duplicate_name' };

export interface ScheduleServiceDeps {
  db: Database;
  schedules: ScheduleRepository;
  audit: AuditRepository;
  /**
   * The names of what measures time in a schedule (SLA plans, issue 12 item 5): a schedule in use is not
   * deleted. Read inside the deleting transaction.
   */
  usedBy: (scheduleId: number) => Promise<string[]>;
}

/** Business schedules (issue 12, item 4): administrators keep them; SLA plans measure business time in them. */
export class ScheduleService {
  constructor(private readonly d: ScheduleServiceDeps) {}

  list(): Promise<Schedule[]> {
    return this.d.schedules.all();
  }

  async get(id: number): Promise<Schedule> {
    const s = await this.d.schedules.get(id);
    if (!s) throw notFound('SCHEDULE_NOT_FOUND', 'admin.schedules.not_found');
    return s;
  }

  usedBy(id: number): Promise<string[]> {
    return this.d.usedBy(id);
  }

  async create(actor: StaffPrincipal, draft: ScheduleDraft): Promise<Schedule> {
    requireAdmin(actor);
    const { name, rules } = await this.check(null, draft);
    return this.d.db.transaction(async () => {
      const id = await refusingDuplicates(() => this.d.schedules.insert(name, rules), DUPLICATE_NAME);
      await this.d.audit.record({ staffId: actor.staffId, action: 'schedule.create', objectType: 'schedule', objectId: id, details: { name, ...rules } });
      return (await this.d.schedules.get(id))!;
    });
  }

  async update(actor: StaffPrincipal, id: number, draft: ScheduleDraft): Promise<void> {
    requireAdmin(actor);
    const current = await this.editable(id);
    const { name, rules } = await this.check(current.id, draft);
    await this.d.db.transaction(async () => {
      await refusingDuplicates(() => this.d.schedules.update(id, name, rules), DUPLICATE_NAME);
      await this.d.audit.record({ staffId: actor.staffId, action: 'schedule.update', objectType: 'schedule', objectId: id, details: { name, ...rules } });
    });
  }

  /** Deletes a schedule nothing measures time in; the built-in 24×7 never. */
  async delete(actor: StaffPrincipal, id: number): Promise<void> {
    requireAdmin(actor);
    const s = await this.editable(id);
    await this.d.db.transaction(async () => {
      const users = await this.d.usedBy(id);
      if (users.length) throw new AppError('SCHEDULE_IN_USE', 'conflict', 'admin.schedules.errors.in_use', { users });
      await this.d.schedules.delete(id);
      await this.d.audit.record({ staffId: actor.staffId, action: 'schedule.delete', objectType: 'schedule', objectId: id, details: { name: s.name } });
    });
  }

  private async editable(id: number): Promise<Schedule> {
    const s = await this.get(id);
    if (s.builtin) throw new AppError('SCHEDULE_BUILTIN', 'conflict', 'admin.schedules.errors.builtin');
    return s;
  }

  private async check(id: number | null, draft: ScheduleDraft) {
    const checked = checkDraft(draft);
    if (!checked.errors.name) {
      const other = await this.d.schedules.idByName(checked.name);
      if (other !== null && other !== id) checked.errors.name = 'admin.schedules.errors.duplicate_name';
    }
    if (Object.keys(checked.errors).length) throw new ValidationError(checked.errors);
    return checked;
  }
}
