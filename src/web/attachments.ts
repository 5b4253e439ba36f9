import type { FastifyReply } from 'fastify';
import type { Attachment } from '../attachments/attachment-repository.js';

/**
 * Always a download, never rendered in our origin: an uploaded HTML or SVG file must not run as our page.
 * The filename goes out in RFC 6266 form, ASCII fallback plus UTF-8.
 */
export function sendAttachment(reply: FastifyReply, { attachment, data }: { attachment: Attachment; data: Buffer }) {
  const ascii = attachment.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return reply
    .header('Content-Type', 'application/octet-stream')
    .header('Content-Disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(attachment.filename)}`)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', "default-src 'none'; sandbox")
    .header('Cache-Control', 'private, no-store')
    .send(data);
}
