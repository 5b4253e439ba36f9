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

// Pages format stored times: an unreadable one (a zero date from an old dump) shows as nothing, not a 500.
const valid = (d: Date) => d instanceof Date && !Number.isNaN(d.getTime());

export function relativeTime(d: Date, now: Date): string {
  if (!valid(d)) return '';
  const secs = Math.round((d.getTime() - now.getTime()) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size) return rtf.format(Math.trunc(secs / size), unit);
  }
  return Math.abs(secs) < 45 ? 'just now' : rtf.format(Math.trunc(secs / 60), 'minute');
}

const exactFormats = new Map<string, Intl.DateTimeFormat>();

function exactFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', hourCycle: 'h23' });
}

/**
 * The exact time in the viewer's zone, e.g. "22 Nov 2026, 17:05 CET". A stored zone this runtime's time-zone
 * data does not know (saved on a node with newer data, or renamed since) falls back to UTC.
 */
export function exactTime(d: Date, timeZone: string): string {
  if (!valid(d)) return '';
  let f = exactFormats.get(timeZone);
  if (!f) {
    try {
      f = exactFormat(timeZone);
    } catch {
      f = exactFormat('UTC');
    }
    exactFormats.set(timeZone, f);
  }
  return f.format(d);
}

/** Helpers every template gets as `it.fmt`. */
export function formatters(timeZone: string, now: Date) {
  return {
    rel: (d: Date) => relativeTime(d, now),
    exact: (d: Date) => exactTime(d, timeZone),
    iso: (d: Date) => (valid(d) ? d.toISOString() : ''),
    priority: (p: number) => PRIORITIES[p as Priority] ?? String(p),
    bytes: formatBytes,
    status: (s: string) => s.charAt(0).toUpperCase() + s.slice(1),
  };
}

export type Formatters = ReturnType<typeof formatters>;
