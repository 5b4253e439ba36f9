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
  return pino({ level, serializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination as never);
}

export type { Logger };
