import t from 'tap';
import { foldTimeline, timeline } from '../../src/history/timeline.js';
import type { TicketEvent } from '../../src/history/event-repository.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 10, minute));
const entry = (id: number, minute: number) => ({ id, createdAt: at(minute) });
const event = (id: number, minute: number): TicketEvent => ({ id, ticketId: 1, actor: 'system', staffId: null, actorName: null, kind: 'status', data: {}, createdAt: at(minute) });

t.test('entries and events interleave by time; an event written with an entry follows it', async (t) => {
  const items = timeline([entry(1, 0), entry(2, 5), entry(3, 9)], [event(10, 2), event(11, 5), event(12, 12)]);
  t.same(items.map((i) => (i.entry ? `e${i.entry.id}` : `v${i.event!.id}`)), ['e1', 'v10', 'e2', 'v11', 'e3', 'v12']);
  t.same(timeline([], []), []);
});

t.test('folding keeps the first item and the tail, and never hides what must stay', async (t) => {
  const items = timeline(Array.from({ length: 60 }, (_, i) => entry(i + 1, i)), []);
  const { items: shown, folded } = foldTimeline(items, 30);
  t.equal(shown.length, 31);
  t.equal(shown[0]!.entry!.id, 1);
  t.equal(shown[1]!.entry!.id, 31);
  t.same(folded, { after: 1, entries: 29, events: 0 });
  t.same(foldTimeline(items.slice(0, 40), 30).folded, null, 'fewer than ten to fold: nothing folded');
  const kept = foldTimeline(items, 30, (i) => i.entry?.id === 12);
  t.equal(kept.items[1]!.entry!.id, 12, 'from an unseen entry on, everything is shown');
  t.equal(kept.folded!.entries, 10);
  t.same(foldTimeline(items, 30, (i) => i.entry?.id === 5).folded, null);
});

t.test('folding a thread read in part counts what was not read', async (t) => {
  // The first entry and the latest 40 of 100 entries, no events: the page shows the first and the latest 30.
  const read = timeline([entry(1, 0), ...Array.from({ length: 40 }, (_, i) => entry(61 + i, 61 + i))], []);
  const { items, folded } = foldTimeline(read, 30, () => false, { entries: 100, events: 0 });
  t.equal(items.length, 31);
  t.same(folded, { after: 1, entries: 69, events: 0 }, 'all but the 31 shown');
  t.same(foldTimeline(read, 30, () => false, { entries: 41, events: 0 }).folded, { after: 1, entries: 10, events: 0 }, 'ten hidden: folded');
  const whole = read.slice(0, 35);
  t.same(foldTimeline(whole, 30, () => false, { entries: 35, events: 0 }), { items: whole, folded: null }, 'fewer than ten hidden: the thread is whole, as read');
});
