import type { Holiday, ScheduleRules } from './schedule.js';
import { DAY_MS, localDay, wallToInstant } from './zone-clock.js';

/**
 * Business-time arithmetic for SLA targets (issue 12, items 4 and 5): time counts only inside a schedule's
 * working intervals, on days that are not holidays, read on the wall clocks of the schedule's zone. An interval
 * is real elapsed time between its ends, so 00:00–24:00 lasts 23 hours on the day clocks go forward and 25 on
 * the day they go back.
 */

/** How far ahead a due time is looked for: past it the schedule is too sparse to promise anything (null). */
export const HORIZON_DAYS = 3660;

const MINUTE_MS = 60_000;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Month and day as one number (Dec 24 is 1224); Feb 29 reads as Feb 28 in a common year. */
function monthDay(iso: string, year: number): number {
  const md = Number(iso.slice(5, 7)) * 100 + Number(iso.slice(8, 10));
  return md === 229 && !isLeap(year) ? 228 : md;
}

/** Whether the local day starting at wall value `day` is a holiday. */
export function isHoliday(holidays: Holiday[], day: number): boolean {
  if (!holidays.length) return false;
  const iso = new Date(day).toISOString().slice(0, 10);
  const year = Number(iso.slice(0, 4));
  const md = Number(iso.slice(5, 7)) * 100 + Number(iso.slice(8, 10));
  return holidays.some((h) => {
    if (!h.yearly) return h.from <= iso && iso <= h.to;
    const [from, to] = [monthDay(h.from, year), monthDay(h.to, year)];
    // A yearly run over New Year (Dec 31 – Jan 1) wraps around.
    return h.from.slice(0, 4) === h.to.slice(0, 4) ? from <= md && md <= to : md >= from || md <= to;
  });
}

/** Every day open around the clock and no holiday: business time is plain elapsed time. */
const alwaysOpen = (s: ScheduleRules) => !s.holidays.length && s.hours.every((d) => d.length === 1 && d[0]![0] === 0 && d[0]![1] === 1440);

/**
 * The working intervals as instants [from, to), in order, from the local day `fromInstant` falls on, for at most
 * `maxDays` days.
 */
function* openings(s: ScheduleRules, fromInstant: number, maxDays: number): Generator<[number, number]> {
  let day = localDay(s.timeZone, fromInstant);
  for (let i = 0; i < maxDays; i++, day += DAY_MS) {
    const hours = s.hours[(new Date(day).getUTCDay() + 6) % 7]!;
    if (!hours.length || isHoliday(s.holidays, day)) continue;
    const dayStart = wallToInstant(s.timeZone, day);
    const next = wallToInstant(s.timeZone, day + DAY_MS);
    // A day of exactly 24 hours has no change of offset inside: a minute of the wall is a minute of real time.
    const steady = next - dayStart === DAY_MS;
    const at = (minute: number) => (minute === 1440 ? next : steady ? dayStart + minute * MINUTE_MS : wallToInstant(s.timeZone, day + minute * MINUTE_MS));
    for (const [start, end] of hours) yield [at(start), at(end)];
  }
}

/**
 * The instant `minutes` of business time after `start`; a start outside working hours starts the clock at the
 * next opening. Null when that lies beyond HORIZON_DAYS (a schedule whose holidays leave next to nothing open).
 */
export function addBusinessTime(s: ScheduleRules, start: Date, minutes: number): Date | null {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`minutes must be a finite number ≥ 0, not ${minutes}`);
  const t0 = start.getTime();
  let left = minutes * MINUTE_MS;
  if (alwaysOpen(s)) return new Date(t0 + left);
  for (const [from, to] of openings(s, t0, HORIZON_DAYS)) {
    const begin = Math.max(from, t0);
    if (to < begin) continue;
    if (left <= to - begin) return new Date(begin + left);
    left -= to - begin;
  }
  return null;
}

/** Minutes of business time from `a` to `b` (negative when `b` is earlier), as a fraction when they are not whole. */
export function businessMinutesBetween(s: ScheduleRules, a: Date, b: Date): number {
  const [lo, hi] = [a.getTime(), b.getTime()];
  if (hi < lo) return -businessMinutesBetween(s, b, a);
  if (alwaysOpen(s)) return (hi - lo) / MINUTE_MS;
  let total = 0;
  // One day more than the span: the walk starts on the local day of `a`.
  for (const [from, to] of openings(s, lo, Math.ceil((hi - lo) / DAY_MS) + 2)) {
    if (from >= hi) break;
    total += Math.max(0, Math.min(to, hi) - Math.max(from, lo));
  }
  return total / MINUTE_MS;
}
