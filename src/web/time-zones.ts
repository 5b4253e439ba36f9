/** IANA zone names for time-zone pickers; UTC first, since Intl lists only the geographic zones. */
const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/** The options for a select, keeping a current value that the list lacks (an alias such as Etc/GMT+5). */
export function timeZoneOptions(current?: string): Array<{ value: string; label: string }> {
  const zones = current && !ZONES.includes(current) ? [current, ...ZONES] : ZONES;
  return zones.map((z) => ({ value: z, label: z.replace(/_/g, ' ') }));
}

/** What the clock on the wall reads in `timeZone` at `at`, minus UTC's reading, in milliseconds. */
function offsetAt(at: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(at).map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - Math.floor(at / 1000) * 1000;
}

/**
 * The first and last millisecond of a calendar day (YYYY-MM-DD) in the viewer's zone: a date field means the
 * day the person lives in, not UTC's (in Copenhagen a ticket made at 00:30 belongs to that day, not the one before).
 * Undefined for anything that is not a real date.
 */
export function dayBounds(isoDate: string | undefined, timeZone: string): { start: Date; end: Date } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const midnight = Date.UTC(y, mo - 1, d);
  const date = new Date(midnight);
  // 2026-02-30 rolls over to March in Date.UTC: not a date anyone picked.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  const startOf = (wall: number) => {
    let at = wall - offsetAt(wall, timeZone);
    // Near a change of offset the first guess uses the wrong side's offset; the second reading is right.
    at = wall - offsetAt(at, timeZone);
    return at;
  };
  return { start: new Date(startOf(midnight)), end: new Date(startOf(midnight + 86_400_000) - 1) };
}
