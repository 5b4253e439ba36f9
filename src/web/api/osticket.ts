import { Type, type Static } from '@sinclair/typebox';
import { htmlToText } from '../../content/sanitize.js';
import { ValidationError } from '../../errors.js';
import type { FileInput } from '../../tickets/ticket.js';
import { msg } from '../../i18n/message.js';
import { filesTooLarge, tooLarge } from '../forms.js';

/**
 * osTicket's `POST /api/tickets.json` body. Unknown keys (phone, ip, source, custom fields) are accepted and
 * ignored so that existing osTicket clients keep working. Attachments come either as osTicket documents them,
 * `{ "name.ext": "data:<type>;base64,<data>" }`, or as `{ name, type, data }`.
 */
export const NewTicketBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 120 })),
  email: Type.String({ maxLength: 254 }),
  subject: Type.String({ maxLength: 255 }),
  message: Type.String(),
  topicId: Type.Optional(Type.Integer({ minimum: 1 })),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
  alert: Type.Optional(Type.Boolean()),
  autorespond: Type.Optional(Type.Boolean()),
  attachments: Type.Optional(Type.Array(Type.Record(Type.String({ minLength: 1 }), Type.String(), { minProperties: 1 }))),
});

export type NewTicketBody = Static<typeof NewTicketBody>;

interface DataUrl {
  contentType: string;
  data: Buffer;
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** RFC 2397 data URLs, base64 or percent-encoded; null when `s` is not one. */
function parseDataUrl(s: string): DataUrl | null {
  const m = DATA_URL.exec(s);
  if (!m) return null;
  const params = m[2]!.split(';').filter(Boolean);
  const contentType = (m[1] || 'text/plain').trim().toLowerCase();
  if (params.includes('base64')) {
    if (!BASE64.test(m[3]!)) return null;
    return { contentType, data: Buffer.from(m[3]!, 'base64') };
  }
  try {
    return { contentType, data: Buffer.from(decodeURIComponent(m[3]!), 'utf8') };
  } catch {
    return null;
  }
}

/** osTicket lets the message itself be a data URL, `data:text/html,...` or `data:text/plain,...`. */
export function messageText(message: string): string {
  if (!message.startsWith('data:')) return message;
  const parsed = parseDataUrl(message);
  if (!parsed) throw new ValidationError({ message: 'validation.data_url_invalid' });
  const text = parsed.data.toString('utf8');
  return parsed.contentType === 'text/html' ? htmlToText(text) : text;
}

/**
 * Decodes the attachments under the same caps as the portal's uploads: too many files is a 400 naming
 * the field, a file over the size cap a 413 naming the file.
 */
export function decodeAttachments(items: NewTicketBody['attachments'], limits: { maxFileBytes: number; maxFiles: number }): FileInput[] {
  if (!items?.length) return [];
  if (items.length > limits.maxFiles) {
    throw new ValidationError({ attachments: msg('validation.too_many_attachments', { max: limits.maxFiles, sent: items.length }) });
  }
  return items.map((item, i) => {
    const field = `attachments.${i}`;
    let filename: string;
    let encoded: string;
    let declaredType: string | undefined;
    if (typeof item.name === 'string' && typeof item.data === 'string') {
      filename = item.name;
      encoded = item.data;
      declaredType = item.type;
    } else {
      const entries = Object.entries(item);
      if (entries.length !== 1) throw new ValidationError({ [field]: 'validation.attachment_shape' });
      [filename, encoded] = entries[0]!;
    }
    // Refuse before decoding: base64 is 4 characters per 3 bytes.
    if (encoded.length > Math.ceil(limits.maxFileBytes / 3) * 4 + 1024) throw tooLarge(filesTooLarge([filename], limits.maxFileBytes));
    // Bare base64 only in the { name, type, data } form, where the type is declared next to it.
    const parsed = encoded.startsWith('data:')
      ? parseDataUrl(encoded)
      : declaredType && BASE64.test(encoded) ? { contentType: declaredType, data: Buffer.from(encoded, 'base64') } : null;
    if (!parsed) throw new ValidationError({ [field]: 'validation.data_invalid' });
    if (parsed.data.length > limits.maxFileBytes) throw tooLarge(filesTooLarge([filename], limits.maxFileBytes));
    return { filename, contentType: declaredType ?? parsed.contentType, data: parsed.data };
  });
}
