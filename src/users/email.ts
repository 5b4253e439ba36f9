/**
 * A pragmatic address check: one @, a local part without spaces, a domain with a dot and no empty labels.
 * RFC 5321 allows more (quoted local parts), but nobody opens a help-desk ticket from one.
 */
const EMAIL = /^[^\s@"<>()\[\],;:]{1,64}@(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/;

export function isEmail(s: string): boolean {
  return EMAIL.test(s.trim());
}

export function normaliseEmail(s: string): string {
  return s.trim().toLowerCase();
}
