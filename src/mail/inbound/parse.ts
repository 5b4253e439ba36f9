import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { htmlToText } from '../../content/sanitize.js';
import { isEmail, normaliseEmail } from '../../users/email.js';
import { normaliseMessageId, splitMessageIds } from '../message-id.js';

/**
 * The one module that imports mailparser (in maintenance mode upstream): everything else sees this
 * module's types, so replacing the parser touches one file.
 */
export interface MailAddress {
  /** Lower-cased. */
  address: string;
  name: string;
}

export interface ParsedAttachment {
  filename: string;
  contentType: string;
  data: Buffer;
  /** Without angle brackets. */
  contentId: string | null;
  inline: boolean;
}

export interface ParsedMessage {
  /** Without angle brackets; null when the message has none. */
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  subject: string;
  from: MailAddress;
  replyTo: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  /** Raw header values by lower-cased name, for the robot and loop rules. */
  headers: Map<string, string[]>;
  /** Top-level MIME type, lower-cased (multipart/report for delivery reports). */
  contentType: string;
  reportType: string | null;
  text: string;
  html: string | null;
  attachments: ParsedAttachment[];
  /** Headers of the original message quoted in a delivery report (text/rfc822-headers or message/rfc822 parts). */
  embeddedHeaders: string[];
}

/** The message cannot become a ticket as it stands: kept raw in quarantine for an administrator. */
export class UnparsableMessage extends Error {}

function addresses(a: AddressObject | AddressObject[] | undefined): MailAddress[] {
  if (!a) return [];
  const out: MailAddress[] = [];
  const walk = (list: Array<{ address?: string; name: string; group?: Array<{ address?: string; name: string }> }>) => {
    for (const v of list) {
      if (v.group) walk(v.group);
      else if (v.address && isEmail(v.address)) out.push({ address: normaliseEmail(v.address), name: v.name.trim() });
    }
  };
  for (const obj of Array.isArray(a) ? a : [a]) walk(obj.value);
  return out;
}

function headerLines(parsed: ParsedMail): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    const value = (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim();
    map.set(key.toLowerCase(), [...(map.get(key.toLowerCase()) ?? []), value]);
  }
  return map;
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  let parsed: ParsedMail;
  try {
    // cid: links stay as they are (the images are stored as attachments and served from there), and no
    // HTML is synthesised from plain text: what we render is what the sender wrote.
    parsed = await simpleParser(raw, { keepCidLinks: true, skipTextToHtml: true, skipImageLinks: true });
  } catch (err) {
    throw new UnparsableMessage(`The message could not be parsed: ${(err as Error).message}`);
  }
  const headers = headerLines(parsed);
  if (!headers.size) throw new UnparsableMessage('The message has no header section.');
  const from = addresses(parsed.from)[0];
  if (!from) throw new UnparsableMessage('The message has no valid From address.');

  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const embeddedHeaders: string[] = [];
  const attachments: ParsedAttachment[] = [];
  for (const a of parsed.attachments) {
    const type = a.contentType.toLowerCase();
    if (type === 'text/rfc822-headers' || type === 'message/rfc822' || type === 'message/delivery-status') {
      embeddedHeaders.push(a.content.subarray(0, 64 * 1024).toString('utf8'));
    }
    attachments.push({
      filename: a.filename || (type === 'message/rfc822' ? 'message.eml' : type === 'text/rfc822-headers' ? 'headers.txt' : 'attachment'),
      contentType: type,
      data: a.content,
      contentId: a.contentId ? normaliseMessageId(a.contentId) : null,
      inline: a.contentDisposition === 'inline' || Boolean(a.related),
    });
  }
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  // An HTML-only message still gets a text version: the API, notices and any view that cannot show the
  // HTML rely on it (mailparser leaves it out for some structures, and when its converter gives up).
  const text = parsed.text?.trim() ? parsed.text : html ? htmlToText(html) : '';
  return {
    messageId: parsed.messageId ? normaliseMessageId(parsed.messageId) : null,
    inReplyTo: splitMessageIds(parsed.inReplyTo),
    references: splitMessageIds(parsed.references),
    subject: (parsed.subject ?? '').replace(/\s+/g, ' ').trim(),
    from,
    replyTo: addresses(parsed.replyTo)[0] ?? null,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    headers,
    contentType: (ct?.value ?? 'text/plain').toLowerCase(),
    reportType: ct?.params?.['report-type']?.toLowerCase() ?? null,
    text,
    html,
    attachments,
    embeddedHeaders,
  };
}

/**
 * The Message-ID from the raw header section without a full parse, for a message the parser refused:
 * quarantined messages are deduplicated too, so a sender retrying one does not fill the quarantine.
 */
export function scanMessageId(raw: Buffer): string | null {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const section = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(section);
  return m ? (splitMessageIds(m[1]!)[0] ?? null) : null;
}

/** Subject and From header text of a raw message, for the quarantine list; best effort. */
export function scanSummary(raw: Buffer): { subject: string | null; sender: string | null } {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const section = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const subject = /^subject:[ \t]*(.*)$/im.exec(section)?.[1]?.trim() ?? null;
  const sender = /^from:[ \t]*(.*)$/im.exec(section)?.[1]?.trim() ?? null;
  return { subject: subject?.slice(0, 255) ?? null, sender: sender?.slice(0, 254) ?? null };
}
