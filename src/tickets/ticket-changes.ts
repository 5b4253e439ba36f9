import { ValidationError } from '../errors.js';
import type { EventKind } from '../history/event-repository.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { TicketAccess } from './ticket-rules.js';
import type { TicketServiceDeps } from './ticket-service.js';
import { isPriority, type Ticket, type TicketStatus } from './ticket.js';

/**
 * Changes to a ticket's properties by an agent: each one checked against the ticket's lock, audited, and kept in
 * the ticket's history, in the change's transaction.
 */
export class TicketChanges {
  constructor(
    private readonly d: TicketServiceDeps,
    private readonly access: TicketAccess,
  ) {}

  /**
   * `apply` answers null when there was nothing to change, else the audit details: `from` and `to`, and
   * for the history the names they stood for (`fromName`, `toName`), which the audit log does not keep.
   */
  private async change(actor: StaffPrincipal, number: string, kind: EventKind, action: string, apply: (t: Ticket) => Promise<Record<string, unknown> | null>): Promise<Ticket> {
    const ticket = await this.access.get(actor, number);
    await this.d.db.transaction(async () => {
      await this.d.locks.assertMayAct(actor, ticket.id, 'change');
      const changed = await apply(ticket);
      if (!changed) return;
      const { fromName, toName, ...details } = changed;
      await this.d.audit.record({ staffId: actor.staffId, action, objectType: 'ticket', objectId: ticket.id, details: { number, ...details } });
      await this.d.events.record({ ticketId: ticket.id, actor, kind, data: { from: details.from, to: details.to, ...(fromName !== undefined ? { fromName, toName } : {}) } });
    });
    return ticket;
  }

  async setStatus(actor: StaffPrincipal, number: string, status: TicketStatus): Promise<void> {
    await this.change(actor, number, 'status', 'ticket.status', async (t) => {
      if (t.status === status) return null;
      const now = this.d.clock.now();
      await this.d.tickets.update(t.id, { status, closedAt: status === 'open' ? null : now, updatedAt: now });
      return { from: t.status, to: status };
    });
  }

  async setPriority(actor: StaffPrincipal, number: string, priority: number): Promise<void> {
    if (!isPriority(priority)) throw new ValidationError({ priority: 'validation.choose_priority' });
    await this.change(actor, number, 'priority', 'ticket.priority', async (t) => {
      if (t.priority === priority) return null;
      await this.d.tickets.update(t.id, { priority, updatedAt: this.d.clock.now() });
      return { from: t.priority, to: priority };
    });
  }

  /**
   * Moves the ticket to another department. An agent may transfer out of their own departments into any. An
   * assignee who does not work in the new department is unassigned.
   */
  async transfer(actor: StaffPrincipal, number: string, departmentId: number): Promise<void> {
    const target = await this.d.departments.get(departmentId);
    if (!target) throw new ValidationError({ departmentId: 'validation.choose_department' });
    await this.change(actor, number, 'department', 'ticket.transfer', async (t) => {
      if (t.departmentId === departmentId) return null;
      if (target.archivedAt) throw new ValidationError({ departmentId: 'validation.ticket.department_archived' });
      await this.d.tickets.update(t.id, { departmentId, updatedAt: this.d.clock.now() });
      const unassigned = await this.d.assignments.afterTransfer(actor, t, departmentId);
      await this.d.notifier.transferAlert({ ...t, departmentId, departmentName: target.name }, t.departmentName, actor);
      return { from: t.departmentId, to: departmentId, fromName: t.departmentName, toName: target.name, ...(unassigned !== null ? { unassigned } : {}) };
    });
  }

  /** Assigns to an agent who can work the ticket's department, or unassigns with null. */
  async assign(actor: StaffPrincipal, number: string, assigneeId: number | null): Promise<void> {
    await this.change(actor, number, 'assignee', 'ticket.assign', async (t) => {
      const assignee = assigneeId === null ? null : await this.d.assignments.assignable(assigneeId, t.departmentId);
      if (assigneeId !== null && !assignee) throw new ValidationError({ assigneeId: 'validation.ticket.assignee_outside_department' });
      if (t.assigneeId === assigneeId) return null;
      await this.d.tickets.update(t.id, { assigneeId, updatedAt: this.d.clock.now() });
      if (assigneeId !== null) await this.d.notifier.assignedAlert(t, assigneeId, actor);
      return { from: t.assigneeId, to: assigneeId, fromName: t.assigneeName, toName: assignee?.name ?? null };
    });
  }

  /**
   * The ticket page's properties form: priority, assignee (undefined leaves it) and department, all saved or
   * none, so a refused transfer does not leave a half-applied form behind. A newly chosen assignee must work in
   * the department the ticket ends up in; the existing one is unassigned by a transfer that leaves them out
   * (their id is returned, to tell the agent).
   */
  async updateProperties(actor: StaffPrincipal, number: string, p: { priority: number | null; assigneeId?: number | null; departmentId: number | null }): Promise<{ unassignedId: number | null }> {
    return this.d.db.transaction(async () => {
      const before = await this.access.get(actor, number);
      const newAssignee = p.assigneeId !== undefined && p.assigneeId !== null && p.assigneeId !== before.assigneeId ? p.assigneeId : null;
      if (newAssignee !== null && p.departmentId !== null && p.departmentId !== before.departmentId && !(await this.d.assignments.assignable(newAssignee, p.departmentId))) {
        throw new ValidationError({ assigneeId: 'validation.ticket.assignee_outside_target' });
      }
      if (p.priority !== null) await this.setPriority(actor, number, p.priority);
      if (p.assigneeId !== undefined) await this.assign(actor, number, p.assigneeId);
      if (p.departmentId === null) return { unassignedId: null };
      const assigned = p.assigneeId !== undefined ? p.assigneeId : before.assigneeId;
      await this.transfer(actor, number, p.departmentId);
      // Read without the access check: the transfer may have taken the ticket out of the agent's sight.
      const after = await this.d.tickets.findBy({ id: before.id });
      return { unassignedId: assigned !== null && after?.assigneeId === null ? assigned : null };
    });
  }
}
