import { AppError, ValidationError } from '../errors.js';
import { msg, toMessage, type Message } from '../i18n/message.js';
import type { StaffPrincipal } from '../staff/staff.js';
import { isTicketNumber } from './ticket-rules.js';
import type { Priority, Ticket, TicketStatus } from './ticket.js';
import type { TicketRemoval } from './ticket-removal.js';
import type { TicketService } from './ticket-service.js';

/**
 * At most this many tickets per bulk action: each is its own transaction with its own checks, so the cap keeps
 * one request's work (and the summary page) bounded; a queue page holds far fewer.
 */
export const BULK_LIMIT = 500;

export type BulkAction =
  | { kind: 'assign'; assigneeId: number | null }
  | { kind: 'transfer'; departmentId: number }
  | { kind: 'status'; status: Exclude<TicketStatus, 'spam'> }
  | { kind: 'priority'; priority: Priority }
  | { kind: 'delete' }
  | { kind: 'spam'; ban: boolean };

/** A chosen ticket as the confirmation page lists it: no subject for one the agent may not see. */
export interface BulkTarget {
  number: string;
  subject: string | null;
}

export interface BulkOutcome extends BulkTarget {
  /** done: changed; unchanged: already in that state; refused: not changed, `reason` says why. */
  result: 'done' | 'unchanged' | 'refused';
  reason: Message | null;
  /** An unexpected failure behind a refusal, for the caller to log. */
  error?: unknown;
}

export interface TicketBulkDeps {
  /** Tickets by number, without access checks (TicketRepository.findByNumbers). */
  find(numbers: string[]): Promise<Ticket[]>;
  tickets: Pick<TicketService, 'canStaffSee' | 'setStatus' | 'setPriority' | 'transfer' | 'assign'>;
  removal: Pick<TicketRemoval, 'delete' | 'markSpam'>;
}

/**
 * One action on many tickets, through the same services as the ticket page (access, lock, validation and audit
 * per ticket), each ticket in its own transaction: one refusal changes nothing for the others.
 */
export class TicketBulk {
  constructor(private readonly d: TicketBulkDeps) {}

  /** The chosen ticket numbers, each once, in the order given; refused when none or more than BULK_LIMIT. */
  static chosen(raw: string[]): string[] {
    const numbers = [...new Set(raw.map((s) => s.trim().replace(/^#/, '')).filter(isTicketNumber))];
    if (!numbers.length) throw new ValidationError({ tickets: 'staff.bulk.none_selected' });
    if (numbers.length > BULK_LIMIT) throw new ValidationError({ tickets: msg('staff.bulk.too_many', { count: numbers.length, max: BULK_LIMIT }) });
    return numbers;
  }

  /** What the confirmation page lists. */
  async preview(actor: StaffPrincipal, numbers: string[]): Promise<BulkTarget[]> {
    const found = await this.visible(actor, numbers);
    return numbers.map((number) => ({ number, subject: found.get(number)?.subject ?? null }));
  }

  async apply(actor: StaffPrincipal, numbers: string[], action: BulkAction): Promise<BulkOutcome[]> {
    const found = new Map((await this.d.find(numbers)).map((t) => [t.number, t]));
    const outcomes: BulkOutcome[] = [];
    for (const number of numbers) outcomes.push(await this.one(actor, number, found.get(number) ?? null, action));
    return outcomes;
  }

  private async visible(actor: StaffPrincipal, numbers: string[]): Promise<Map<string, Ticket>> {
    return new Map((await this.d.find(numbers)).filter((t) => this.d.tickets.canStaffSee(actor, t)).map((t) => [t.number, t]));
  }

  private async one(actor: StaffPrincipal, number: string, before: Ticket | null, action: BulkAction): Promise<BulkOutcome> {
    if (!before || !this.d.tickets.canStaffSee(actor, before)) return { number, subject: null, result: 'refused', reason: missing(actor) };
    const subject = before.subject;
    if (already(before, action)) return { number, subject, result: 'unchanged', reason: null };
    try {
      await this.act(actor, number, action);
      return { number, subject, result: 'done', reason: null };
    } catch (err) {
      const { reason, error } = why(actor, err);
      return { number, subject, result: 'refused', reason, ...(error ? { error } : {}) };
    }
  }

  private async act(actor: StaffPrincipal, number: string, a: BulkAction): Promise<void> {
    switch (a.kind) {
      case 'assign':
        return this.d.tickets.assign(actor, number, a.assigneeId);
      case 'transfer':
        return this.d.tickets.transfer(actor, number, a.departmentId);
      case 'status':
        return this.d.tickets.setStatus(actor, number, a.status);
      case 'priority':
        return this.d.tickets.setPriority(actor, number, a.priority);
      case 'delete':
        await this.d.removal.delete(actor, number);
        return;
      case 'spam':
        await this.d.removal.markSpam(actor, number, { ban: a.ban });
        return;
    }
  }
}

/** Whether the ticket is already as the action would leave it. */
function already(t: Ticket, a: BulkAction): boolean {
  switch (a.kind) {
    case 'assign':
      return t.assigneeId === a.assigneeId;
    case 'transfer':
      return t.departmentId === a.departmentId;
    case 'status':
      return t.status === a.status;
    case 'priority':
      return t.priority === a.priority;
    case 'spam':
      return t.status === 'spam' && !a.ban;
    case 'delete':
      return false;
  }
}

/**
 * A ticket that is not there for the agent. An administrator sees every ticket, so for them it was deleted
 * meanwhile; an agent is told it is outside their departments or gone, one answer for both as everywhere else,
 * so that numbers cannot be probed.
 */
const missing = (actor: StaffPrincipal): Message => toMessage(actor.isAdmin ? 'staff.bulk.refused.gone' : 'staff.bulk.refused.not_visible');

/** Why a ticket was refused, from what its service threw. */
function why(actor: StaffPrincipal, err: unknown): { reason: Message; error?: unknown } {
  if (!(err instanceof AppError)) return { reason: toMessage('staff.bulk.refused.failed'), error: err };
  if (err.code === 'TICKET_NOT_FOUND') return { reason: missing(actor) };
  if (err.code === 'LOCK_HELD') return { reason: msg('staff.bulk.refused.locked', { name: String(err.details?.holderName ?? '') }) };
  if (err instanceof ValidationError) {
    const first = Object.values(err.fields)[0];
    return { reason: first ? toMessage(first) : err.userMessage };
  }
  return { reason: err.userMessage };
}
