/** Categories map once per transport: HTML status, JSON status, SMTP reply (DESIGN.md §8). */
export type ErrorCategory = 'validation' | 'not_found' | 'forbidden' | 'unauthorized' | 'conflict' | 'too_many' | 'too_large' | 'unavailable';

export type FieldErrors = Record<string, string>;

/** A domain error: a stable code, a category, and a message that is safe to show to the user. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly category: ErrorCategory,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export class ValidationError extends AppError {
  constructor(readonly fields: FieldErrors, message = 'Please correct the highlighted fields.') {
    super('VALIDATION_FAILED', 'validation', message, { fields });
  }
}

export const notFound = (code: string, message: string) => new AppError(code, 'not_found', message);
export const forbidden = (code: string, message: string) => new AppError(code, 'forbidden', message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
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
