import { escapeHtml, type Translator } from '../../i18n/translator.js';
import { textToHtml } from '../../content/markdown.js';
import type { Ticket } from '../../tickets/ticket.js';

/**
 * One mail's content in its reader's language: a plain-text part and an HTML part with the same words
 * (RFC 2046 alternatives), and the language they are in (the Content-Language header).
 */
export interface Notice {
  subject: string;
  bodyText: string;
  bodyHtml: string;
  language: string;
}

type TicketRef = Pick<Ticket, 'number' | 'subject'>;

/**
 * `[#NUMBER]` in every subject: a reply from a participant finds its ticket even without threading headers.
 * The ticket's subject follows as the reader sees it (an empty one named in their language).
 */
export const subjectTag = (tr: Translator, t: TicketRef) => `[#${t.number}] ${tr.subject(t.subject)}`;

/** A subject inside a sentence: the sentence leaves an empty one out (`titled` selects its wording). */
const inSentence = (subject: string) => ({ subject, titled: subject ? 'yes' : 'no' });

/** A mailbox as mail headers write it, "Ann <ann@example.com>": an address, not a sentence. */
const mailbox = (name: string, email: string) => `${name} <${email}>`;

/**
 * Mail to requesters starts with the marker, in their language, so that reply trimming (content/reply-trim.ts)
 * can fold everything below it.
 */
function toRequester(tr: Translator, subject: string, text: string[], html: string[]): Notice {
  const marker = tr.t('notices.reply_marker');
  return {
    subject,
    bodyText: [marker, '', ...text].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<div style="color:#888;font-size:12px">${escapeHtml(marker)}</div>`,
      ...html,
      '</body></html>',
    ].join('\n'),
    language: tr.locale,
  };
}

/** The auto-reply to a new ticket, with its access link. */
export function ticketCreatedNotice(tr: Translator, helpdesk: string, t: TicketRef, requesterName: string, accessLink: string): Notice {
  const received = { ...inSentence(t.subject), number: t.number };
  return toRequester(
    tr,
    subjectTag(tr, t),
    [
      tr.t('notices.created.greeting', { name: requesterName }),
      '',
      tr.t('notices.created.received', received),
      tr.t('notices.created.reply_hint'),
      '',
      tr.t('notices.created.follow_text', { link: accessLink }),
      '',
      tr.t('notices.signoff', { helpdesk }),
    ],
    [
      `<p>${tr.tHtml('notices.created.greeting', { name: requesterName })}</p>`,
      `<p>${tr.tHtml('notices.created.received', received)} ${tr.tHtml('notices.created.reply_hint')}</p>`,
      `<p>${tr.tHtml('notices.created.follow_html', {}, { link: accessLink })}</p>`,
      `<p>${tr.tHtml('notices.signoff', { helpdesk })}</p>`,
    ],
  );
}

/**
 * An agent's response; `body` ends with the signature the agent chose, as the thread shows it. `bodyHtml`: the
 * sanitised HTML of a formatted response (its Markdown is the plain-text part); null for plain text.
 */
export function responseNotice(tr: Translator, t: TicketRef, agentName: string, body: string, accessLink: string, bodyHtml: string | null = null): Notice {
  return toRequester(
    tr,
    tr.t('notices.response.subject', { tag: subjectTag(tr, t) }),
    [body.trim(), '', agentName, '', tr.t('notices.response.view_text', { link: accessLink })],
    [
      bodyHtml ?? textToHtml(body),
      `<p>${escapeHtml(agentName)}</p>`,
      `<p style="color:#666;font-size:12px">${tr.tHtml('notices.response.view_html', {}, { link: accessLink })}</p>`,
    ],
  );
}

/**
 * To the requester of a ticket an agent merged into another: where the conversation goes on. The subject
 * carries the surviving ticket's tag, so that a reply to this mail lands there.
 */
export function mergedNotice(tr: Translator, helpdesk: string, old: TicketRef, survivor: TicketRef, requesterName: string, accessLink: string | null): Notice {
  const follow = accessLink !== null;
  const merged = { old: old.number, oldSubject: tr.subject(old.subject), number: survivor.number, subject: tr.subject(survivor.subject) };
  return toRequester(
    tr,
    tr.t('notices.merged.subject', { tag: subjectTag(tr, survivor) }),
    [
      tr.t('notices.created.greeting', { name: requesterName }), '', tr.t('notices.merged.body', merged), '',
      ...(follow ? [tr.t('notices.created.follow_text', { link: accessLink }), ''] : []), tr.t('notices.signoff', { helpdesk }),
    ],
    [
      `<p>${tr.tHtml('notices.created.greeting', { name: requesterName })}</p>`,
      `<p>${tr.tHtml('notices.merged.body', merged)}</p>`,
      ...(follow ? [`<p>${tr.tHtml('notices.created.follow_html', {}, { link: accessLink })}</p>`] : []),
      `<p>${tr.tHtml('notices.signoff', { helpdesk })}</p>`,
    ],
  );
}

type AlertTicket = Pick<Ticket, 'number' | 'subject' | 'requesterName' | 'requesterEmail' | 'departmentName'>;

/** An agent's alert: who reads it, in their language and time zone. */
export interface AlertReader {
  tr: Translator;
  timeZone: string;
}

export interface AlertInput {
  ticket: AlertTicket;
  authorName: string;
  body: string;
  staffUrl: string;
  /** When the message arrived, shown in the agent's zone. */
  at: Date;
}

const EXCERPT = 2000;

/** A line of facts, the message's excerpt as a quote, the time it arrived, and the link into the panel. */
function messageAlert({ tr, timeZone }: AlertReader, subject: string, line: { key: string; params: Record<string, string> }, a: AlertInput): Notice {
  // A mail without text is stored with an empty body; the alert says so in the agent's language.
  const body = a.body || tr.t('notices.alert.no_text');
  const excerpt = body.length > EXCERPT ? `${body.slice(0, EXCERPT)}…` : body;
  const received = { date: tr.exact(a.at, timeZone) };
  return {
    subject,
    bodyText: [tr.t(line.key, line.params), tr.t('notices.alert.received', received), '', excerpt, '', tr.t('notices.alert.open_text', { link: a.staffUrl })].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>${tr.tHtml(line.key, line.params)}<br>${tr.tHtml('notices.alert.received', received)}</p>`,
      `<blockquote>${textToHtml(excerpt)}</blockquote>`,
      `<p>${tr.tHtml('notices.alert.open_html', {}, { link: a.staffUrl })}</p>`,
      '</body></html>',
    ].join('\n'),
    language: tr.locale,
  };
}

