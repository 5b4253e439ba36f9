import { ValidationError, type FieldErrors } from '../errors.js';

/** Driver errors normalised, so nothing outside db/ looks at MySQL or SQLite error codes. */
export class UniqueViolation extends Error {}
export class ForeignKeyViolation extends Error {}
export class RetryableConflict extends Error {}
export class DatabaseUnavailable extends Error {}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL',
  'ER_SERVER_SHUTDOWN', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'SQLITE_READONLY',
  // A statement past its time limit (a hung server): database.ts destroys the connection.
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

export function normaliseDbError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: string; errno?: number; name: string };
  const code = e.code ?? '';
  if (code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return Object.assign(new UniqueViolation(e.message), { cause: e });
  }
  if (code.startsWith('ER_NO_REFERENCED_ROW') || code.startsWith('ER_ROW_IS_REFERENCED') || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return Object.assign(new ForeignKeyViolation(e.message), { cause: e });
  }
  if (code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return Object.assign(new RetryableConflict(e.message), { cause: e });
  }
  if (UNAVAILABLE_CODES.has(code) || e.name === 'KnexTimeoutError' || /connect|pool is probably full/i.test(e.message) && !code) {
    return Object.assign(new DatabaseUnavailable(e.message), { cause: e });
  }
  return err;
}

export function isUniqueViolation(err: unknown): boolean {
  return normaliseDbError(err) instanceof UniqueViolation;
}

/**
 * Runs a write that a unique key may refuse, and says so as field errors: the key catches what two racing saves
 * both checked and found free, and the user sees the same message the check would have given.
 */
export async function refusingDuplicates<T>(write: () => Promise<T>, fields: FieldErrors): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof UniqueViolation) throw new ValidationError(fields);
    throw err;
  }
}
