import { escapeHtml, type Translator } from '../i18n/translator.js';
import { PRIORITIES, type Priority } from '../tickets/ticket.js';

const valid = (d: Date) => d instanceof Date && !Number.isNaN(d.getTime());

/** Helpers every template gets as `it.fmt`: times in the viewer's zone, words in the viewer's language. */
export function formatters(tr: Translator, timeZone: string, now: Date) {
  const rel = (d: Date) => tr.relative(d, now);
  const exact = (d: Date) => tr.exact(d, timeZone);
  const iso = (d: Date) => (valid(d) ? d.toISOString() : '');
  return {
    rel,
    exact,
    iso,
    /**
     * A time as the pages show one: relative, the exact time on hover, machine-readable for time.js. Markup
     * built here rather than in a partial: a long thread shows hundreds, and an include cost more than the text.
     */
    timeHtml: (d: Date) => `<time datetime="${iso(d)}" title="${escapeHtml(exact(d))}">${escapeHtml(rel(d))}</time>`,
    priority: (p: number) => (p in PRIORITIES ? tr.t(`common.priority.${p as Priority}`) : String(p)),
    bytes: (n: number) => tr.bytes(n),
    status: (s: string) => tr.t(`common.status.${s}`),
    subject: tr.subject,
    number: tr.number,
    list: tr.list,
  };
}

export type Formatters = ReturnType<typeof formatters>;
