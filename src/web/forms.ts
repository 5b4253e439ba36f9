import type { FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../errors.js';
import { msg, type Msg } from '../i18n/message.js';
import type { FileInput } from '../tickets/ticket.js';

/** What the multipart onFile hook leaves in the body for each uploaded file. */
export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
  truncated: boolean;
}

export interface Form {
  fields: Record<string, string>;
  /** Values of fields sent more than once (checkbox groups, multi-selects). */
  lists: Record<string, string[]>;
  files: Record<string, UploadedFile[]>;
}

/** One shape for urlencoded and multipart bodies, so every form route reads its input the same way. */
export function readForm(request: FastifyRequest): Form {
  const form: Form = { fields: {}, lists: {}, files: {} };
  const body = (request.body ?? {}) as Record<string, unknown>;
  for (const [key, raw] of Object.entries(body)) {
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      let value: unknown = item;
      if (item && typeof item === 'object' && 'type' in item) {
        const part = item as { type: string; value: unknown };
        if (part.type === 'file') {
          const file = part.value as UploadedFile | undefined;
          // Only the multipart parser makes Buffers: a JSON body imitating an upload is ignored.
          if (file && Buffer.isBuffer(file.data) && (file.filename || file.data.length)) (form.files[key] ??= []).push(file);
          continue;
        }
        value = part.value;
      }
      if (typeof value !== 'string') continue;
      (form.lists[key] ??= []).push(value);
      form.fields[key] ??= value;
    }
  }
  return form;
}

/** Checks uploads against the caps; the error names the file so the user knows which one to drop. */
export function checkUploads(files: UploadedFile[], limits: { maxFileBytes: number; maxFiles: number }, field = 'attachments'): FileInput[] {
  const errors: FieldErrors = {};
  if (files.length > limits.maxFiles) errors[field] = msg('validation.too_many_files', { max: limits.maxFiles });
  const tooBig = files.filter((f) => f.truncated || f.data.length > limits.maxFileBytes);
  if (tooBig.length) errors[field] = filesTooLarge(tooBig.map((f) => f.filename), limits.maxFileBytes);
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return files.map((f) => ({ filename: f.filename, contentType: f.contentType, data: f.data }));
}

/** File names are names, not prose: listed as they are, before the message; the size is said by the reader's Translator. */
export const filesTooLarge = (names: string[], limitBytes: number): Msg => msg('validation.file_too_large', { files: names.join(', '), limitBytes });

/** A route or query id; 0, which no row has, when it is not one, so the lookup answers "not found". */
export function parseId(raw: string | undefined): number {
  return raw && /^\d{1,10}$/.test(raw) ? Number(raw) : 0;
}

/** An optional positive integer field: '' is null; anything else that is not a number is a field error. */
export function optionalId(value: string | undefined, field: string): number | null {
  if (value === undefined || value.trim() === '') return null;
  if (!/^\d{1,10}$/.test(value.trim())) throw new ValidationError({ [field]: 'validation.choose_from_list' });
  return Number(value);
}

/**
 * Runs a form check, collecting its field errors instead of throwing them, so that a form with several
 * problems lists all of them at once; answers `fallback` when the check failed.
 */
export function gather<T>(check: () => T, into: FieldErrors, fallback: T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    Object.assign(into, err.fields);
    return fallback;
  }
}

export const tooLarge = (message: Msg) => new AppError('PAYLOAD_TOO_LARGE', 'too_large', message);
