import type { Database } from '../db/database.js';
import type { Holiday, Schedule, ScheduleRules, WeekHours } from './schedule.js';

/** The name's unique key: names are unique regardless of case (migration 0032). */
export const scheduleNameKey = (name: string) => name.trim().toLowerCase().slice(0, 120);

const isMinute = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1440;
const isDate = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

/** The stored hours, checked: a row edited by hand that no longer reads as hours fails here, not in an SLA run. */
function readHours(text: string, id: number): WeekHours {
  const v = JSON.parse(text) as unknown;
  const ok = Array.isArray(v) && v.length === 7 && v.every((d) => Array.isArray(d) && d.every((i) => Array.isArray(i) && i.length === 2 && isMinute(i[0]) && isMinute(i[1]) && i[0] < i[1]));
  if (!ok) throw new Error(`schedule ${id}: unreadable hours`);
  return v as WeekHours;
}

function readHolidays(text: string, id: number): Holiday[] {
  const v = JSON.parse(text) as unknown;
  const ok = Array.isArray(v) && v.every((h) => h && typeof h === 'object' && typeof h.name === 'string' && isDate(h.from) && isDate(h.to) && typeof h.yearly === 'boolean');
  if (!ok) throw new Error(`schedule ${id}: unreadable holidays`);
  return (v as Holiday[]).map((h) => ({ name: h.name, from: h.from, to: h.to, yearly: h.yearly }));
}

function mapSchedule(r: Record<string, unknown>): Schedule {
  const id = Number(r.id);
  return {
    id,
    name: r.name as string,
    timeZone: r.time_zone as string,
    hours: readHours(r.hours as string, id),
    holidays: readHolidays(r.holidays as string, id),
    builtin: Boolean(r.is_builtin),
  };
}

const row = (name: string, rules: ScheduleRules) => ({
  name, name_key: scheduleNameKey(name), time_zone: rules.timeZone, hours: JSON.stringify(rules.hours), holidays: JSON.stringify(rules.holidays),
});

/** All SQL on schedules. */
export class ScheduleRepository {
  constructor(private readonly db: Database) {}

  /** Every schedule, the built-in one first, then by name. */
  async all(): Promise<Schedule[]> {
    return (await this.db.run((q) => q('schedules').orderBy([{ column: 'is_builtin', order: 'desc' }, { column: 'name' }, { column: 'id' }]))).map(mapSchedule);
  }

  async get(id: number): Promise<Schedule | null> {
    const r = await this.db.run((q) => q('schedules').where({ id }).first());
    return r ? mapSchedule(r) : null;
  }

  /** The id of the schedule with this name, regardless of case. */
  async idByName(name: string): Promise<number | null> {
    const r = await this.db.run((q) => q('schedules').where({ name_key: scheduleNameKey(name) }).first('id'));
    return r ? Number(r.id) : null;
  }

  async insert(name: string, rules: ScheduleRules): Promise<number> {
    const [id] = await this.db.run((q) => q('schedules').insert({ ...row(name, rules), is_builtin: false }));
    return Number(id);
  }

  /** Never the built-in one. */
  async update(id: number, name: string, rules: ScheduleRules): Promise<void> {
    await this.db.run((q) => q('schedules').where({ id, is_builtin: false }).update(row(name, rules)));
  }

  /** Never the built-in one. */
  async delete(id: number): Promise<void> {
    await this.db.run((q) => q('schedules').where({ id, is_builtin: false }).delete());
  }
}
