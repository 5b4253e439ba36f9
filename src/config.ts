import { readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LANGUAGES } from './i18n/languages.js';
import { TrustedRelays } from './mail/inbound/trusted-relays.js';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object(
  {
    databaseUrl: Type.String({ pattern: '^(sqlite:|mysql://)' }),
    // Processes serving HTTP and SMTP on the same ports (node:cluster); "auto": one per CPU core. 1: no cluster.
    workers: Type.Union([Type.Integer({ minimum: 1, maximum: 64 }), Type.Literal('auto')]),
    // Longest wait for a pooled connection or one statement: past it the request fails (SMTP 451, HTTP 503).
    databaseTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        // Behind a reverse proxy: the proxies' addresses or CIDR networks (comma-separated), whose X-Forwarded-For
        // is believed; decides which client address throttling and IP-bound keys see. Never `true` (see loadConfig).
        trustProxy: Type.Union([Type.Boolean(), Type.String()]),
        // Largest body an ordinary route reads (forms, JSON); upload routes have their own caps.
        bodyLimitBytes: Type.Integer({ minimum: 64 * 1024 }),
      },
      { additionalProperties: false },
    ),
    smtp: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        maxMessageBytes: Type.Integer({ minimum: 1024 }),
        maxRecipients: Type.Integer({ minimum: 1, maximum: 1000 }),
        maxClients: Type.Integer({ minimum: 1 }),
        maxConnectionsPerClient: Type.Integer({ minimum: 1 }),
        // The site's own relays (addresses or CIDR networks), exempt from maxConnectionsPerClient.
        trustedRelays: Type.Array(Type.String()),
        idleTimeoutSeconds: Type.Integer({ minimum: 1 }),
        dataTimeoutSeconds: Type.Integer({ minimum: 1 }),
        // How long a stopping server lets SMTP transactions and HTTP requests in flight finish (then 421, or the
        // connection cut); with 2 s to close the pool, within the 10 s docker and compose give a stop.
        closeTimeoutSeconds: Type.Integer({ minimum: 1 }),
        // PEM files; with both set the listener offers STARTTLS.
        tlsKeyFile: Type.String(),
        tlsCertFile: Type.String(),
      },
      { additionalProperties: false },
    ),
    mail: Type.Object(
      {
        reopenOnReply: Type.Boolean(),
        alertOnNewTicket: Type.Boolean(),
        alertOnNewMessage: Type.Boolean(),
        autoRepliesPerHour: Type.Integer({ minimum: 0 }),
        // authserv-ids (RFC 8601) of the site's own mail servers whose Authentication-Results are believed;
        // where set, staff authorship by mail also needs SPF or DKIM to pass there, aligned with From.
        trustedAuthServers: Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\s;]+$' }), { maxItems: 20 }),
      },
      { additionalProperties: false },
    ),
    outbox: Type.Object(
      {
        maxAttempts: Type.Integer({ minimum: 1, maximum: 100 }),
        retryBaseSeconds: Type.Integer({ minimum: 1 }),
        batchSize: Type.Integer({ minimum: 1, maximum: 1000 }),
        // A claimed row untouched this long (its node died) is sent by another node; the heartbeat is a third.
        claimTimeoutSeconds: Type.Integer({ minimum: 2, maximum: 3600 }),
      },
      { additionalProperties: false },
    ),
    scheduler: Type.Object(
      { tickSeconds: Type.Integer({ minimum: 1 }), leaseSeconds: Type.Integer({ minimum: 2 }) },
      { additionalProperties: false },
    ),
    // Days kept before the purge job deletes; 0 keeps for ever. Quarantined and waiting rows are never purged.
    retention: Type.Object(
      {
        sentMailDays: Type.Integer({ minimum: 0 }),
        // Failed and cancelled mail, kept longer: it is what an administrator looks into.
        failedMailDays: Type.Integer({ minimum: 0 }),
        // Incoming messages that were handled (raw copies, the dedupe log).
        inboundDays: Type.Integer({ minimum: 0 }),
        auditDays: Type.Integer({ minimum: 0 }),
        // Tickets marked as spam, kept this long so that a mistake can be undone, then deleted.
        spamDays: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    // Empty: http://localhost:<http.port>, right for a trial on this machine; set it for anything else.
    publicUrl: Type.String({ pattern: '^(https?://[^\\s]+)?$' }),
    mailDomain: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9.-]+$' }),
    outboundSmtpUrl: Type.String(),
    // Empty: a key generated at first start and kept in the database. Set (32 bytes in base64, e.g. from
    // `openssl rand -base64 32`) to keep the key of remote mail accounts' passwords out of the database and its backups.
    credentialKey: Type.String({ pattern: '^([A-Za-z0-9+/]{43}=)?$' }),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    helpdeskName: Type.String({ minLength: 1, maxLength: 120 }),
    attachments: Type.Object(
      { maxFileBytes: Type.Integer({ minimum: 1 }), maxFiles: Type.Integer({ minimum: 0, maximum: 50 }) },
      { additionalProperties: false },
    ),
    sessions: Type.Object(
      {
        staffIdleMinutes: Type.Integer({ minimum: 1 }),
        clientIdleMinutes: Type.Integer({ minimum: 1 }),
        // However active: a session ends this long after sign-in (staff and client).
        absoluteDays: Type.Integer({ minimum: 1, maximum: 365 }),
      },
      { additionalProperties: false },
    ),
    login: Type.Object(
      {
        // Per (account, address) pair, and per address for unknown names: blocked for the window past this.
        maxFailures: Type.Integer({ minimum: 1 }),
        windowMinutes: Type.Integer({ minimum: 1 }),
        // Per account from any address: past this, each attempt waits a doubling delay, at most maxDelaySeconds.
        accountDelayAfter: Type.Integer({ minimum: 1 }),
        maxDelaySeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
      },
      { additionalProperties: false },
    ),
    locks: Type.Object(
      {
        mode: Type.Union([Type.Literal('activity'), Type.Literal('view')]),
        minutes: Type.Integer({ minimum: 1, maximum: 120 }),
        notesWhileLocked: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    // argon2id's cost for agents' passwords. The floor is OWASP's least (19 MiB, 2 passes); the default is the
    // argon2 library's (64 MiB, 3 passes, 4 lanes). A changed cost reaches an old hash at its next sign-in.
    passwordHashing: Type.Object(
      {
        memoryKiB: Type.Integer({ minimum: 19_456, maximum: 4_194_304 }),
        timeCost: Type.Integer({ minimum: 2, maximum: 20 }),
        parallelism: Type.Integer({ minimum: 1, maximum: 16 }),
      },
      { additionalProperties: false },
    ),
    queuePageSize: Type.Integer({ minimum: 5, maximum: 500 }),
    i18n: Type.Object(
      {
        // The site's language until an administrator chooses one on the settings page (which then wins).
        defaultLanguage: Type.Union(LANGUAGES.map((l) => Type.Literal(l.code))),
        // Offers the accented, longer pseudo-locale (en-XA) for checking layouts and missed strings.
        pseudoLocale: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    portal: Type.Object(
      // Tickets one client address may open from the portal per hour (0: none); counted in the database.
      { ticketsPerHourPerAddress: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** Environment variables of the configuration contract (DESIGN.md §4) and the key each one sets. */
const ENV_KEYS: Record<string, { path: string[]; type: 'string' | 'int' | 'intOrString' | 'flagOrString' | 'list' }> = {
  DATABASE_URL: { path: ['databaseUrl'], type: 'string' },
  SWITCHBOARD_WORKERS: { path: ['workers'], type: 'intOrString' },
  HTTP_HOST: { path: ['http', 'host'], type: 'string' },
  HTTP_PORT: { path: ['http', 'port'], type: 'int' },
  SMTP_HOST: { path: ['smtp', 'host'], type: 'string' },
  SMTP_PORT: { path: ['smtp', 'port'], type: 'int' },
  SMTP_TRUSTED_RELAYS: { path: ['smtp', 'trustedRelays'], type: 'list' },
  PUBLIC_URL: { path: ['publicUrl'], type: 'string' },
  MAIL_DOMAIN: { path: ['mailDomain'], type: 'string' },
  OUTBOUND_SMTP_URL: { path: ['outboundSmtpUrl'], type: 'string' },
  CREDENTIAL_KEY: { path: ['credentialKey'], type: 'string' },
  LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  TRUST_PROXY: { path: ['http', 'trustProxy'], type: 'flagOrString' },
  RETENTION_SENT_MAIL_DAYS: { path: ['retention', 'sentMailDays'], type: 'int' },
  RETENTION_FAILED_MAIL_DAYS: { path: ['retention', 'failedMailDays'], type: 'int' },
  RETENTION_INBOUND_DAYS: { path: ['retention', 'inboundDays'], type: 'int' },
  RETENTION_AUDIT_DAYS: { path: ['retention', 'auditDays'], type: 'int' },
  RETENTION_SPAM_DAYS: { path: ['retention', 'spamDays'], type: 'int' },
  DEFAULT_LANGUAGE: { path: ['i18n', 'defaultLanguage'], type: 'string' },
};

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message}`);
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** TypeBox says "Expected union value" for a bad enum; name the values that are allowed instead. */
function describe(schema: TSchema, message: string): string {
  const options = (schema as { anyOf?: Array<{ const?: unknown }> }).anyOf;
  const literals = options?.map((o) => o.const).filter((v) => v !== undefined);
  return literals && literals.length === options!.length ? `must be one of ${literals.join(', ')}` : message;
}

// proxy-addr's names for the loopback, link-local and private ranges.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyEntry(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [addr, bits, ...rest] = entry.split('/');
  const family = isIP(addr ?? '');
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  // proxy-addr also takes a netmask written as an address (10.0.0.0/255.0.0.0).
  if (isIP(bits) === family) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * `true` would believe X-Forwarded-For from anyone, so any client could claim any address and walk past the
 * login throttle and IP-bound API keys: refused, with the form to write instead.
 */
function checkTrustProxy(value: boolean | string): void {
  const where = 'config: http.trustProxy (TRUST_PROXY)';
  if (value === true) {
    throw new ConfigError(`${where} must not be true: that lets any client claim any address; list your reverse proxies' addresses or networks instead, e.g. TRUST_PROXY=127.0.0.1 or TRUST_PROXY=10.0.0.0/24,10.0.1.5`);
  }
  if (typeof value !== 'string') return;
  const bad = value.split(',').map((e) => e.trim()).find((e) => !isProxyEntry(e));
  if (bad !== undefined) throw new ConfigError(`${where}: "${bad}" is not an IP address or CIDR network; write e.g. TRUST_PROXY=127.0.0.1 or TRUST_PROXY=10.0.0.0/24,10.0.1.5`);
}

/**
 * Loads config/default.json, then the file named by SWITCHBOARD_CONFIG (or config/local.json when present),
 * then the environment, then `overrides` (tests). Throws ConfigError with one line naming the bad key.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  rootDir: string = process.cwd(),
): Config {
  let raw = readJson(resolve(rootDir, 'config/default.json'));
  const extra = env.SWITCHBOARD_CONFIG ? resolve(rootDir, env.SWITCHBOARD_CONFIG) : resolve(rootDir, 'config/local.json');
  if (env.SWITCHBOARD_CONFIG || existsSync(extra)) raw = deepMerge(raw, readJson(extra));

  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (spec.type === 'int') {
      if (!/^\d+$/.test(value)) throw new ConfigError(`config: ${name} must be a whole number, got "${value}"`);
      parsed = Number(value);
    }
    if (spec.type === 'intOrString' && /^\d+$/.test(value)) parsed = Number(value);
    if (spec.type === 'flagOrString' && (value === 'true' || value === 'false')) parsed = value === 'true';
    if (spec.type === 'list') parsed = value.split(',').map((v) => v.trim()).filter(Boolean);
    let target = raw;
    for (const key of spec.path.slice(0, -1)) {
      target[key] = { ...(target[key] as Record<string, unknown>) };
      target = target[key] as Record<string, unknown>;
    }
    target[spec.path[spec.path.length - 1]!] = parsed;
  }
  raw = deepMerge(raw, overrides);

  const first = Value.Errors(ConfigSchema, raw).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    const envName = Object.entries(ENV_KEYS).find(([, s]) => s.path.join('.') === key)?.[0];
    throw new ConfigError(`config: invalid value for ${key}${envName ? ` (${envName})` : ''}: ${describe(first.schema, first.message)}`);
  }
  const config = raw as Config;
  checkTrustProxy(config.http.trustProxy);
  try {
    TrustedRelays.parse(config.smtp.trustedRelays);
  } catch (err) {
    throw new ConfigError(`config: invalid value for smtp.trustedRelays (SMTP_TRUSTED_RELAYS): ${(err as Error).message}`);
  }
  config.publicUrl = (config.publicUrl || `http://localhost:${config.http.port}`).replace(/\/+$/, '');
  return deepFreeze(config);
}
