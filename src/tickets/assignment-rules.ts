import type { AuditRepository } from '../audit/audit-repository.js';
import type { Clock } from '../db/time.js';
import type { EventRepository } from '../history/event-repository.js';
import type { StaffRepository } from '../staff/staff-repository.js';
import type { Staff, StaffPrincipal } from '../staff/staff.js';
import type { TicketRepository } from './ticket-repository.js';

/**
 * The rule that keeps assignment from becoming a back door: an assignee is always someone who may work the
 * ticket's department (a member, or an administrator). Assignment grants sight of the ticket, internal notes
 * included, so a transfer or a removal from a department that would break the rule ends the assignment,
 * recorded in the audit log and the ticket's history. Runs inside the caller's transaction.
 */
export class AssignmentRules {
  constructor(
    private readonly d: { clock: Clock; tickets: TicketRepository; staff: StaffRepository; audit: AuditRepository; events: EventRepository },
  ) {}

  /** The agent, when they may be assigned a ticket of the department; null when not. */
  async assignable(staffId: number, departmentId: number): Promise<Staff | null> {
    return (await this.d.staff.listForDepartment(departmentId)).find((s) => s.id === staffId) ?? null;
  }

  /** After a ticket moved to `departmentId`: the assignee who may not work there is unassigned (their id returned). */
  async afterTransfer(actor: StaffPrincipal, ticket: { id: number; number: string; assigneeId: number | null; assigneeName: string | null }, departmentId: number): Promise<number | null> {
    const assigneeId = ticket.assigneeId;
    if (assigneeId === null || (await this.assignable(assigneeId, departmentId))) return null;
    await this.end(actor, { ...ticket, departmentId }, assigneeId, ticket.assigneeName, 'transfer');
    return assigneeId;
  }

  /**
   * After an agent's memberships or administrator right changed: their assignments outside the departments they
   * now work end. Returns the ticket numbers.
   */
  async afterMembershipChange(actor: StaffPrincipal, staff: { id: number; name: string }, departmentIds: number[], isAdmin: boolean): Promise<string[]> {
    if (isAdmin) return [];
    const stale = await this.d.tickets.assignedOutside(staff.id, departmentIds);
    for (const t of stale) await this.end(actor, t, staff.id, staff.name, 'department_membership');
    return stale.map((t) => t.number);
  }

  private async end(actor: StaffPrincipal, t: { id: number; number: string; departmentId: number }, assigneeId: number, assigneeName: string | null, reason: string): Promise<void> {
    await this.d.tickets.update(t.id, { assigneeId: null, updatedAt: this.d.clock.now() });
    await this.d.audit.record({
      staffId: actor.staffId, action: 'ticket.unassign', objectType: 'ticket', objectId: t.id,
      details: { number: t.number, from: assigneeId, departmentId: t.departmentId, reason },
    });
    await this.d.events.record({ ticketId: t.id, actor, kind: 'assignee', data: { from: assigneeId, fromName: assigneeName, to: null, toName: null, reason } });
  }
}
