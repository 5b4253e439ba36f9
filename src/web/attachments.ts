import type { FastifyReply } from 'fastify';
import type { Attachment } from '../attachments/attachment-repository.js';
import { safeFilename } from '../content/file-name.js';
import { translatorFor } from './i18n.js';

/**
 * Always a download, never rendered in our origin: an uploaded HTML or SVG file must not run as our page.
 * The filename goes out in RFC 6266 form, ASCII fallback plus UTF-8.
 */
/** Raster types a browser decodes as images only: what an inline (cid:) image in mail HTML may be served as. */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * An image embedded in a mail (cid:), shown inline in the thread. Only raster types, with their own type and
 * a sandboxing CSP; anything else (an SVG, which can carry script) is a 404 here and stays a download.
 */
export async function sendInlineImage(reply: FastifyReply, { attachment, data }: { attachment: Attachment; data: Buffer }) {
  if (!INLINE_IMAGE_TYPES.has(attachment.contentType)) {
    const { t } = await translatorFor(reply.request);
    return reply.code(404).type('text/plain; charset=utf-8').send(t('errors.attachment.not_inline_image'));
  }
  return reply
    .header('Content-Type', attachment.contentType)
    .header('Content-Disposition', 'inline')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', "default-src 'none'; sandbox")
    .header('Cache-Control', 'private, max-age=3600')
    .send(data);
}

export function sendAttachment(reply: FastifyReply, { attachment, data }: { attachment: Pick<Attachment, 'filename'>; data: Buffer }) {
  // The repository hands out safe names already; the header is built from the same rules whatever the caller passes.
  const name = safeFilename(attachment.filename);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return reply
    .header('Content-Type', 'application/octet-stream')
    .header('Content-Disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', "default-src 'none'; sandbox")
    .header('Cache-Control', 'private, no-store')
    .send(data);
}
