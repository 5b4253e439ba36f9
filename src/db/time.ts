/**
 * Times are stored as UTC strings 'YYYY-MM-DD HH:MM:SS.mmm' in DATETIME(3) columns. mysql2 runs with
 * `dateStrings` so both drivers hand back the same string, and better-sqlite3 never sees a Date (it would
 * bind epoch milliseconds, which do not compare with stored strings). DESIGN.md §9 "time".
 */
export type DbTime = string;

export function toDbTime(d: Date): DbTime {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

export function fromDbTime(v: string | null | undefined): Date | null {
  if (v === null || v === undefined) return null;
  return new Date(`${v.replace(' ', 'T')}Z`);
}

export function fromDbTimeRequired(v: string): Date {
  return new Date(`${v.replace(' ', 'T')}Z`);
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
