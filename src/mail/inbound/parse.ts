import libmime from 'libmime';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { htmlToText } from '../../content/sanitize.js';
import { decodePercent } from '../../content/text.js';
import { isEmail, normaliseEmail } from '../../users/email.js';
import { normaliseMessageId, splitMessageIds } from '../message-id.js';
import { decodeCharset, decodeHeaderText, headerSection, headersAsUtf8 } from './raw-headers.js';
import { extractUuencoded } from './uuencode.js';

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
  /** The languages the Content-Language header names (RFC 3282), lower-cased, as written; [] without one. */
  contentLanguage: string[];
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
  for (const { key, line: binary } of parsed.headerLines) {
    // mailparser keeps header lines as binary strings; headersAsUtf8 made every section UTF-8.
    const line = Buffer.from(binary, 'latin1').toString('utf8');
    const colon = line.indexOf(':');
    const value = (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim();
    map.set(key.toLowerCase(), [...(map.get(key.toLowerCase()) ?? []), value]);
  }
  return map;
}

export interface ParseOptions {
  /** The SMTP reverse-path, stood in for a missing From header (scripts and some gateways send none). */
  envelopeFrom?: string | null;
}

const UUENCODE = /^(x-)?uu(encode|e)?$/i;

type MailparserAttachment = ParsedMail['attachments'][number];

/** A part's header value as mailparser left it: a string, or `{ value, params }` for structured ones. */
function partHeader(a: MailparserAttachment, name: string): { value: string; params: Record<string, string> } {
  const h = a.headers.get(name) as string | { value?: string; params?: Record<string, string> } | undefined;
  return typeof h === 'string' ? { value: h, params: {} } : { value: h?.value ?? '', params: h?.params ?? {} };
}

/** RFC 2557: a part may be named only by its Content-Location, a URL or a bare name; its last path segment is the file name. */
function nameFromLocation(location: string): string {
  const path = location.trim().replace(/^"|"$/g, '').replace(/[?#].*$/s, '');
  return decodePercent(path.slice(path.lastIndexOf('/') + 1)).trim();
}

/**
 * A text part with a Content-Disposition nobody can read ("=?bogus?", a typo) and no file name: mail
 * clients show it as the message, not as a nameless download. Only when the message has no body otherwise.
 */
function unreadableBodyPart(a: MailparserAttachment): boolean {
  const type = a.contentType.toLowerCase();
  const disposition = partHeader(a, 'content-disposition').value.toLowerCase().trim();
  return (type === 'text/plain' || type === 'text/html') && !a.filename && disposition !== 'attachment' && disposition !== 'inline' && disposition !== '';
}

export async function parseMessage(raw: Buffer, opts: ParseOptions = {}): Promise<ParsedMessage> {
  let parsed: ParsedMail;
  try {
    // cid: links stay as they are (the images are stored as attachments and served from there), and no
    // HTML is synthesised from plain text: what we render is what the sender wrote. Raw 8-bit headers are
    // read as mail clients read them first (raw-headers.ts); the stored raw message stays as received.
    parsed = await simpleParser(headersAsUtf8(raw), { keepCidLinks: true, skipTextToHtml: true, skipImageLinks: true });
  } catch (err) {
    throw new UnparsableMessage(`The message could not be parsed: ${(err as Error).message}`);
  }
  const headers = headerLines(parsed);
  if (!headers.size) throw new UnparsableMessage('The message has no header section.');
  const envelopeFrom = opts.envelopeFrom && isEmail(opts.envelopeFrom) ? { address: normaliseEmail(opts.envelopeFrom), name: '' } : null;
  // Only a missing From falls back to the envelope: a From that is there but unreadable stays a problem.
  const from = headers.has('from') ? addresses(parsed.from)[0] : envelopeFrom;
  if (!from) throw new UnparsableMessage('The message has no valid From address.');

  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const embeddedHeaders: string[] = [];
  const attachments: ParsedAttachment[] = [];
  let html = typeof parsed.html === 'string' ? parsed.html : null;
  let text = parsed.text ?? '';
  for (const a of parsed.attachments) {
    const type = a.contentType.toLowerCase();
    if (!text.trim() && !html && unreadableBodyPart(a)) {
      const body = decodeCharset(a.content, partHeader(a, 'content-type').params.charset);
      if (type === 'text/html') html = body;
      else text = body;
      continue;
    }
    if (type === 'text/rfc822-headers' || type === 'message/rfc822' || type === 'message/delivery-status') {
      embeddedHeaders.push(a.content.subarray(0, 64 * 1024).toString('utf8'));
    }
    let data = a.content;
    let filename = a.filename || nameFromLocation(partHeader(a, 'content-location').value);
    if (UUENCODE.test(partHeader(a, 'content-transfer-encoding').value.trim())) {
      const uu = extractUuencoded(a.content.toString('latin1')).files[0];
      if (uu) {
        data = uu.data;
        filename ||= uu.filename;
      }
    }
    attachments.push({
      filename: filename || (type === 'message/rfc822' ? 'message.eml' : type === 'text/rfc822-headers' ? 'headers.txt' : 'attachment'),
      contentType: type,
      data,
      contentId: a.contentId ? normaliseMessageId(a.contentId) : null,
      inline: a.contentDisposition === 'inline' || Boolean(a.related),
    });
  }
  // "begin 644 name" blocks in a text body become attachments, as mail clients show them.
  const uu = extractUuencoded(text);
  text = uu.text;
  for (const f of uu.files) {
    attachments.push({ filename: f.filename, contentType: libmime.detectMimeType(f.filename) || 'application/octet-stream', data: f.data, contentId: null, inline: false });
  }
  // An HTML-only message still gets a text version: the API, notices and any view that cannot show the
  // HTML rely on it (mailparser leaves it out for some structures, and when its converter gives up).
  if (!text.trim() && html) text = htmlToText(html);
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
    contentLanguage: contentLanguages(headers.get('content-language')?.[0]),
  };
}

/** "da", "da-DK, en": language tags only; a malformed or overlong header gives nothing, never an error. */
function contentLanguages(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .slice(0, 200)
    .split(',')
    .slice(0, 10)
    .map((tag) => tag.replace(/\(.*?\)/g, '').trim().toLowerCase())
    .filter((tag) => /^[a-z]{1,8}(-[a-z0-9]{1,8})*$/.test(tag));
}

/**
 * The Message-ID from the raw header section without a full parse, for a message the parser refused:
 * quarantined messages are deduplicated too, so a sender retrying one does not fill the quarantine.
 */
export function scanMessageId(raw: Buffer): string | null {
  const section = headerSection(raw).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(section);
  return m ? (splitMessageIds(m[1]!)[0] ?? null) : null;
}

/** Subject and From header text of a raw message, for the quarantine list; best effort, decoded as a mail client shows them. */
export function scanSummary(raw: Buffer): { subject: string | null; sender: string | null } {
  const section = headerSection(raw).replace(/\r?\n[ \t]+/g, ' ');
  const field = (name: string) => {
    const v = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(section)?.[1];
    return v === undefined ? null : decodeHeaderText(v).replace(/\s+/g, ' ').trim();
  };
  return { subject: field('subject')?.slice(0, 255) ?? null, sender: field('from')?.slice(0, 254) ?? null };
}
