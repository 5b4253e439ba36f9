import type { Services } from '../../src/services.js';
import { message, send } from './smtp.js';

/** Helpers for the tests of who sent an inbound mail (DESIGN.md §11). */
export const TO = ['support@helpdesk.test'];
let seq = 0;

/** A fresh suffix for Message-IDs. */
export const nextSeq = () => ++seq;

export async function lastInbound(services: Services) {
  return (await services.db.knex('inbound_messages').orderBy('id', 'desc').first('status', 'reason', 'ticket_id', 'entry_id')) as { status: string; reason: string | null; ticket_id: number | null; entry_id: number | null };
}

/** A requester's mail opens a ticket; the desk answers it with a confirmation and alerts the department. */
export async function openByMail(services: Services, port: number, requester = 'ann@example.com') {
  const n = nextSeq();
  const firstId = `first-${n}@example.com`;
  const sent = await send(port, message({ from: requester, subject: `Refund ${n}`, body: 'please refund', messageId: firstId }), { from: requester, to: TO });
  if (sent.code !== 250) throw new Error(`the requester's mail was refused: ${sent.response}`);
  const ticketId = (await lastInbound(services)).ticket_id!;
  const number = ((await services.db.knex('tickets').where({ id: ticketId }).first('number')) as { number: string }).number;
  return { ticketId, number, firstId };
}

export async function outboxIdTo(services: Services, ticketId: number, kind: RegExp, to: string): Promise<string> {
  const row = (await services.outbox.forTicket(ticketId)).reverse().find((o) => kind.test(o.kind) && o.to.includes(to));
  if (!row?.messageId) throw new Error(`no ${kind} mail to ${to}`);
  return row.messageId;
}

export async function entry(services: Services, entryId: number) {
  return (await services.db.knex('thread_entries').where({ id: entryId }).first()) as Record<string, unknown>;
}

