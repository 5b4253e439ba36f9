import { pino, type Logger } from 'pino';

/** Everything that can carry a credential is redacted before it reaches a log line. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.credentialKey',
  'password',
  'token',
];

/** Query parameters that carry a credential: client access links (?t=) and the first-run setup link (?token=). */
export function redactQuery(url: string): string {
  return url.replace(/([?&](?:t|token)=)[^&#]*/g, '$1[redacted]');
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
}

/**
 * Fastify's own request serializer logs the URL with its query string; this one (which Fastify prefers over
 * its default) keeps access and setup tokens out of the log.
 */
const serializers = {
  req: (req: LoggedRequest) => ({ method: req.method, url: redactQuery(req.url), host: req.host, remoteAddress: req.ip }),
};

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, serializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, (destination ?? bufferedStdout()) as never);
}

/** Lines wait at most this long in the buffer, so that a quiet process's log still reads as it happens. */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Standard output written in blocks of at least 4 KiB, off the event loop: one synchronous write per line was
 * 2% of mail intake's CPU (bench:mail profile), one line per message and per request. No line is lost on a
 * stop: pino flushes such a destination synchronously on the process's exit, which a graceful stop, a failed
 * start (main.ts) and an uncaught exception all end in.
 */
function bufferedStdout(): ReturnType<typeof pino.destination> {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => stream.flush(), FLUSH_INTERVAL_MS).unref();
  stream.on('close', () => clearInterval(timer));
  return stream;
}

export type { Logger };
