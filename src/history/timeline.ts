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
 *
 * `totals`: how many entries and events the thread has when `items` holds only some of them, read as
 * `readLatest` says (the first entry and the latest `tail + FOLD_AT_LEAST` of each): enough to show the thread
 * whole whenever it is too short to fold.
 */
export function foldTimeline<E>(items: Array<TimelineItem<E>>, tail: number, keepFrom: (item: TimelineItem<E>) => boolean = () => false, totals?: { entries: number; events: number }): CollapsedTimeline<E> {
  let start = Math.max(1, items.length - tail);
  const unseen = items.findIndex(keepFrom);
  if (unseen >= 0) start = Math.min(start, unseen);
  const shown = items.length ? [items[0]!, ...items.slice(start)] : [];
  const count = (xs: Array<TimelineItem<E>>, kind: 'entry' | 'event') => xs.filter((i) => i[kind]).length;
  const entries = (totals?.entries ?? count(items, 'entry')) - count(shown, 'entry');
  const events = (totals?.events ?? count(items, 'event')) - count(shown, 'event');
  // Folding away fewer than a screenful would cost the agent a click for nothing.
  if (entries + events < FOLD_AT_LEAST) return { items, folded: null };
  return { items: shown, folded: { after: 1, entries, events } };
}

export const FOLD_AT_LEAST = 10;

/** How many of the latest entries and events to read for a page that folds to `tail` (see foldTimeline). */
export const readLatest = (tail: number) => tail + FOLD_AT_LEAST;
