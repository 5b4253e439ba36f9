/**
 * uuencode, the attachment format from before MIME that some mailers and scripts still send: either as a
 * MIME part with Content-Transfer-Encoding x-uuencode (which MIME parsers leave encoded), or as
 * "begin 644 name" … "end" blocks inside a plain-text body. Mail clients show both as attachments.
 */

export interface UuFile {
  filename: string;
  data: Buffer;
}

// begin <mode> <name>, the data lines (each starts with its byte count + 32, "`" standing for 0), end.
const BLOCK = /^begin [0-7]{3,4} ([^\r\n]+)\r?\n((?:[\x20-\x60][^\r\n]*\r?\n)*?)end[ \t]*(?:\r?\n|$)/gm;

function decodeLines(body: string): Buffer | null {
  const out: number[] = [];
  for (const line of body.split(/\r?\n/)) {
    if (!line) continue;
    // Only the 64 characters of the alphabet; trailing ones may be missing (stripped spaces read as 0).
    if (!/^[\x20-\x60]+$/.test(line)) return null;
    const count = (line.charCodeAt(0) - 32) & 63;
    if (count === 0) break;
    const c = (i: number) => (line.charCodeAt(i) - 32) & 63;
    for (let i = 1, left = count; left > 0; i += 4) {
      const [a, b, d, e] = [c(i), c(i + 1), c(i + 2), c(i + 3)];
      const bytes = [(a << 2) | (b >> 4), (b << 4) | (d >> 2), (d << 6) | e];
      for (let k = 0; k < 3 && left > 0; k++, left--) out.push(bytes[k]! & 255);
    }
  }
  return Buffer.from(out);
}

/** Every complete uuencoded block in `text`, and the text without them. */
export function extractUuencoded(text: string): { files: UuFile[]; text: string } {
  const files: UuFile[] = [];
  const rest = text.replace(BLOCK, (block, name: string, body: string) => {
    const data = decodeLines(body);
    if (!data) return block;
    files.push({ filename: name.trim(), data });
    return '';
  });
  return { files, text: files.length ? rest.replace(/\n{3,}/g, '\n\n') : text };
}
