/**
 * Quoted history and signatures, found for display only: the staff panel shows the new part and folds the
 * rest away behind a toggle. Nothing here changes what is stored.
 */

/**
 * The line our outgoing mails start with, in English; everything from it down is history the reader already
 * has. Notices carry it in the requester's language (notices.reply_marker), always between "##-" and "-##",
 * which is what is looked for here.
 */
export const REPLY_MARKER = '##- Please type your reply above this line -##';
const MARKER_TEXT = /##- [^\n<>#]{1,120} -##/;

export interface TrimmedText {
  visible: string;
  /** The folded part, '' when nothing was found. */
  quoted: string;
}

const MARKER_LINE = new RegExp(`^\\s*>*\\s*${MARKER_TEXT.source}`);
// "On Tue, 3 Nov 2026 at 10:00, Ann <ann@example.com> wrote:" (Gmail, Apple Mail, Thunderbird), also when
// the client wrapped it over two lines, and the common translations ("Am …, schrieb Ann <…>:").
const ATTRIBUTION = /^(On|Am|Le|El|Il|Op|Den|W dniu)\b.{0,300}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał)\b.{0,200}:\s*$/i;
const OUTLOOK_SEPARATOR = /^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{2,}|_{10,})\s*$/i;
const OUTLOOK_HEADER = /^\s*\*?(From|Von|De|Van)\s*:\*?\s+\S/i;
const OUTLOOK_SENT = /^\s*\*?(Sent|Gesendet|Envoyé|Enviado|Date)\s*:\*?\s+\S/i;
const SIGNATURE = /^-- ?$/;
const MOBILE_SIGNATURE = /^(Sent from my \w+|Get Outlook for \w+|Von meinem \w+ gesendet|Envoyé de mon \w+)/i;

function cutAt(lines: string[], index: number): TrimmedText {
  const visible = lines.slice(0, index).join('\n').replace(/\s+$/, '');
  // A message that is nothing but quotes (a forward, a bare ">" reply) is shown whole.
  if (!visible.trim()) return { visible: lines.join('\n'), quoted: '' };
  return { visible, quoted: lines.slice(index).join('\n').replace(/^\s*\n/, '') };
}

export function trimText(text: string): TrimmedText {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (MARKER_LINE.test(line)) {
      // The attribution line the client put above our quoted mail goes with it.
      let start = i;
      while (start > 0 && !lines[start - 1]!.trim()) start--;
      if (start > 0 && (ATTRIBUTION.test(lines[start - 1]!) || /^>\s*$/.test(lines[start - 1]!))) start--;
      return cutAt(lines, start);
    }
    if (ATTRIBUTION.test(line)) return cutAt(lines, i);
    if (i + 1 < lines.length && /^(On|Am|Le|El)\b/i.test(line) && ATTRIBUTION.test(`${line} ${lines[i + 1]!}`)) return cutAt(lines, i);
    if (OUTLOOK_SEPARATOR.test(line)) return cutAt(lines, i);
    if (OUTLOOK_HEADER.test(line) && lines.slice(i + 1, i + 4).some((l) => OUTLOOK_SENT.test(l))) return cutAt(lines, i);
    if (SIGNATURE.test(line)) return cutAt(lines, i);
    if (MOBILE_SIGNATURE.test(line) && lines.slice(i + 1).every((l) => !l.trim() || l.startsWith('>'))) return cutAt(lines, i);
    // A block of ">" lines that runs to the end of the message (blank lines allowed in between).
    if (line.startsWith('>') && lines.slice(i).every((l) => !l.trim() || l.startsWith('>'))) return cutAt(lines, i);
  }
  return { visible: text.replace(/\r\n?/g, '\n').replace(/\s+$/, ''), quoted: '' };
}

/**
 * Where quoted history starts in stored (already sanitised) HTML: the earliest quote container (the
 * sanitiser marks Gmail's, Apple Mail's and Outlook's with class "sb-quote") or our marker. Returns the
 * two halves, each to be sanitised again so that both are balanced markup; null when nothing was found.
 */
export function splitHtml(html: string): { visible: string; quoted: string } | null {
  const quote = html.search(/<(div|blockquote) class="sb-quote">/);
  const markerAt = html.search(MARKER_TEXT);
  const markerTag = markerAt >= 0 ? html.lastIndexOf('<', markerAt) : -1;
  const candidates = [quote, markerTag].filter((i) => i >= 0);
  if (!candidates.length) return null;
  const at = Math.min(...candidates);
  const visible = html.slice(0, at);
  if (!visible.replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').trim() && !/<img\b/.test(visible)) return null;
  return { visible, quoted: html.slice(at) };
}
