import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import type { UploadedFile } from '../forms.js';

/** Who may send files to a route (route option `config.uploads`); routes without it take none. */
export type UploadPolicy = 'public' | 'client' | 'staff';

declare module 'fastify' {
  interface FastifyContextConfig {
    uploads?: UploadPolicy;
  }
  interface FastifyRequest {
    /** Set when the multipart reader stopped early (a file over a cap, or files not accepted here): answer 413. */
    uploadRefused: boolean;
  }
}

const isLimitError = (err: unknown) => err instanceof Error && /LIMIT|TOO_LARGE/.test((err as { code?: string }).code ?? '');

/** The file's bytes, or null as soon as it passes `max` (the stream is then destroyed, not read to its end). */
function readCapped(file: Readable & { truncated?: boolean }, max: number, halt: () => void): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const over = () => {
      // Synchronously: busboy discards what is past its cap without back-pressure, so a fast sender would
      // otherwise have the whole body read before the stream's close reaches the multipart reader.
      halt();
      file.removeAllListeners('data');
      file.destroy();
      resolve(null);
    };
    file.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over();
      else chunks.push(chunk);
    });
    // busboy's own cap (limits.fileSize): without stopping here it would go on parsing, and discarding, the
    // rest of the part before ending the stream.
    file.on('limit', over);
    file.on('end', () => resolve(file.truncated ? null : Buffer.concat(chunks)));
    file.on('error', reject);
  });
}

/**
 * preValidation hook replacing @fastify/multipart's attachFieldsToBody: reads a multipart body part by part,
 * checking as the data arrives instead of after buffering it all (issue 7: ~74 MB was read on every route
 * before CSRF and sign-in were checked). Fields together may not exceed the app's bodyLimit. A file is read
 * only on a route that takes uploads, only after the form's CSRF token (the first field of our forms) was
 * seen and is valid, and only when the route's principal is signed in; each file is read up to the size
 * cap and no further. Where it stops, the body holds what was read so far, so the form comes back with the
 * fields kept: a file over the cap appears truncated (the route's upload check names it), too many files
 * appear as one file too many. The rest of the request is not read: the connection is closed after the reply.
 */
export async function readMultipartBody(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  request.uploadRefused = false;
  if (!request.isMultipart()) return;
  const policy = request.routeOptions.config.uploads;
  const limits = request.server.services.config.attachments;
  const maxFieldBytes = request.server.initialConfig.bodyLimit ?? 1024 * 1024;
  const body: Record<string, unknown> = {};
  const add = (name: string, entry: unknown) => {
    const prev = body[name];
    body[name] = prev === undefined ? entry : Array.isArray(prev) ? [...prev, entry] : [prev, entry];
  };
  const stop = () => {
    request.uploadRefused = true;
    request.raw.unpipe();
    reply.header('connection', 'close');
  };
  // A route that takes no files says in advance how much it reads; a body declared larger is refused unread.
  if (!policy && Number(request.headers['content-length']) > maxFieldBytes) {
    stop();
    throw new AppError('PAYLOAD_TOO_LARGE', 'too_large', 'errors.form.too_large');
  }
  let fieldBytes = 0;
  let files = 0;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        const field = part as MultipartValue<unknown>;
        fieldBytes += field.fieldname.length + Buffer.byteLength(String(field.value));
        if (fieldBytes > maxFieldBytes || field.valueTruncated) {
          stop();
          throw new AppError('PAYLOAD_TOO_LARGE', 'too_large', 'errors.form.too_large');
        }
        add(field.fieldname, { type: 'field', value: field.value });
        continue;
      }
      const file = part as MultipartFile;
      const given = body._csrf && typeof body._csrf === 'object' ? (body._csrf as { value?: unknown }).value : undefined;
      if (!policy) {
        file.file.destroy();
        stop();
        throw new AppError('PAYLOAD_TOO_LARGE', 'too_large', 'errors.form.takes_no_files');
      }
      if (!request.server.csrf.isValid(request, typeof given === 'string' ? given : undefined)) {
        // Not one of our forms (or an expired one): nothing of it is worth reading.
        file.file.destroy();
        stop();
        throw request.server.csrf.error();
      }
      if ((policy === 'staff' && !request.staff) || (policy === 'client' && !request.client)) {
        // Signed out: the fields read so far go on, so that the sign-in page can keep the text; no file is read.
        file.file.destroy();
        stop();
        break;
      }
      files += 1;
      const uploaded: UploadedFile = { filename: file.filename, contentType: file.mimetype, data: Buffer.alloc(0), truncated: false };
      if (files > limits.maxFiles) {
        file.file.destroy();
        stop();
        add(file.fieldname, { type: 'file', value: uploaded });
        break;
      }
      const data = await readCapped(file.file, limits.maxFileBytes, stop);
      if (!data) {
        stop();
        add(file.fieldname, { type: 'file', value: { ...uploaded, truncated: true } });
        break;
      }
      add(file.fieldname, { type: 'file', value: { ...uploaded, data } });
    }
  } catch (err) {
    if (!isLimitError(err)) throw err;
    stop();
    throw new AppError('PAYLOAD_TOO_LARGE', 'too_large', 'errors.form.too_many_parts');
  }
  request.body = body;
}

/**
 * onSend hook: a reply sent before the request body was read to its end (refused by an auth hook, a CSRF
 * check or a cap) closes the connection, rather than letting Node read and discard the rest of it.
 */
export async function closeUnreadBodies(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!request.raw.complete) reply.header('connection', 'close');
}
