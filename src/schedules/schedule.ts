import type { FieldErrors } from '../errors.js';
import { msg, type Msg } from '../i18n/message.js';
import { DAY_MS, canonicalZone } from './zone-clock.js';

/** Working hours of one day: [start, end) in minutes after local midnight, sorted, not overlapping; end ≤ 1440. */
export type DayHours = Array<[start: number, end: number]>;
/** Monday first, Sunday last (ISO 8601). */
export type WeekHours = [DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours];

/**
 * A day or a run of days off, from and to inclusive (YYYY-MM-DD, local to the schedule's zone). A yearly
 * holiday recurs every year on the same month and day (its years only order its ends, so Dec 31 – Jan 1
 * works); on Feb 29 it falls on Feb 28 in common years, so it stays in February and is never skipped.
 */
export interface Holiday {
  name: string;
  from: string;
  to: string;
  yearly: boolean;
}

export interface ScheduleRules {
  timeZone: string;
  hours: WeekHours;
  holidays: Holiday[];
}

export interface Schedule extends ScheduleRules {
  id: number;
  name: string;
  /** The 24×7 schedule the database starts with: never edited or deleted. */
  builtin: boolean;
}

export const NAME_MAX = 120;
export const HOLIDAY_NAME_MAX = 120;
export const MAX_INTERVALS_PER_DAY = 12;
export const MAX_HOLIDAYS = 100;
/** A one-off holiday lasts at most this many days; a yearly one less than a year, so every year keeps a working day. */
export const MAX_HOLIDAY_DAYS = 366;

export const ALWAYS_OPEN: WeekHours = [[[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]], [[0, 1440]]];

/** One row of the form as typed: HH:MM or blank. */
export interface IntervalDraft {
  start: string;
  end: string;
}

export interface HolidayDraft {
  name: string;
  from: string;
  to: string;
  yearly: boolean;
}

/** A schedule as the form sends it: every row kept, blank ones too, so an error names the row it is on. */
export interface ScheduleDraft {
  name: string;
  timeZone: string;
  /** Seven days, Monday first. */
  days: IntervalDraft[][];
  holidays: HolidayDraft[];
}

/**
 * A minute of the day from HH:MM (a time input may add :00 seconds); 24:00 and, as an end, 00:00 mean the day's
 * end (a time input cannot say 24:00).
 */
export function parseClock(value: string, asEnd: boolean): number | null {
  const m = /^(\d{1,2}):(\d{2})(?::00)?$/.exec(value.trim());
  if (!m) return null;
  const minute = Number(m[1]) * 60 + Number(m[2]);
  if (Number(m[2]) > 59 || minute > 1440 || (minute === 1440 && !asEnd)) return null;
  return asEnd && minute === 0 ? 1440 : minute;
}

/** HH:MM for a minute of the day; the day's end reads 24:00. */
export const formatClock = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** Date.UTC of a real calendar date written YYYY-MM-DD, or null (2026-02-30 is not one). */
export function parseDate(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = Date.UTC(y, mo - 1, d);
  const date = new Date(at);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? at : null;
}

/** One row of a day: its interval, or what is wrong with it (`kept` are the day's rows above it). */
function checkInterval(r: IntervalDraft, kept: DayHours): [number, number] | Msg {
  if (!r.start.trim() || !r.end.trim()) return 'admin.schedules.errors.interval_incomplete';
  const start = parseClock(r.start, false);
  const end = parseClock(r.end, true);
  if (start === null || end === null) return 'admin.schedules.errors.not_a_time';
  if (end <= start) return 'admin.schedules.errors.end_before_start';
  const other = kept.find(([s, e]) => start < e && s < end);
  return other ? msg('admin.schedules.errors.overlap', { start: formatClock(other[0]), end: formatClock(other[1]) }) : [start, end];
}

