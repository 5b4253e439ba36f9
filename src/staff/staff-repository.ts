import type { Database } from '../db/database.js';
import type { DirectoryVersion } from '../directory/directory-version.js';
import { fromDbTime, fromDbTimeRequired, toDbTime, type Clock } from '../db/time.js';
import { NO_PASSWORD, type AlertPreferences, type Staff, type StaffWithDepartments } from './staff.js';

const map = (r: Record<string, unknown>): Staff => ({
  id: Number(r.id),
  username: r.username as string,
  email: r.email as string,
  name: r.name as string,
  isAdmin: Boolean(r.is_admin),
  isActive: Boolean(r.is_active),
  timezone: r.timezone as string,
  language: (r.language as string | null) ?? null,
  createdAt: fromDbTimeRequired(r.created_at as string),
  lastLoginAt: fromDbTime(r.last_login_at as string | null),
  signature: (r.signature as string | null) ?? '',
  alerts: {
    newTicket: Boolean(r.alert_new_ticket ?? true),
    newMessage: Boolean(r.alert_new_message ?? true),
    assigned: Boolean(r.alert_assigned ?? true),
    transfer: Boolean(r.alert_transfer ?? true),
  },
  passwordSet: r.password_hash !== NO_PASSWORD,
});

const withHash = (r: Record<string, unknown> | undefined) => (r ? { ...map(r), passwordHash: r.password_hash as string } : null);

export interface NewStaff {
  username: string;
  email: string;
  name: string;
  passwordHash: string;
  isAdmin: boolean;
  timezone: string;
}

export class StaffRepository {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly version: DirectoryVersion,
  ) {}

  async count(): Promise<number> {
    const r = await this.db.run((q) => q('staff').count({ n: '*' }).first());
    return Number(r?.n ?? 0);
  }

  async get(id: number): Promise<Staff | null> {
    const r = await this.db.run((q) => q('staff').where({ id }).first());
    return r ? map(r) : null;
  }

  /** The login name may be the username or the e-mail address; both are stored lower-cased. */
  async findForLogin(login: string): Promise<(Staff & { passwordHash: string }) | null> {
    const key = login.trim().toLowerCase();
    return withHash(await this.db.run((q) => q('staff').where({ username: key }).orWhere({ email: key }).first()));
  }

  async getWithPasswordHash(id: number): Promise<(Staff & { passwordHash: string }) | null> {
    return withHash(await this.db.run((q) => q('staff').where({ id }).first()));
  }

  /**
   * Sets a password only while the account still has the hash `expected`: of two uses of one link at the same
   * time, one wins. False when it had changed.
   */
  async replacePasswordHash(id: number, expected: string, passwordHash: string): Promise<boolean> {
    return this.db.transaction(async () => {
      const n = await this.db.run((q) => q('staff').where({ id, password_hash: expected }).update({ password_hash: passwordHash }));
      if (n) await this.version.bump();
      return n > 0;
    });
  }

  async insert(s: NewStaff): Promise<number> {
    return this.db.transaction(async () => {
      const [id] = await this.db.run((q) =>
        q('staff').insert({
          username: s.username,
          email: s.email,
          name: s.name,
          password_hash: s.passwordHash,
          is_admin: s.isAdmin,
          is_active: true,
          timezone: s.timezone,
          created_at: toDbTime(this.clock.now()),
        }),
      );
      await this.version.bump();
      return Number(id);
    });
  }

  async update(id: number, fields: Partial<{ name: string; email: string; isAdmin: boolean; isActive: boolean; timezone: string; language: string | null; passwordHash: string; signature: string; alerts: AlertPreferences }>): Promise<void> {
    await this.db.transaction(async () => {
      const row: Record<string, unknown> = {};
      if (fields.name !== undefined) row.name = fields.name;
      if (fields.email !== undefined) row.email = fields.email;
      if (fields.isAdmin !== undefined) row.is_admin = fields.isAdmin;
      if (fields.isActive !== undefined) row.is_active = fields.isActive;
      if (fields.timezone !== undefined) row.timezone = fields.timezone;
      if (fields.language !== undefined) row.language = fields.language;
      if (fields.passwordHash !== undefined) row.password_hash = fields.passwordHash;
      if (fields.signature !== undefined) row.signature = fields.signature || null;
      if (fields.alerts !== undefined) {
        row.alert_new_ticket = fields.alerts.newTicket;
        row.alert_new_message = fields.alerts.newMessage;
        row.alert_assigned = fields.alerts.assigned;
        row.alert_transfer = fields.alerts.transfer;
      }
      if (Object.keys(row).length) await this.db.run((q) => q('staff').where({ id }).update(row));
      await this.version.bump();
    });
  }

  async touchLogin(id: number): Promise<void> {
    await this.db.run((q) => q('staff').where({ id }).update({ last_login_at: toDbTime(this.clock.now()) }));
  }

  async departmentsOf(staffIds: number[]): Promise<Map<number, StaffWithDepartments['departments']>> {
    const out = new Map<number, StaffWithDepartments['departments']>();
    if (!staffIds.length) return out;
    const rows = await this.db.run((q) =>
      q('staff_departments as sd')
        .join('departments as d', 'd.id', 'sd.department_id')
        .whereIn('sd.staff_id', staffIds)
        .orderBy('d.name')
        .select('sd.staff_id', 'd.id', 'd.name', 'sd.is_manager'),
    );
    for (const r of rows) {
      const list = out.get(Number(r.staff_id)) ?? [];
      list.push({ id: Number(r.id), name: r.name as string, isManager: Boolean(r.is_manager) });
      out.set(Number(r.staff_id), list);
    }
    return out;
  }

  async list(): Promise<StaffWithDepartments[]> {
    const staff = (await this.db.run((q) => q('staff').orderBy('name'))).map(map);
    const deps = await this.departmentsOf(staff.map((s) => s.id));
    return staff.map((s) => ({ ...s, departments: deps.get(s.id) ?? [] }));
  }

  /** Agents who may be assigned tickets of a department. */
  async listForDepartment(departmentId: number): Promise<Staff[]> {
    const rows = await this.db.run((q) =>
      q('staff as s')
        .where('s.is_active', true)
        .where((w) =>
          w.where('s.is_admin', true).orWhereExists(
            q('staff_departments as sd').whereRaw('sd.staff_id = s.id').where('sd.department_id', departmentId),
          ),
        )
        .orderBy('s.name')
        .select('s.*'),
    );
    return rows.map(map);
  }

  async setDepartments(staffId: number, memberships: Array<{ departmentId: number; isManager: boolean }>): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('staff_departments').where({ staff_id: staffId }).delete();
      for (const m of memberships) {
        await trx('staff_departments').insert({ staff_id: staffId, department_id: m.departmentId, is_manager: m.isManager });
      }
      await this.version.bump();
    });
  }
}
