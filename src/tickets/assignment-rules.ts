import type { AuditRepository } from '../audit/audit-repository.js';
import type { Clock } from '../db/time.js';
import type { StaffRepository } from '../staff/staff-repository.js';
import type { TicketRepository } from './ticket-repository.js';

/**
 * The rule that keeps assignment from becoming a back door: an assignee is always someone who may work the
 * ticket's department (a member, or an administrator). Assignment grants sight of the ticket, internal notes
 * included, so a transfer or a removal from a department that would break the rule ends the assignment,
 * recorded in the audit log. Runs inside the caller's transaction.
 */
export class AssignmentRules {
  constructor(
    private readonly d: { clock: Clock; tickets: TicketRepository; staff: StaffRepository; audit: AuditRepository },
  ) {}

  async mayBeAssigned(staffId: number, departmentId: number): Promise<boolean> {
    return (await this.d.staff.listForDepartment(departmentId)).some((s) => s.id === staffId);
  }

  /** After a ticket moved to `departmentId`: the assignee who may not work there is unassigned (their id returned). */
  async afterTransfer(actorId: number, ticket: { id: number; number: string; assigneeId: number | null }, departmentId: number): Promise<number | null> {
    const assigneeId = ticket.assigneeId;
    if (assigneeId === null || (await this.mayBeAssigned(assigneeId, departmentId))) return null;
    await this.end(actorId, { ...ticket, departmentId }, assigneeId, 'transfer');
    return assigneeId;
  }

  /**
   * After an agent's memberships or administrator right changed: their assignments outside the departments they
   * now work end. Returns the ticket numbers.
   */
  async afterMembershipChange(actorId: number | null, staffId: number, departmentIds: number[], isAdmin: boolean): Promise<string[]> {
    if (isAdmin) return [];
    const stale = await this.d.tickets.assignedOutside(staffId, departmentIds);
    for (const t of stale) await this.end(actorId, t, staffId, 'department_membership');
    return stale.map((t) => t.number);
  }

  private async end(actorId: number | null, t: { id: number; number: string; departmentId: number }, assigneeId: number, reason: string): Promise<void> {
    await this.d.tickets.update(t.id, { assigneeId: null, updatedAt: this.d.clock.now() });
    await this.d.audit.record({
      staffId: actorId, action: 'ticket.unassign', objectType: 'ticket', objectId: t.id,
      details: { number: t.number, from: assigneeId, departmentId: t.departmentId, reason },
    });
  }
}
