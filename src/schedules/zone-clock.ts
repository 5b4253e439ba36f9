/**
 * Wall-clock readings in an IANA time zone: what the business-time arithmetic needs from Intl, nothing more.
 * "Wall" values are milliseconds as if the zone's local reading were UTC (Date.UTC of the local date and time).
 */
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone: building one costs far more than formatting with it, and the zones are few. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What the clock on the wall reads in `timeZone` at `instant`, minus UTC's reading, in milliseconds. */
export function offsetAt(timeZone: string, instant: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const seconds = Math.floor(instant / 1000) * 1000;
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - seconds;
}

/** The wall reading of `instant`. */
export const wallAt = (timeZone: string, instant: number): number => instant + offsetAt(timeZone, instant);

/**
 * The first instant whose wall reading is `wall` or later. An ambiguous reading (the hour clocks repeat when
 * they go back) is its first occurrence; a reading that never happens (the hour skipped when they go forward)
 * is the moment of the jump, so a working interval inside the skipped hour is empty rather than moved.
 */
export function wallToInstant(timeZone: string, wall: number): number {
  const key = `${timeZone} ${wall}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    // Dropped whole when full: the walks of one SLA run read the same few hundred days over and over.
    if (instants.size >= MEMO_SIZE) instants.clear();
    instant = resolveWall(timeZone, wall);
    instants.set(key, instant);
  }
  return instant;
}

const MEMO_SIZE = 50_000;
const instants = new Map<string, number>();

function resolveWall(timeZone: string, wall: number): number {
  // The offsets a day either side bracket any single change of offset near `wall`.
  const before = offsetAt(timeZone, wall - DAY_MS);
  const after = offsetAt(timeZone, wall + DAY_MS);
  const fits = (t: number) => wallAt(timeZone, t) === wall;
  const candidates = [wall - before, wall - after].filter(fits);
  if (candidates.length) return Math.min(...candidates);
  // In the gap: the jump lies between the two guesses; search it to the second.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (wallAt(timeZone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The wall value of local midnight of the day `instant` falls on. */
export const localDay = (timeZone: string, instant: number): number => Math.floor(wallAt(timeZone, instant) / DAY_MS) * DAY_MS;

/** The runtime's own spelling of an IANA zone name ("europe/copenhagen" is Europe/Copenhagen), or null if unknown. */
export function canonicalZone(timeZone: string): string | null {
  if (!timeZone || timeZone.length > 64) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}
