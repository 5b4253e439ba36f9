import { ValidationError } from '../errors.js';
import { msg, type Msg } from '../i18n/message.js';

/**
 * The variables a canned response (or any reply text) may hold, and their expansion. No I/O, so the
 * picker, the no-script insert and the send-time check all agree on what counts as a variable.
 */
export const VARIABLES = [
  'ticket.number',
  'ticket.subject',
  'ticket.link',
  'requester.name',
  'requester.email',
  'agent.name',
  'agent.signature',
  'department.name',
] as const;
export type Variable = (typeof VARIABLES)[number];
export type VariableValues = Record<Variable, string>;

/**
 * What looks like a variable: `{word.word}`, each word a letter followed by letters, digits or `_`. Narrow on
 * purpose, so a reply that quotes JSON (`{"a": 1}`), a set (`{1, 2}`), a lone brace or `{name}` is sent as it
 * is; only text of the one shape our variables have can be a mistyped one (`{ticket.numbr}`).
 */
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*)\}/g;

const isVariable = (name: string): name is Variable => (VARIABLES as readonly string[]).includes(name);

/** The distinct placeholders in `text` that are not variables, in order of first appearance. */
export function unknownVariables(text: string): string[] {
  const unknown = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) if (!isVariable(m[1]!)) unknown.add(`{${m[1]}}`);
  return [...unknown];
}

/**
 * `text` with every known variable replaced by its value (in one pass: a value that itself contains
 * `{ticket.number}`, say a subject, is not expanded again), and the unknown placeholders, left as they were.
 */
export function expandVariables(text: string, values: VariableValues): { text: string; unknown: string[] } {
  const expanded = text.replace(PLACEHOLDER, (whole, name: string) => (isVariable(name) ? values[name] : whole));
  return { text: expanded, unknown: unknownVariables(text) };
}

/** A message naming the placeholders that are not variables; shared by the canned forms and the reply check. */
export const unknownVariablesMessage = (unknown: string[]): Msg => msg('validation.unknown_variables', { count: unknown.length, names: unknown.join(', ') });

/** The reply text's check before it is mailed: a placeholder that is not a variable would reach the requester raw. */
export function assertNoUnknownVariables(text: string, field: string): void {
  const unknown = unknownVariables(text);
  if (unknown.length) throw new ValidationError({ [field]: unknownVariablesMessage(unknown) });
}
