import { UniqueViolation } from '../db/errors.js';
import { AppError, ValidationError, notFound } from '../errors.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { Department, DepartmentRepository, DepartmentWithCounts } from './department-repository.js';
import type { Database } from '../db/database.js';

export class DepartmentService {
  constructor(
    private readonly db: Database,
    private readonly departments: DepartmentRepository,
    private readonly audit: AuditRepository,
  ) {}

  list(): Promise<Department[]> {
    return this.departments.list();
  }

  listWithCounts(): Promise<DepartmentWithCounts[]> {
    return this.departments.listWithCounts();
  }

  async get(id: number): Promise<Department> {
    const d = await this.departments.get(id);
    if (!d) throw notFound('DEPARTMENT_NOT_FOUND', 'No such department.');
    return d;
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
    return this.db.transaction(async () => {
      try {
        const id = await this.departments.insert(input.name.trim(), input.signature);
        await this.audit.record({ staffId: actor.staffId, action: 'department.create', objectType: 'department', objectId: id, details: { name: input.name } });
        return (await this.departments.get(id))!;
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ name: 'A department with this name already exists.' });
        throw err;
      }
    });
  }

  async update(actor: StaffPrincipal, id: number, input: { name: string; signature: string }): Promise<void> {
    requireAdmin(actor);
    validate(input);
    await this.get(id);
    await this.db.transaction(async () => {
      try {
        await this.departments.update(id, { name: input.name.trim(), signature: input.signature });
        await this.audit.record({ staffId: actor.staffId, action: 'department.update', objectType: 'department', objectId: id, details: { name: input.name } });
      } catch (err) {
        if (err instanceof UniqueViolation) throw new ValidationError({ name: 'A department with this name already exists.' });
        throw err;
      }
    });
  }
}

function validate(input: { name: string; signature: string }): void {
  const fields: Record<string, string> = {};
  const name = input.name.trim();
  if (!name) fields.name = 'Enter a name.';
  else if (name.length > 120) fields.name = 'Use at most 120 characters.';
  if (input.signature.length > 2000) fields.signature = 'Use at most 2000 characters.';
  if (Object.keys(fields).length) throw new ValidationError(fields);
}

export function requireAdmin(actor: StaffPrincipal): void {
  if (!actor.isAdmin) throw new AppError('ADMIN_REQUIRED', 'forbidden', 'Only administrators can do this.');
}
