import { domainToASCII } from 'node:url';

/**
 * A pragmatic address check: one @, a local part without spaces, a domain with a dot and no empty labels.
 * RFC 5321 allows more (quoted local parts), but nobody opens a help-desk ticket from one. Internationalised
 * addresses (RFC 6531/6532) are addresses too: a UTF-8 local part, and a domain checked in its ASCII
 * (IDNA) form.
 */
const LOCAL = /^[^\s@"<>()\[\],;:]{1,64}$/u;
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/;

export function isEmail(s: string): boolean {
  const at = s.trim().lastIndexOf('@');
  if (at <= 0) return false;
  const local = s.trim().slice(0, at);
  const domain = s.trim().slice(at + 1);
  if (!LOCAL.test(local) || Buffer.byteLength(local) > 64) return false;
  return DOMAIN.test(/^[\x00-\x7f]*$/.test(domain) ? domain : domainToASCII(domain));
}

/** One spelling per address: trimmed, Unicode NFC (a UTF-8 address may arrive composed or not), lower-cased. */
export function normaliseEmail(s: string): string {
  return s.trim().normalize('NFC').toLowerCase();
}

/** A domain as organizations list it and addresses are matched against it: lower-cased, in its ASCII (IDNA) form. */
export function normaliseDomain(s: string): string {
  const d = s.trim().replace(/^@/, '').normalize('NFC').toLowerCase();
  return /^[\x00-\x7f]*$/.test(d) ? d : domainToASCII(d);
}

export function isDomain(s: string): boolean {
  return DOMAIN.test(s);
}

/** The domain of a (normalised) address, as normaliseDomain writes it. */
export function domainOf(address: string): string {
  return normaliseDomain(address.slice(address.lastIndexOf('@') + 1));
}
