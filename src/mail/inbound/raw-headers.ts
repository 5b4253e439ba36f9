import iconv from 'iconv-lite';
import libmime from 'libmime';

/**
 * Header text as mail clients show it. RFC 5322 headers are ASCII and RFC 6532 allows UTF-8, but a lot of
 * mail still carries raw 8-bit headers in a legacy charset that nothing names. Thunderbird and Outlook read
 * those in the message's own charset when it declares one, else in windows-1252 (the superset of Latin-1
 * that such senders mean); so do we, instead of printing U+FFFD for every accented letter.
 */

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UNICODE = /^(utf-?8|us-?ascii|ascii)$/i;
// Charsets that would turn ASCII text into something else: never a fallback for header bytes.
const REFUSED = /^utf-?7|^utf-?16|^utf-?32|^ucs-?2|^base64|^hex/i;

function isUtf8(b: Buffer): boolean {
  try {
    UTF8.decode(b);
    return true;
  } catch {
    return false;
  }
}

function usableCharset(name: string | null): string | null {
  if (!name || UNICODE.test(name) || REFUSED.test(name)) return null;
  const normal = libmime.normalizeCharset(name);
  return iconv.encodingExists(normal) ? normal : null;
}

interface HeaderBlock {
  start: number;
  end: number;
  charset: string | null;
}

const param = (value: string, name: string) => new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|([^\\s;]+))`, 'i').exec(value);

/**
 * The header sections of the message and of each MIME part, found by the boundaries the Content-Type
 * headers name (RFC 2046 §5.1.1); a linear scan that reads nothing of a body but lines starting "--".
 */
function headerBlocks(raw: Buffer): HeaderBlock[] {
  const blocks: HeaderBlock[] = [];
  const boundaries = new Set<string>();
  let blockStart: number | null = 0;
  const close = (end: number) => {
    const text = raw.subarray(blockStart!, end).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
    const contentType = /^content-type:(.*)$/im.exec(text)?.[1] ?? '';
    const boundary = param(contentType, 'boundary');
    if (boundary) boundaries.add(boundary[1] ?? boundary[2]!);
    const charset = param(contentType, 'charset');
    blocks.push({ start: blockStart!, end, charset: charset ? (charset[1] ?? charset[2]!) : null });
    blockStart = null;
  };
  for (let pos = 0; pos < raw.length; ) {
    let nl = raw.indexOf(10, pos);
    if (nl < 0) nl = raw.length;
    const lineEnd = nl > pos && raw[nl - 1] === 13 ? nl - 1 : nl;
    if (blockStart !== null) {
      if (lineEnd === pos) close(pos);
    } else if (raw[pos] === 45 && raw[pos + 1] === 45 && boundaries.has(raw.subarray(pos + 2, lineEnd).toString('latin1').trimEnd())) {
      blockStart = nl + 1;
    }
    pos = nl + 1;
  }
  if (blockStart !== null && blockStart < raw.length) close(raw.length);
  return blocks;
}

/**
 * The message with every header section that is not valid UTF-8 re-encoded as UTF-8, read in the
 * section's own charset, else the first legacy charset the message declares, else windows-1252. What
 * is already UTF-8 (RFC 6532) or ASCII is left byte for byte; so is every body.
 */
export function headersAsUtf8(raw: Buffer): Buffer {
  if (isUtf8(raw)) return raw;
  const blocks = headerBlocks(raw);
  const broken = blocks.filter((b) => !isUtf8(raw.subarray(b.start, b.end)));
  if (!broken.length) return raw;
  const declared = blocks.map((b) => usableCharset(b.charset)).find(Boolean) ?? 'windows-1252';
  const out: Buffer[] = [];
  let at = 0;
  for (const b of broken) {
    out.push(raw.subarray(at, b.start), Buffer.from(iconv.decode(raw.subarray(b.start, b.end), usableCharset(b.charset) ?? declared), 'utf8'));
    at = b.end;
  }
  out.push(raw.subarray(at));
  return Buffer.concat(out);
}

/** A header value made readable: encoded-words (RFC 2047) decoded; never throws. */
export function decodeHeaderText(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/**
 * Header text that may have been read byte for byte as Latin-1 (UTF-8 shown as "GrÃ¼ÃŸe") or left with its
 * encoded-words: made readable. Text that is already right comes back unchanged.
 */
export function readableHeaderText(value: string): string {
  const bytes = /^[\x00-\xff]*$/.test(value) && /[\x80-\xff]/.test(value) ? Buffer.from(value, 'latin1') : null;
  return decodeHeaderText(bytes && isUtf8(bytes) ? bytes.toString('utf8') : value);
}

/** The header section of a raw message (within its first `limit` bytes), as text decoded as above. */
export function headerSection(raw: Buffer, limit = 64 * 1024): string {
  const head = headersAsUtf8(raw.subarray(0, limit)).toString('utf8');
  const end = head.search(/\r?\n\r?\n/);
  return end >= 0 ? head.slice(0, end) : head;
}

/** Text in a MIME part's declared charset; UTF-8 when it names none or one we cannot read. */
export function decodeCharset(data: Buffer, charset: string | null | undefined): string {
  const usable = usableCharset(charset ?? null);
  return usable ? iconv.decode(data, usable) : data.toString('utf8');
}
