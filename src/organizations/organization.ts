import type { FieldErrors } from '../errors.js';
import { msg } from '../i18n/message.js';
import { isDomain, normaliseDomain } from '../users/email.js';
import { NAME_MAX } from '../users/name-key.js';

export interface Organization {
  id: number;
  name: string;
  /** E-mail domains whose new users join this organization, sorted. */
  domains: string[];
  createdAt: Date;
}

export interface OrganizationListRow {
  id: number;
  name: string;
  memberCount: number;
  /** Where the next page starts: (name_key, id). */
  key: string;
}

export interface OrganizationInput {
  name: string;
  /** As typed: separated by commas, spaces or lines. */
  domains: string;
}

/** More would be a list nobody reads; a company with more domains than this is rare. */
export const MAX_DOMAINS = 20;

/** The checked name and domains, or the field errors. */
export function checkOrganization(input: OrganizationInput): { name: string; domains: string[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const name = input.name.trim();
  if (!name) errors.name = 'validation.required';
  else if (name.length > NAME_MAX) errors.name = msg('validation.too_long', { max: NAME_MAX });
  const typed = input.domains.split(/[\s,;]+/).filter(Boolean);
  const domains = [...new Set(typed.map(normaliseDomain))].sort();
  const bad = typed.filter((d) => !isDomain(normaliseDomain(d)));
  if (bad.length) errors.domains = msg('staff.orgs.errors.domain_invalid', { domains: bad.join(', ') });
  else if (domains.length > MAX_DOMAINS) errors.domains = msg('staff.orgs.errors.too_many_domains', { max: MAX_DOMAINS });
  return { name, domains, errors };
}