export function newTicketAlert(reader: AlertReader, a: AlertInput): Notice {
  const t = a.ticket;
  return messageAlert(
    reader,
    reader.tr.t('notices.alert.new_ticket.subject', { tag: subjectTag(reader.tr, t) }),
    { key: 'notices.alert.new_ticket.line', params: { number: t.number, department: t.departmentName, requester: mailbox(t.requesterName, t.requesterEmail) } },
    a,
  );
}

export function newMessageAlert(reader: AlertReader, a: AlertInput): Notice {
  return messageAlert(
    reader,
    reader.tr.t('notices.alert.new_message.subject', { tag: subjectTag(reader.tr, a.ticket) }),
    { key: 'notices.alert.new_message.line', params: { author: a.authorName, number: a.ticket.number } },
    a,
  );
}

export interface ChangeAlertInput {
  ticket: AlertTicket;
  actorName: string;
  staffUrl: string;
}

function changeAlert({ tr }: AlertReader, subject: string, line: string, a: ChangeAlertInput): Notice {
  const who = tr.t('notices.alert.who', { requester: mailbox(a.ticket.requesterName, a.ticket.requesterEmail), department: a.ticket.departmentName });
  return {
    subject,
    bodyText: [line, who, '', tr.t('notices.alert.open_text', { link: a.staffUrl })].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>${escapeHtml(line)}</p>`,
      `<p>${escapeHtml(who)}</p>`,
      `<p>${tr.tHtml('notices.alert.open_html', {}, { link: a.staffUrl })}</p>`,
      '</body></html>',
    ].join('\n'),
    language: tr.locale,
  };
}

export function assignedAlert(reader: AlertReader, a: ChangeAlertInput): Notice {
  const { tr } = reader;
  return changeAlert(
    reader,
    tr.t('notices.alert.assigned.subject', { tag: subjectTag(tr, a.ticket) }),
    tr.t('notices.alert.assigned.line', { actor: a.actorName, number: a.ticket.number, ...inSentence(a.ticket.subject) }),
    a,
  );
}

export function transferAlert(reader: AlertReader, a: ChangeAlertInput & { fromName: string }): Notice {
  const { tr } = reader;
  return changeAlert(
    reader,
    tr.t('notices.alert.transfer.subject', { tag: subjectTag(tr, a.ticket) }),
    tr.t('notices.alert.transfer.line', { actor: a.actorName, number: a.ticket.number, ...inSentence(a.ticket.subject), from: a.fromName, to: a.ticket.departmentName }),
    a,
  );
}

export interface PasswordLinkInput {
  name: string;
  username: string;
  helpdesk: string;
  link: string;
  expiresAt: Date;
  /** The agent's, for the expiry time. */
  timeZone: string;
}

const PASSWORD_MAIL = {
  reset: {
    subject: 'notices.password.reset.subject',
    intro: 'notices.password.reset.intro',
    actionText: 'notices.password.reset.action_text',
    actionHtml: 'notices.password.reset.action_html',
    ignore: 'notices.password.reset.ignore',
  },
  invite: {
    subject: 'notices.password.invite.subject',
    intro: 'notices.password.invite.intro',
    actionText: 'notices.password.invite.action_text',
    actionHtml: 'notices.password.invite.action_html',
    ignore: null,
  },
} as const;

/** A link for an agent to set their password: after "forgot password", or the invitation of a new account. */
export function passwordLinkNotice(tr: Translator, purpose: keyof typeof PASSWORD_MAIL, p: PasswordLinkInput): Notice {
  const keys = PASSWORD_MAIL[purpose];
  const intro = { username: p.username, helpdesk: p.helpdesk };
  const expires = { until: tr.exact(p.expiresAt, p.timeZone) };
  const ignore = keys.ignore ? [tr.t(keys.ignore)] : [];
  return {
    subject: tr.t(keys.subject, { helpdesk: p.helpdesk }),
    bodyText: [tr.t('notices.password.greeting', { name: p.name }), '', tr.t(keys.intro, intro), '', tr.t(keys.actionText, { link: p.link }), tr.t('notices.password.expires', expires), ...ignore, '', tr.t('notices.signoff', { helpdesk: p.helpdesk })].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>${tr.tHtml('notices.password.greeting', { name: p.name })}</p>`,
      `<p>${tr.tHtml(keys.intro, intro)}</p>`,
      `<p>${tr.tHtml(keys.actionHtml, {}, { link: p.link })}<br>${tr.tHtml('notices.password.expires', expires)}</p>`,
      ...ignore.map((line) => `<p>${escapeHtml(line)}</p>`),
      `<p>${tr.tHtml('notices.signoff', { helpdesk: p.helpdesk })}</p>`,
      '</body></html>',
    ].join('\n'),
    language: tr.locale,
  };
}
