/** A page of rows in (name_key, id) order and the cursor of the next one (null: this is the last). */
export interface Paged<T> {
  rows: T[];
  next: string | null;
}

/** Opaque in URLs: the (name_key, id) a page starts after. */
export function encodeCursor(c: { key: string; id: number }): string {
  return Buffer.from(JSON.stringify([c.key, c.id])).toString('base64url');
}

/** A cursor from a URL; anything malformed starts from the top rather than failing the page. */
export function decodeCursor(raw: string | undefined): { key: string; id: number } | null {
  if (!raw || raw.length > 700) return null;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1])) return { key: v[0].slice(0, 120), id: v[1] as number };
  } catch {
    // falls through to the first page
  }
  return null;
}

/** Rows plus one more than the page: the page, and the cursor after its last row when there are more. */
export function paged<T extends { id: number; key: string }>(rows: T[], size: number): Paged<T> {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > size && last ? encodeCursor({ key: last.key, id: last.id }) : null };
}
