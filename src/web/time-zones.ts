/** IANA zone names for time-zone pickers; UTC first, since Intl lists only the geographic zones. */
const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/** The options for a select, keeping a current value that the list lacks (an alias such as Etc/GMT+5). */
export function timeZoneOptions(current?: string): Array<{ value: string; label: string }> {
  const zones = current && !ZONES.includes(current) ? [current, ...ZONES] : ZONES;
  return zones.map((z) => ({ value: z, label: z.replace(/_/g, ' ') }));
}

