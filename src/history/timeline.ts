import type { TicketEvent } from './event-repository.js';

export type TimelineItem<E> = { entry: E; event?: undefined } | { event: TicketEvent; entry?: undefined };

/**
 * A ticket's entries and events in the order they happened. An event written in the same transaction as an
 * entry (a response sent "and resolved") carries the same time and is shown after it: entries first on a tie.
 */
export function timeline<E extends { createdAt: Date }>(entries: E[], events: TicketEvent[]): Array<TimelineItem<E>> {
  const items: Array<TimelineItem<E>> = [];
  let i = 0;
  let j = 0;
  while (i < entries.length || j < events.length) {
    if (j >= events.length || (i < entries.length && entries[i]!.createdAt.getTime() <= events[j]!.createdAt.getTime())) items.push({ entry: entries[i++]! });
    else items.push({ event: events[j++]! });
  }
  return items;
}