/** One holiday row: the holiday (a blank last day is the first), or what is wrong with it. */
function checkHoliday(h: HolidayDraft): Holiday | Msg {
  const name = h.name.trim();
  const from = parseDate(h.from);
  const to = h.to.trim() ? parseDate(h.to) : from;
  if (!name) return 'admin.schedules.errors.holiday_name';
  if (name.length > HOLIDAY_NAME_MAX) return msg('validation.too_long', { max: HOLIDAY_NAME_MAX });
  if (from === null || to === null) return 'admin.schedules.errors.not_a_date';
  if (to < from) return 'admin.schedules.errors.holiday_order';
  const days = (to - from) / DAY_MS + 1;
  // Shorter than a year, or a yearly holiday could cover every day of every year.
  if (h.yearly && days > 364) return 'admin.schedules.errors.yearly_too_long';
  if (days > MAX_HOLIDAY_DAYS) return msg('admin.schedules.errors.holiday_too_long', { max: MAX_HOLIDAY_DAYS });
  return { name, from: h.from.trim(), to: h.to.trim() || h.from.trim(), yearly: h.yearly };
}

/**
 * Checks a draft and gives the rules it means, or the errors by field: `name`, `timeZone`, `hours` (none in the
 * whole week: every target measured in it would be infinite), `hours-<day>-<row>`, `holiday-<row>`.
 * Intervals that touch (08:00–12:00, 12:00–17:00) are fine; overlapping ones are refused with the other one named.
 */
export function checkDraft(draft: ScheduleDraft): { errors: FieldErrors; name: string; rules: ScheduleRules } {
  const errors: FieldErrors = {};
  const name = draft.name.trim();
  if (!name) errors.name = 'validation.enter_name';
  else if (name.length > NAME_MAX) errors.name = msg('validation.too_long', { max: NAME_MAX });
  const timeZone = canonicalZone(draft.timeZone.trim());
  if (!timeZone) errors.timeZone = 'validation.time_zone_unknown';

  const hours = Array.from({ length: 7 }, () => [] as DayHours) as WeekHours;
  for (const [day, rows] of draft.days.slice(0, 7).entries()) {
    const kept: DayHours = [];
    for (const [row, r] of rows.entries()) {
      if (!r.start.trim() && !r.end.trim()) continue;
      const span = kept.length >= MAX_INTERVALS_PER_DAY ? msg('admin.schedules.errors.too_many_intervals', { max: MAX_INTERVALS_PER_DAY }) : checkInterval(r, kept);
      if (Array.isArray(span)) kept.push(span);
      else errors[`hours-${day}-${row}`] = span;
    }
    hours[day] = kept.sort((a, b) => a[0] - b[0]);
  }
  const anyInvalidRow = Object.keys(errors).some((k) => k.startsWith('hours-'));
  if (!anyInvalidRow && hours.every((d) => d.length === 0)) errors.hours = 'admin.schedules.errors.no_hours';

  const holidays: Holiday[] = [];
  for (const [row, h] of draft.holidays.entries()) {
    if (!h.name.trim() && !h.from.trim() && !h.to.trim()) continue;
    const checked = holidays.length >= MAX_HOLIDAYS ? msg('admin.schedules.errors.too_many_holidays', { max: MAX_HOLIDAYS }) : checkHoliday(h);
    if (typeof checked === 'object' && 'yearly' in checked) holidays.push(checked);
    else errors[`holiday-${row}`] = checked;
  }
  holidays.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  return { errors, name, rules: { timeZone: timeZone ?? '', hours, holidays } };
}

/** The draft that shows these rules in the form: one row per interval, or one blank row for a day off. */
export function draftOf(name: string, rules: ScheduleRules): ScheduleDraft {
  return {
    name,
    timeZone: rules.timeZone,
    days: rules.hours.map((d) => (d.length ? d.map(([s, e]) => ({ start: formatClock(s), end: formatClock(e === 1440 ? 0 : e) })) : [{ start: '', end: '' }])),
    holidays: rules.holidays.length ? rules.holidays.map((h) => ({ ...h })) : [{ name: '', from: '', to: '', yearly: false }],
  };
}
