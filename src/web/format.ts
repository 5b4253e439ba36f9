import { PRIORITIES, type Priority } from '../tickets/ticket.js';
import { formatBytes } from './forms.js';

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function relativeTime(d: Date, now: Date): string {
  const secs = Math.round((d.getTime() - now.getTime()) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size) return rtf.format(Math.trunc(secs / size), unit);
  }
  return Math.abs(secs) < 45 ? 'just now' : rtf.format(Math.trunc(secs / 60), 'minute');
}

const exactFormats = new Map<string, Intl.DateTimeFormat>();

/** The exact time in the viewer's zone, e.g. "22 Nov 2026, 17:05 CET". */
export function exactTime(d: Date, timeZone: string): string {
  let f = exactFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', hourCycle: 'h23' });
    exactFormats.set(timeZone, f);
  }
  return f.format(d);
}

/** Helpers every template gets as `it.fmt`. */
export function formatters(timeZone: string, now: Date) {
  return {
    rel: (d: Date) => relativeTime(d, now),
    exact: (d: Date) => exactTime(d, timeZone),
    iso: (d: Date) => d.toISOString(),
    priority: (p: number) => PRIORITIES[p as Priority] ?? String(p),
    bytes: formatBytes,
    status: (s: string) => s.charAt(0).toUpperCase() + s.slice(1),
  };
}

export type Formatters = ReturnType<typeof formatters>;
