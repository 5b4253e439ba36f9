import type { Translator } from '../i18n/translator.js';
import { PRIORITIES, type Priority } from '../tickets/ticket.js';

const valid = (d: Date) => d instanceof Date && !Number.isNaN(d.getTime());

/** Helpers every template gets as `it.fmt`: times in the viewer's zone, words in the viewer's language. */
export function formatters(tr: Translator, timeZone: string, now: Date) {
  return {
    rel: (d: Date) => tr.relative(d, now),
    exact: (d: Date) => tr.exact(d, timeZone),
    iso: (d: Date) => (valid(d) ? d.toISOString() : ''),
    priority: (p: number) => (p in PRIORITIES ? tr.t(`common.priority.${p as Priority}`) : String(p)),
    bytes: (n: number) => tr.bytes(n),
    status: (s: string) => tr.t(`common.status.${s}`),
    number: tr.number,
    list: tr.list,
  };
}

export type Formatters = ReturnType<typeof formatters>;
