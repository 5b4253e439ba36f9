import { toMessage, type Message, type Msg } from './i18n/message.js';

/** Categories map once per transport: HTML status, JSON status, SMTP reply (DESIGN.md §8). */
export type ErrorCategory = 'validation' | 'not_found' | 'forbidden' | 'unauthorized' | 'conflict' | 'too_many' | 'too_large' | 'unavailable';

/** Per field, what is wrong with it: a catalog key with its parameters, translated by the web layer. */
export type FieldErrors = Record<string, Msg>;

/**
 * A domain error: a stable code, a category, and what to tell the user as a catalog key with parameters
 * (src/i18n/message.ts): the web layer says it in the reader's language. Error.message is the key, for logs.
 */
export class AppError extends Error {
  readonly userMessage: Message;

  constructor(
    readonly code: string,
    readonly category: ErrorCategory,
    message: Msg,
    readonly details?: Record<string, unknown>,
  ) {
    const m = toMessage(message);
    super(m.key);
    this.userMessage = m;
    this.name = 'AppError';
  }
}

export class ValidationError extends AppError {
  constructor(readonly fields: FieldErrors, message: Msg = 'validation.fix_fields') {
    super('VALIDATION_FAILED', 'validation', message, { fields });
  }
}

export const notFound = (code: string, message: Msg) => new AppError(code, 'not_found', message);
export const forbidden = (code: string, message: Msg) => new AppError(code, 'forbidden', message);
export const conflict = (code: string, message: Msg, details?: Record<string, unknown>) =>
  new AppError(code, 'conflict', message, details);

export const HTTP_STATUS: Record<ErrorCategory, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  too_many: 429,
  unavailable: 503,
};
