import type { FieldErrors } from '../errors.js';
import { msg, type Msg } from '../i18n/message.js';
export interface Staff {
  id: number;
  username: string;
  email: string;
  name: string;
  isAdmin: boolean;
  isActive: boolean;
  timezone: string;
  /** The panel's language; null: the site default. */
  language: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
  /** Their own signature for responses ('' for none). */
  signature: string;
  /** The e-mail alerts the agent wants (an assignee hears of new messages on their tickets regardless). */
  alerts: AlertPreferences;
  /** False for an invited agent who has not chosen a password yet (and cannot sign in until they do). */
  passwordSet: boolean;
}

export const ALERT_KINDS = ['newTicket', 'newMessage', 'assigned', 'transfer'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertPreferences = Record<AlertKind, boolean>;

export const MIN_PASSWORD_LENGTH = 10;

/** A new password and its repetition, as every form that sets one checks them (fields password, password2). */
export function newPasswordErrors(password: string, again: string): FieldErrors {
  if (password.length < MIN_PASSWORD_LENGTH) return { password: msg('validation.too_short', { min: MIN_PASSWORD_LENGTH }) };
  return password === again ? {} : { password2: 'validation.passwords_differ' };
}

/** What is wrong with an agent's name (given trimmed), if anything. */
export function staffNameError(name: string): Msg | undefined {
  if (!name) return 'staff.account.name_required';
  return name.length > 120 ? msg('validation.too_long', { max: 120 }) : undefined;
}

/** The stored hash of an account without a password: no argon2 hash, so nothing verifies against it. */
export const NO_PASSWORD = '!';

export interface StaffWithDepartments extends Staff {
  departments: Array<{ id: number; name: string; isManager: boolean }>;
}

/** The acting agent, as services see it: every access check takes one of these. */
export interface StaffPrincipal {
  kind: 'staff';
  staffId: number;
  name: string;
  isAdmin: boolean;
  timezone: string;
  language: string | null;
  departmentIds: number[];
  managedDepartmentIds: number[];
}

/** The principal for an active agent and their department memberships (in their departments' name order). */
export function principalOf(s: Pick<Staff, 'id' | 'name' | 'isAdmin' | 'timezone' | 'language'>, memberships: Array<{ id: number; isManager: boolean }>): StaffPrincipal {
  return {
    kind: 'staff',
    staffId: s.id,
    name: s.name,
    isAdmin: s.isAdmin,
    timezone: s.timezone,
    language: s.language,
    departmentIds: memberships.map((d) => d.id),
    managedDepartmentIds: memberships.filter((d) => d.isManager).map((d) => d.id),
  };
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
