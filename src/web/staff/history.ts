import type { TicketEvent } from '../../history/event-repository.js';
import { msg, type Message, type Msg } from '../../i18n/message.js';
import type { Formatters } from '../format.js';

/** One line of a ticket's history as the page shows it: a message for `tHtml`, and the links its tags name. */
export interface EventLine {
  message: Message;
  links: Record<string, string>;
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** The `link` tag of a line that names another ticket. */
const ticketLink = (number: unknown) => ({ link: `/scp/tickets/${encodeURIComponent(text(number))}` });

/**
 * The sentence for an event, in the viewer's language. Stored data is read defensively (rendering never throws
 * on stored content): a value of the wrong type prints as text, an unknown kind as a bare "changed the ticket".
 */
export function eventLine(e: TicketEvent, t: (m: Msg) => string, fmt: Pick<Formatters, 'status' | 'priority' | 'list'>): EventLine {
  const d = e.data;
  const actor = e.actor === 'staff' ? e.actorName || t('staff.history.actor_agent') : t(e.actor === 'requester' ? 'staff.history.actor_requester' : 'staff.history.actor_system');
  const from = text(d.fromName ?? d.from);
  const to = text(d.toName ?? d.to);
  const line = (key: string, params: Record<string, string> = {}, links: Record<string, string> = {}): EventLine => ({ message: msg(key, { actor, ...params }), links });
  switch (e.kind) {
    case 'status':
      return line('staff.history.status', { from: fmt.status(text(d.from)), to: fmt.status(text(d.to)) });
    case 'priority':
      return line('staff.history.priority', { from: fmt.priority(Number(d.from)), to: fmt.priority(Number(d.to)) });
    case 'department':
      return line('staff.history.department', { from, to });
    case 'assignee':
      if (d.to === null || d.to === undefined) {
        if (d.reason === 'transfer') return line('staff.history.unassigned_by_transfer', { from });
        if (d.reason === 'department_membership') return line('staff.history.unassigned_by_membership', { from });
        return line('staff.history.unassigned', { from });
      }
      if (d.reason === 'topic') return line('staff.history.assigned_by_topic', { to, topic: text(d.topic) });
      return d.from === null || d.from === undefined ? line('staff.history.assigned', { to }) : line('staff.history.reassigned', { from, to });
    case 'collaborator_added':
      return line('staff.history.collaborator_added', { name: text(d.name), email: text(d.email) });
    case 'collaborator_removed':
      return line('staff.history.collaborator_removed', { name: text(d.name), email: text(d.email) });
    case 'lock_released':
      return line('staff.history.lock_released', { holder: text(d.holderName) });
    case 'entry_moved_out':
      return line('staff.history.entry_moved_out', { number: text(d.number) }, ticketLink(d.number));
    case 'entry_moved_in':
      return line('staff.history.entry_moved_in', { number: text(d.number) }, ticketLink(d.number));
    case 'merged':
      return line('staff.history.merged', { numbers: fmt.list((Array.isArray(d.numbers) ? d.numbers : [d.numbers]).map((n) => `#${text(n)}`)) });
    case 'merged_into':
      return line('staff.history.merged_into', { number: text(d.number) }, ticketLink(d.number));
    case 'linked':
      return line('staff.history.linked', { number: text(d.number) }, ticketLink(d.number));
    case 'unlinked':
      return line('staff.history.unlinked', { number: text(d.number) }, ticketLink(d.number));
    case 'spam':
      return d.banned ? line('staff.history.spam_banned', { email: text(d.banned) }) : line('staff.history.spam');
    default:
      return line('staff.history.changed');
  }
}
