import type { Ticket } from '../../tickets/ticket.js';
import { REPLY_MARKER } from '../../content/reply-trim.js';

/** One mail's content: a plain-text part and an HTML part with the same words (RFC 2046 alternatives). */
export interface Notice {
  subject: string;
  bodyText: string;
  bodyHtml: string;
}

type TicketRef = Pick<Ticket, 'number' | 'subject'>;

/** `[#NUMBER]` in every subject: a reply from a participant finds its ticket even without threading headers. */
export const subjectTag = (t: TicketRef) => `[#${t.number}] ${t.subject}`;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const paragraphs = (text: string) =>
  text
    .trim()
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');

const link = (href: string, label: string) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;

/** Mail to requesters starts with the marker, so that reply trimming can fold everything below it. */
function toRequester(subject: string, text: string[], html: string[]): Notice {
  return {
    subject,
    bodyText: [REPLY_MARKER, '', ...text].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<div style="color:#888;font-size:12px">${escapeHtml(REPLY_MARKER)}</div>`,
      ...html,
      '</body></html>',
    ].join('\n'),
  };
}

export function ticketCreatedNotice(helpdesk: string, t: TicketRef, requesterName: string, accessLink: string): Notice {
  return toRequester(
    subjectTag(t),
    [
      `Dear ${requesterName},`,
      '',
      `We received your request "${t.subject}" and opened ticket #${t.number}. A member of our team will answer soon.`,
      'To add to it, reply to this e-mail.',
      '',
      `You can also follow the ticket here: ${accessLink}`,
      '',
      `— ${helpdesk}`,
    ],
    [
      `<p>Dear ${escapeHtml(requesterName)},</p>`,
      `<p>We received your request “${escapeHtml(t.subject)}” and opened ticket #${escapeHtml(t.number)}. A member of our team will answer soon. To add to it, reply to this e-mail.</p>`,
      `<p>You can also ${link(accessLink, 'follow the ticket online')}.</p>`,
      `<p>— ${escapeHtml(helpdesk)}</p>`,
    ],
  );
}

export function responseNotice(t: TicketRef, agentName: string, body: string, signature: string, accessLink: string): Notice {
  return toRequester(
    `Re: ${subjectTag(t)}`,
    [body.trim(), '', ...(signature.trim() ? [signature.trim(), ''] : []), agentName, '', `View the ticket: ${accessLink}`],
    [
      paragraphs(body),
      ...(signature.trim() ? [paragraphs(signature)] : []),
      `<p>${escapeHtml(agentName)}</p>`,
      `<p style="color:#666;font-size:12px">${link(accessLink, 'View the ticket online')}</p>`,
    ],
  );
}

export interface AlertInput {
  ticket: Pick<Ticket, 'number' | 'subject' | 'requesterName' | 'requesterEmail' | 'departmentName'>;
  authorName: string;
  body: string;
  staffUrl: string;
}

const EXCERPT = 2000;

export function newTicketAlert(a: AlertInput): Notice {
  const excerpt = a.body.length > EXCERPT ? `${a.body.slice(0, EXCERPT)}…` : a.body;
  return {
    subject: `New ticket ${subjectTag(a.ticket)}`,
    bodyText: [
      `New ticket #${a.ticket.number} in ${a.ticket.departmentName} from ${a.ticket.requesterName} <${a.ticket.requesterEmail}>.`,
      '',
      excerpt,
      '',
      `Open it: ${a.staffUrl}`,
    ].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>New ticket #${escapeHtml(a.ticket.number)} in ${escapeHtml(a.ticket.departmentName)} from ${escapeHtml(a.ticket.requesterName)} &lt;${escapeHtml(a.ticket.requesterEmail)}&gt;.</p>`,
      `<blockquote>${paragraphs(excerpt)}</blockquote>`,
      `<p>${link(a.staffUrl, 'Open the ticket')}</p>`,
      '</body></html>',
    ].join('\n'),
  };
}

export function newMessageAlert(a: AlertInput): Notice {
  const excerpt = a.body.length > EXCERPT ? `${a.body.slice(0, EXCERPT)}…` : a.body;
  return {
    subject: `New message ${subjectTag(a.ticket)}`,
    bodyText: [`${a.authorName} added a message to ticket #${a.ticket.number}.`, '', excerpt, '', `Open it: ${a.staffUrl}`].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>${escapeHtml(a.authorName)} added a message to ticket #${escapeHtml(a.ticket.number)}.</p>`,
      `<blockquote>${paragraphs(excerpt)}</blockquote>`,
      `<p>${link(a.staffUrl, 'Open the ticket')}</p>`,
      '</body></html>',
    ].join('\n'),
  };
}

export interface ChangeAlertInput {
  ticket: Pick<Ticket, 'number' | 'subject' | 'requesterName' | 'requesterEmail' | 'departmentName'>;
  actorName: string;
  staffUrl: string;
}

function changeAlert(subject: string, line: string, a: ChangeAlertInput): Notice {
  const who = `From ${a.ticket.requesterName} <${a.ticket.requesterEmail}>, in ${a.ticket.departmentName}.`;
  return {
    subject: `${subject} ${subjectTag(a.ticket)}`,
    bodyText: [line, who, '', `Open it: ${a.staffUrl}`].join('\n'),
    bodyHtml: [
      '<!doctype html><html><body>',
      `<p>${escapeHtml(line)}</p>`,
      `<p>${escapeHtml(who)}</p>`,
      `<p>${link(a.staffUrl, 'Open the ticket')}</p>`,
      '</body></html>',
    ].join('\n'),
  };
}

export function assignedAlert(a: ChangeAlertInput): Notice {
  return changeAlert('Assigned to you', `${a.actorName} assigned ticket #${a.ticket.number} “${a.ticket.subject}” to you.`, a);
}

export function transferAlert(a: ChangeAlertInput & { fromName: string }): Notice {
  return changeAlert('Transferred', `${a.actorName} transferred ticket #${a.ticket.number} “${a.ticket.subject}” from ${a.fromName} to ${a.ticket.departmentName}.`, a);
}
