/** Names longer than this are cut, in the database (VARCHAR 120) and in what a search compares. */
export const NAME_MAX = 120;

/** The case-folded form a name is searched by (users.name_key, organizations.name_key). */
export function nameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase().slice(0, NAME_MAX);
}

/** The words of a name after the first, case-folded (users.name_key finds the first): "bowman" for Ann Bowman. */
export function laterWords(name: string): string[] {
  return [...new Set(nameKey(name).split(/[\s\-‐,.]+/u).filter(Boolean).slice(1))];
}
