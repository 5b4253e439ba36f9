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

export interface CollapsedTimeline<E> {
  items: Array<TimelineItem<E>>;
  /** Where the fold is (after this many items), and what it hides; null when nothing is hidden. */
  folded: { after: number; entries: number; events: number } | null;
}

/**
 * A long thread as it opens: the first item (how it began) and the latest `tail`, the rest behind one link, as
 * Zammad and Freshdesk fold long conversations. Nothing is folded in a thread not much longer than that, and
 * never an item from `keepFrom` on (entries the agent has not seen yet).
 */
export function foldTimeline<E>(items: Array<TimelineItem<E>>, tail: number, keepFrom: (item: TimelineItem<E>) => boolean = () => false): CollapsedTimeline<E> {
  let start = Math.max(1, items.length - tail);
  const unseen = items.findIndex(keepFrom);
  if (unseen >= 0) start = Math.min(start, unseen);
  // Folding away fewer than a screenful would cost the agent a click for nothing.
  if (start - 1 < FOLD_AT_LEAST) return { items, folded: null };
  const hidden = items.slice(1, start);
  return {
    items: [items[0]!, ...items.slice(start)],
    folded: { after: 1, entries: hidden.filter((i) => i.entry).length, events: hidden.filter((i) => i.event).length },
  };
}

const FOLD_AT_LEAST = 10;
