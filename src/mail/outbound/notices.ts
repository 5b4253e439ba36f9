import type { Ticket } from '../../tickets/ticket.js';

/** Plain-text notices written to the outbox. Kept in one place so that the mail issue can give them templates. */
export interface Notice {
  subject: string;
  bodyText: string;
}

const tag = (t: Pick<Ticket, 'number' | 'subject'>) => `[#${t.number}] ${t.subject}`;

export function ticketCreatedNotice(helpdesk: string, t: Pick<Ticket, 'number' | 'subject'>, requesterName: string, link: string): Notice {
  return {
    subject: tag(t),
    bodyText: [
      `Dear ${requesterName},`,
      '',
      `We received your request "${t.subject}" and opened ticket #${t.number}. A member of our team will answer soon.`,
      '',
      `You can follow the ticket and reply here: ${link}`,
      '',
      `— ${helpdesk}`,
    ].join('\n'),
  };
}

export function responseNotice(t: Pick<Ticket, 'number' | 'subject'>, agentName: string, body: string, signature: string, link: string): Notice {
  return {
    subject: `Re: ${tag(t)}`,
    bodyText: [body, '', signature ? `${signature}\n` : '', `${agentName}`, '', `View the ticket: ${link}`].join('\n'),
  };
}
