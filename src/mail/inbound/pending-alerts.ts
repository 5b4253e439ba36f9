import type { Database } from '../../db/database.js';
import type { ThreadRepository } from '../../threads/thread-repository.js';
import type { TicketRepository } from '../../tickets/ticket-repository.js';
import type { Notifier } from '../outbound/notifier.js';
import type { OutboxMessage, OutboxRepository } from '../outbound/outbox-repository.js';

export interface PendingAlertDeps {
  db: Database;
  threads: ThreadRepository;
  tickets: Pick<TicketRepository, 'findByIds'>;
  notifier: Pick<Notifier, 'newMessageAlerts'>;
  outbox: Pick<OutboxRepository, 'enqueueMany'>;
}

const BATCH = 100;

/** Another writer cleared some of the batch's marks first: its alerts are theirs, and this batch rolls back. */
class RelayedElsewhere extends Error {}

/**
 * Writes the agents' alerts for mailed messages whose entries intake stored marked pending
 * (ticket-creation.ts addInboundMessage), run by the outbox job before it delivers. A batch's alerts are
 * inserted and its marks cleared in one transaction: a crash leaves the marks for the next run, and two
 * nodes running at once cannot both write a batch (the second finds fewer marks to clear and rolls back).
 * Whatever fails (the database, or building one entry's alerts) leaves the whole batch pending: an alert is
 * never dropped, and the job reports the failure on each run until it is fixed.
 */
export class PendingAlerts {
  constructor(private readonly d: PendingAlertDeps) {}

  /** Writes every pending alert, a batch at a time; returns how many entries were handled. */
  async relay(signal?: AbortSignal): Promise<number> {
    let handled = 0;
    while (!signal?.aborted) {
      const n = await this.relayBatch().catch((err: unknown) => {
        if (err instanceof RelayedElsewhere) return 0;
        throw err;
      });
      handled += n;
      if (n < BATCH) break;
    }
    return handled;
  }

  private relayBatch(): Promise<number> {
    return this.d.db.transaction(async () => {
      const pending = await this.d.threads.pendingAlerts(BATCH);
      if (!pending.length) return 0;
      const tickets = new Map((await this.d.tickets.findByIds([...new Set(pending.map((p) => p.ticketId))])).map((t) => [t.id, t]));
      const messages: OutboxMessage[] = [];
      for (const p of pending) {
        const ticket = tickets.get(p.ticketId);
        // A ticket deleted since has nobody left to alert.
        if (ticket) messages.push(...(await this.d.notifier.newMessageAlerts(ticket, { entryId: p.entryId, authorName: p.authorName, body: p.bodyText, replyTo: p.messageId, at: p.createdAt })));
      }
      if ((await this.d.threads.clearPendingAlerts(pending.map((p) => p.entryId))) !== pending.length) throw new RelayedElsewhere();
      await this.d.outbox.enqueueMany(messages);
      return pending.length;
    });
  }
}
