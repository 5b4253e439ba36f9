import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { systemClock } from '../../src/db/time.js';
import { DIRECTORY_REFRESH_MS } from '../../src/directory/directory-cache.js';
import { createLogger } from '../../src/logger.js';
import { createServices } from '../../src/services.js';
import { loadSecrets } from '../../src/settings/secrets.js';
import { SettingsRepository } from '../../src/settings/settings-repository.js';
import { messageIdHash } from '../../src/mail/message-id.js';
import { cell, intArg, parseBenchArgs, percentiles, prng, round, scratchDatabase } from './common.js';
import { Meter, SERVER_HELP, SERVER_OPTIONS, costNotes, cpuProfArgs, perRequestCost, startServer, type Cost, type PerRequestCost, type Server } from './server.js';

const HELP = `npm run bench:mail -- [options]

Starts the product's server (SMTP listener, web app, jobs) in its own process on a fresh database, sends it
mail over SMTP from this process, then checks in the database that every message was stored exactly once, as
a new ticket or as a reply on the right ticket. Reports, beside throughput and latency, the server's CPU per
message (app and database apart, from /proc) and SQL statements per message, for new tickets and replies.

  --db sqlite|mysql     database for the server (default sqlite: a temporary file; mysql: a fresh
                        database sb_bench_mail on --mysql-url, dropped afterwards)
  --mysql-url URL       MySQL/MariaDB server for --db mysql (default mysql://root@127.0.0.1:3306/)
  --messages N          messages to send (default 2000): a quarter with an attachment, a quarter replies
  --concurrency N       concurrent SMTP connections (default 8)
  --min-kb N            smallest message in KB (default 5)
  --max-kb N            largest message in KB (default 50)
  --senders N           distinct sender addresses (default 400)
  --agents N            agents in the mailbox's department (default 0): each message then also writes their
                        alerts, as at a real desk; a reply's phase ends once its alerts are in the outbox,
                        where a server writes them after the 250. Needs a server from migration 0012 on
  --log-level LEVEL     server log level, written to /dev/null (default info, as in production)
${SERVER_HELP}  --keep                keep the benchmark database
`;

const { values: args, int } = parseBenchArgs('bench:mail', HELP, {
  db: { type: 'string', default: 'sqlite' },
  'mysql-url': { type: 'string', default: 'mysql://root@127.0.0.1:3306/' },
  messages: { type: 'string', default: '2000' },
  concurrency: { type: 'string', default: '8' },
  'min-kb': { type: 'string', default: '5' },
  'max-kb': { type: 'string', default: '50' },
  senders: { type: 'string', default: '400' },
  agents: { type: 'string', default: '0' },
  'log-level': { type: 'string', default: 'info' },
  ...SERVER_OPTIONS,
  keep: { type: 'boolean', default: false },
});

const MESSAGES = int('messages', 8);
const CONCURRENCY = int('concurrency', 1);
const MIN_BYTES = int('min-kb', 2) * 1024;
const MAX_BYTES = Math.max(MIN_BYTES, int('max-kb', 2) * 1024);
const SENDERS = int('senders', 1);
const AGENTS = int('agents', 0);
const MAIL_DOMAIN = 'helpdesk.test';
const RCPT = `support@${MAIL_DOMAIN}`;
const WORKERS = args.workers === undefined ? undefined : intArg('bench:mail', 'workers', args.workers, 1);
/** Replies need an answered message to point at: none among the first few, while nothing has been answered. */
const FIRST_REPLY_AT = CONCURRENCY * 4;

if (args.db !== 'sqlite' && args.db !== 'mysql') {
  process.stderr.write('bench:mail: --db must be sqlite or mysql\n');
  process.exit(2);
}
const DB = args.db;
if (MESSAGES - FIRST_REPLY_AT < Math.floor(MESSAGES / 4)) {
  process.stderr.write(`bench:mail: --messages must be at least ${Math.ceil((FIRST_REPLY_AT * 4) / 3) + 1} at this concurrency\n`);
  process.exit(2);
}

const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------------------
// The workload: deterministic for a given seed, so two runs send the same mail.

const rand = prng(20261122);
const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

const WORDS = (
  'hello thanks please order invoice account login password error page button browser screenshot refund payment ' +
  'subscription team plan export report dashboard mobile app shipment delivery address change cancel upgrade ' +
  'yesterday today morning again still broken working slow fast customer support help question problem issue ' +
  'the a to of and in for on with that this is it we you our your was not be have from at by could would'
).split(' ');
const SUBJECTS = ['Cannot log in', 'Question about my invoice', 'Refund request', 'Export fails', 'Password reset not arriving', 'Double charge', 'Upgrade our plan', 'Broken link', 'Missing items in order', 'Slow dashboard'];
const NAMES = ['Ana Almeida', 'Ben Berg', 'Chloé Chen', 'Dmitri Dubois', 'Elif Eriksen', 'Farah Fischer', 'Gustavo García', 'Hana Horvat', 'Ivan Ito', 'Jasmine Jensen'];

function prose(bytes: number): string {
  const lines: string[] = [];
  let line = '';
  let total = 0;
  while (total < bytes) {
    const w = pick(WORDS);
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      total += line.length + 2;
      line = '';
      if (rand() < 0.12) {
        lines.push('');
        total += 2;
      }
    }
    line = line ? `${line} ${w}` : w[0]!.toUpperCase() + w.slice(1);
  }
  if (line) lines.push(`${line}.`);
  return lines.join('\r\n');
}

const base64Lines = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');

interface Planned {
  index: number;
  kind: 'new' | 'reply';
  attachment: boolean;
  html: boolean;
  bytes: number;
  sender: number;
  messageId: string;
}

interface Sent extends Planned {
  /** For a reply: the message it answers, and the first message of that conversation. */
  parent: string | null;
  root: string;
  references: string[];
  subject: string;
  latencyMs: number;
}

function plan(tag: string): Planned[] {
  const replies = new Set<number>();
  const candidates = Array.from({ length: MESSAGES - FIRST_REPLY_AT }, (_, i) => i + FIRST_REPLY_AT);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  for (const i of candidates.slice(0, Math.floor(MESSAGES / 4))) replies.add(i);
  const all = Array.from({ length: MESSAGES }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const withAttachment = new Set(all.slice(0, Math.floor(MESSAGES / 4)));
  return Array.from({ length: MESSAGES }, (_, index) => ({
    index,
    kind: replies.has(index) ? ('reply' as const) : ('new' as const),
    attachment: withAttachment.has(index),
    // Half the mail is multipart/alternative with an HTML part, as most mail clients send it.
    html: rand() < 0.5,
    bytes: Math.round(MIN_BYTES + rand() * (MAX_BYTES - MIN_BYTES)),
    sender: Math.floor(rand() * SENDERS),
    messageId: `bench.${tag}.${index}@client.example`,
  }));
}

const senderAddress = (n: number) => `customer${n}@example.com`;

/** The message as a sender's client would write it, close to `p.bytes` long, dot-stuffed and CRLF-terminated. */
function compose(p: Planned, subject: string, parent: Sent | null): { wire: Buffer; references: string[] } {
  const references = parent ? [...parent.references, parent.messageId] : [];
  const boundary = (s: string) => `=_${s}_${p.index}_${randomBytes(6).toString('hex')}`;
  const head = [
    `From: ${NAMES[p.sender % NAMES.length]} <${senderAddress(p.sender)}>`,
    `To: Support <${RCPT}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${p.messageId}>`,
    ...(parent ? [`In-Reply-To: <${parent.messageId}>`, `References: ${references.map((r) => `<${r}>`).join(' ')}`] : []),
    'MIME-Version: 1.0',
  ];
  const headBytes = head.join('\r\n').length + 200;
  let attachmentBytes = 0;
  if (p.attachment) attachmentBytes = Math.max(512, Math.floor(((p.bytes - headBytes) * 0.7 * 3) / 4));
  const textBudget = Math.max(300, p.bytes - headBytes - Math.ceil((attachmentBytes * 4) / 3) * 1.03);
  // With an HTML part the text is there twice, so each part gets half.
  const text = prose(p.html ? textBudget / 2.3 : textBudget);
  const textPart = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', text];
  let body: string[];
  if (p.html) {
    const html = `<html><body>${text.split('\r\n\r\n').map((para) => `<p>${para.replace(/\r\n/g, '<br>\r\n')}</p>`).join('\r\n')}</body></html>`;
    const b = boundary('alt');
    body = [`Content-Type: multipart/alternative; boundary="${b}"`, '', `--${b}`, ...textPart, `--${b}`, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', html, `--${b}--`];
  } else {
    body = textPart;
  }
  if (p.attachment) {
    const b = boundary('mixed');
    body = [
      `Content-Type: multipart/mixed; boundary="${b}"`, '', `--${b}`, ...body, `--${b}`,
      `Content-Type: application/pdf; name="report-${p.index}.pdf"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="report-${p.index}.pdf"`, '',
      base64Lines(randomBytes(attachmentBytes)), `--${b}--`,
    ];
  }
  const message = [...head, ...body, ''].join('\r\n');
  return { wire: Buffer.from(message.replace(/^\./gm, '..'), 'utf8'), references };
}

// ---------------------------------------------------------------------------------------------------------
// A minimal SMTP client: EHLO once per connection, then MAIL/RCPT/DATA per message, no pipelining, so that
// the time from the final "." to the 250 is the server's work on the message and nothing else.

class SmtpClient {
  private buffer = '';
  private waiting: { resolve: (reply: string) => void; reject: (err: Error) => void } | null = null;
  private closed: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.complete();
    });
    const fail = (err: Error) => {
      this.closed ??= err;
      this.waiting?.reject(err);
      this.waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(`connection closed; pending: ${this.buffer.slice(0, 200)}`)));
  }

  static async open(port: number): Promise<SmtpClient> {
    const c = new SmtpClient(connect(port, '127.0.0.1'));
    await c.expect(220, await c.next());
    await c.command(`EHLO bench-${process.pid}.client.example`, 250);
    return c;
  }

  private complete(): void {
    // A reply ends at a line "NNN text" (RFC 5321 §4.2.1: "NNN-" continues a multi-line reply).
    const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(this.buffer);
    if (!m || !this.waiting) return;
    const end = m.index + m[0].length;
    const reply = this.buffer.slice(0, end).trim();
    this.buffer = this.buffer.slice(end);
    const w = this.waiting;
    this.waiting = null;
    w.resolve(reply);
  }

  private next(): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.complete();
    });
  }

  private async expect(code: number, reply: string): Promise<string> {
    if (!reply.startsWith(String(code))) throw new Error(`expected ${code}, got: ${reply}`);
    return reply;
  }

  private write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async command(line: string, code: number): Promise<string> {
    const reply = this.next();
    await this.write(`${line}\r\n`);
    return this.expect(code, await reply);
  }

  /** Sends one message; resolves with the milliseconds from writing the final "." to the 250. */
  async send(from: string, to: string, wire: Buffer): Promise<number> {
    await this.command(`MAIL FROM:<${from}> SIZE=${wire.length + 5}`, 250);
    await this.command(`RCPT TO:<${to}>`, 250);
    await this.command('DATA', 354);
    // The content is in the kernel's hands before the clock starts; it ends with CRLF, so ".\r\n" ends DATA.
    await this.write(wire);
    const reply = this.next();
    const t0 = performance.now();
    await this.write('.\r\n');
    const answer = await reply;
    const ms = performance.now() - t0;
    await this.expect(250, answer);
    return ms;
  }

  async quit(): Promise<void> {
    await this.command('QUIT', 221).catch(() => undefined);
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The server under test (server.ts): in its own process, from --server-root.

/** Kilobytes from /proc/<pid>/status (VmRSS now, VmHWM the peak so far). */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function startMailServer(databaseUrl: string): Promise<Server> {
  return startServer({
    root: args['server-root'],
    databaseUrl,
    logLevel: args['log-level']!,
    workers: WORKERS,
    config: { mailDomain: MAIL_DOMAIN, smtp: { maxConnectionsPerClient: Math.max(10, CONCURRENCY + 2) } },
    nodeArgs: cpuProfArgs(args['cpu-prof']),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Sending.

interface RunResult {
  sent: Sent[];
  elapsedMs: number;
  errors: number;
  firstError: string | null;
}

/** Sends `planned` over CONCURRENCY connections; replies answer messages in `answered`, which grows. */
async function run(port: number, planned: Planned[], answered: Sent[]): Promise<RunResult> {
  const sent: Sent[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let nextIndex = 0;
  const started = performance.now();
  const worker = async () => {
    const client = await SmtpClient.open(port);
    try {
      while (nextIndex < planned.length) {
        const p = planned[nextIndex++]!;
        // A reply answers any message already accepted: a new ticket or, further down a conversation, a reply.
        const parent = p.kind === 'reply' ? (answered.length ? answered[Math.floor(rand() * answered.length)]! : null) : null;
        if (p.kind === 'reply' && !parent) throw new Error(`message ${p.index}: no answered message to reply to yet`);
        const subject = parent ? `Re: ${parent.subject.replace(/^Re: /, '')}` : `${pick(SUBJECTS)} (${p.index})`;
        // Replies come from the person who wrote the conversation's first message, as they would: in the From
        // header too, which intake goes by (it had the planned sender, so every reply came from a stranger).
        const sender = parent ? parent.sender : p.sender;
        const { wire, references } = compose({ ...p, sender }, subject, parent);
        const from = senderAddress(sender);
        const s: Sent = { ...p, sender, parent: parent?.messageId ?? null, root: parent?.root ?? p.messageId, references, subject, latencyMs: NaN };
        try {
          s.latencyMs = await client.send(from, RCPT, wire);
          answered.push(s);
        } catch (err) {
          errors++;
          firstError ??= `message ${p.index}: ${(err as Error).message}`;
        }
        sent.push(s);
      }
    } finally {
      await client.quit();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
  return { sent, elapsedMs: performance.now() - started, errors, firstError };
}

// ---------------------------------------------------------------------------------------------------------
// Checking what the server stored.

interface Check {
  ok: boolean;
  inbound: number;
  distinctMessageIds: number;
  duplicates: number;
  missing: number;
  tickets: number;
  replies: number;
  expectedTickets: number;
  expectedReplies: number;
  entriesWithMessageId: number;
  wrongTicket: number;
  notProcessed: number;
  attachments: number;
  expectedAttachments: number;
  problems: string[];
}

async function verify(db: Database, sent: Sent[]): Promise<Check> {
  const accepted = sent.filter((s) => Number.isFinite(s.latencyMs));
  const byHash = new Map(accepted.map((s) => [messageIdHash(s.messageId), s]));
  const rows = (await db.q('inbound_messages').select('message_id_hash', 'status', 'ticket_id', 'entry_id')) as Array<{ message_id_hash: string; status: string; ticket_id: number | null; entry_id: number | null }>;
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.message_id_hash, (count.get(r.message_id_hash) ?? 0) + 1);
  const duplicates = [...count.values()].filter((n) => n > 1).length;
  const missing = [...byHash.keys()].filter((h) => !count.has(h)).length;
  const status = (st: string) => rows.filter((r) => r.status === st).length;
  // Thread entries by Message-ID: each message became exactly one entry, and a reply sits on its conversation's ticket.
  // Since migration 0017 the entry holds its Message-ID; a server from before it (--server-root) kept them apart.
  const tmi = ((await db.q.schema.hasTable('thread_message_ids'))
    ? await db.q('thread_message_ids').select('message_id_hash', 'ticket_id')
    : await db.q('thread_entries').whereNotNull('message_id_hash').select('message_id_hash', 'ticket_id')) as Array<{ message_id_hash: string; ticket_id: number }>;
  const ticketOf = new Map<string, number>();
  const entries = new Map<string, number>();
  for (const r of tmi) {
    ticketOf.set(r.message_id_hash, Number(r.ticket_id));
    entries.set(r.message_id_hash, (entries.get(r.message_id_hash) ?? 0) + 1);
  }
  let wrongTicket = 0;
  for (const s of accepted) {
    const mine = ticketOf.get(messageIdHash(s.messageId));
    const root = ticketOf.get(messageIdHash(s.root));
    if (mine === undefined || root === undefined || mine !== root) wrongTicket++;
  }
  const ticketCount = Number(((await db.q('tickets').count({ n: '*' }).first()) as { n: number | string }).n);
  const attachments = Number(((await db.q('attachments').count({ n: '*' }).first()) as { n: number | string }).n);
  const expectedTickets = accepted.filter((s) => s.kind === 'new').length;
  const expectedReplies = accepted.filter((s) => s.kind === 'reply').length;
  const check: Check = {
    ok: false,
    inbound: rows.length,
    distinctMessageIds: count.size,
    duplicates,
    missing,
    tickets: status('ticket'),
    replies: status('reply'),
    expectedTickets,
    expectedReplies,
    entriesWithMessageId: tmi.length,
    wrongTicket,
    notProcessed: rows.length - status('ticket') - status('reply'),
    attachments,
    expectedAttachments: accepted.filter((s) => s.attachment).length,
    problems: [],
  };
  const p = check.problems;
  if (accepted.length !== sent.length) p.push(`${sent.length - accepted.length} messages not accepted`);
  if (rows.length !== accepted.length) p.push(`inbound_messages has ${rows.length} rows for ${accepted.length} accepted messages`);
  if (duplicates) p.push(`${duplicates} Message-IDs stored more than once`);
  if (missing) p.push(`${missing} accepted messages not stored`);
  if (check.tickets !== expectedTickets || ticketCount !== expectedTickets) p.push(`${check.tickets} inbound rows became tickets and ${ticketCount} tickets exist, expected ${expectedTickets}`);
  if (check.replies !== expectedReplies) p.push(`${check.replies} replies, expected ${expectedReplies}`);
  if (check.notProcessed) p.push(`${check.notProcessed} messages neither a ticket nor a reply`);
  if (tmi.length !== accepted.length || [...entries.values()].some((n) => n !== 1)) p.push(`${tmi.length} thread entries with a Message-ID for ${accepted.length} messages`);
  if (wrongTicket) p.push(`${wrongTicket} messages not on their conversation's ticket`);
  if (attachments !== check.expectedAttachments) p.push(`${attachments} attachments stored, expected ${check.expectedAttachments}`);
  check.ok = p.length === 0;
  return check;
}

// ---------------------------------------------------------------------------------------------------------

/** Without the count: the table shows it and the JSON line keeps its shape. */
function latency(samples: number[]) {
  const { p50, p95, p99, max } = percentiles(samples);
  return { p50, p95, p99, max };
}

interface Phase {
  kind: 'new' | 'reply';
  result: RunResult;
  cost: Cost;
}

/**
 * New tickets first, then the replies to them, each a measured phase of its own: the CPU and statements a new
 * ticket costs differ from a reply's, and only a phase with one kind in it shows each apart.
 */
async function send(server: Server, meter: Meter, planned: Planned[], alerts: AlertCount): Promise<Phase[]> {
  const answered: Sent[] = [];
  const phases: Phase[] = [];
  for (const kind of ['new', 'reply'] as const) {
    const mine = planned.filter((p) => p.kind === kind);
    log(`sending ${mine.length} ${kind === 'new' ? 'new messages' : 'replies'} of ${MIN_BYTES / 1024}–${MAX_BYTES / 1024} KB over ${CONCURRENCY} SMTP connections to 127.0.0.1:${server.smtpPort} ...`);
    await meter.begin();
    const result = await run(server.smtpPort, mine, answered);
    await alerts.written(result.sent.filter((x) => x.kind === kind && Number.isFinite(x.latencyMs)).length * AGENTS);
    phases.push({ kind, result, cost: await meter.end() });
    if (result.errors) log(`  ${result.errors} messages failed, first: ${result.firstError}`);
  }
  return phases;
}

/**
 * Agents of the default department, made through the product's own service (as bench:web makes its accounts)
 * on the server's database; the server's directory cache sees them one refresh later.
 */
async function createAgents(databaseUrl: string, n: number): Promise<void> {
  const config = loadConfig({}, { databaseUrl, logLevel: 'silent' });
  const db = createDatabase(databaseUrl);
  try {
    const services = createServices({ db, clock: systemClock, config, log: createLogger('silent'), secrets: await loadSecrets(new SettingsRepository(db)) });
    const department = (await services.departments.defaultDepartment())!;
    for (let i = 1; i <= n; i++) {
      await services.staff.create(null, { username: `bench.agent.${i}`, email: `agent.${i}@bench.example`, name: `Bench Agent ${i}`, password: randomBytes(12).toString('hex'), isAdmin: false, departments: [{ departmentId: department.id, isManager: false }] });
    }
  } finally {
    await db.close();
  }
  await sleep(DIRECTORY_REFRESH_MS * 2);
}

/** Waits until a phase's alerts are all in the outbox: a server may write a reply's after its 250. */
interface AlertCount {
  written(expected: number): Promise<void>;
}

function alertCount(databaseUrl: string): AlertCount & { close(): Promise<void> } {
  const db = createDatabase(databaseUrl, { poolMax: 1 });
  const count = async () => Number(((await db.q('outbox').where('kind', 'like', 'alert_new_%').count({ n: '*' }).first()) as { n: number | string }).n);
  let before = 0;
  return {
    async written(expected) {
      if (!expected) return;
      const deadline = Date.now() + 30_000;
      let n = await count();
      while (n - before < expected && Date.now() < deadline) {
        // Seldom enough that these reads (which the "questions" column counts) stay well under one per message.
        await sleep(500);
        n = await count();
      }
      if (n - before < expected) log(`  only ${n - before} of ${expected} alerts written`);
      before = n;
    },
    close: () => db.close(),
  };
}

async function main(): Promise<void> {
  const fresh = await scratchDatabase({ kind: DB, mysqlUrl: args['mysql-url']!, name: 'sb_bench_mail' });
  const tag = Date.now().toString(36);
  const planned = plan(tag);
  const loadBefore = loadavg()[0]!;
  let server: Server | null = null;
  let meter: Meter | null = null;
  let db: Database | null = null;
  try {
    log(`starting the server from ${args['server-root'] ?? 'this checkout'} on ${args.db === 'mysql' ? fresh.url : 'a temporary SQLite file'} ...`);
    server = await startMailServer(fresh.url);
    const pid = server.pid;
    meter = new Meter(server, fresh.url);
    const rssIdleKb = procStatus(pid, 'VmRSS');
    let peakSampledKb = rssIdleKb ?? 0;
    // VmHWM is the true peak; sampling VmRSS as well shows that the peak is the load's and not start-up's.
    const sampler = setInterval(() => (peakSampledKb = Math.max(peakSampledKb, procStatus(pid, 'VmRSS') ?? 0)), 100);
    if (AGENTS) await createAgents(fresh.url, AGENTS);
    const alerts = alertCount(fresh.url);
    const clientCpu = process.cpuUsage();
    const phases = await send(server, meter, planned, alerts).finally(() => alerts.close());
    const clientUsed = process.cpuUsage(clientCpu);
    clearInterval(sampler);
    const peakKb = procStatus(pid, 'VmHWM');
    await meter.close();
    meter = null;
    const used = server;
    const code = await server.stop();
    server = null;
    if (code !== 0) log(`server exited with ${code}`);

    const result: RunResult = {
      sent: phases.flatMap((p) => p.result.sent),
      elapsedMs: phases.reduce((n, p) => n + p.result.elapsedMs, 0),
      errors: phases.reduce((n, p) => n + p.result.errors, 0),
      firstError: phases.find((p) => p.result.firstError)?.result.firstError ?? null,
    };
    const total: Cost = {
      appCpuMs: phases.reduce((n, p) => n + p.cost.appCpuMs, 0),
      dbCpuMs: DB === 'mysql' ? phases.reduce((n, p) => n + (p.cost.dbCpuMs ?? 0), 0) : null,
      dbProcessCpuMs: DB === 'mysql' ? phases.reduce((n, p) => n + (p.cost.dbProcessCpuMs ?? 0), 0) : null,
      statements: phases.every((p) => p.cost.statements !== null) ? phases.reduce((n, p) => n + p.cost.statements!, 0) : null,
      serverQuestions: DB === 'mysql' ? phases.reduce((n, p) => n + (p.cost.serverQuestions ?? 0), 0) : null,
      processes: Math.max(...phases.map((p) => p.cost.processes)),
    };

    db = createDatabase(fresh.url, { poolMax: 2 });
    const dbLabel = db.dialect === 'mysql'
      ? `MySQL/MariaDB ${((await db.knex.raw('select version() as v')) as [Array<{ v: string }>])[0][0]!.v}`
      : `SQLite ${((await db.knex.raw('select sqlite_version() as v')) as Array<{ v: string }>)[0]!.v} (WAL, better-sqlite3)`;
    const check = await verify(db, result.sent);
    const loadAfter = loadavg()[0]!;

    const accepted = (sent: Sent[]) => sent.map((s) => s.latencyMs).filter(Number.isFinite);
    const latencies = accepted(result.sent);
    const all = latency(latencies);
    const byKind = {
      new: latency(result.sent.filter((s) => s.kind === 'new' && !s.attachment).map((s) => s.latencyMs).filter(Number.isFinite)),
      attachment: latency(result.sent.filter((s) => s.attachment).map((s) => s.latencyMs).filter(Number.isFinite)),
      reply: latency(result.sent.filter((s) => s.kind === 'reply').map((s) => s.latencyMs).filter(Number.isFinite)),
    };
    const rate = round((latencies.length / result.elapsedMs) * 1000);
    const bytes = result.sent.reduce((n, s) => n + s.bytes, 0);
    const perPhase = Object.fromEntries(phases.map((p) => {
      const n = accepted(p.result.sent).length;
      return [p.kind, { messages: n, messagesPerSecond: round((n / p.result.elapsedMs) * 1000), latencyMs: latency(accepted(p.result.sent)), ...perRequestCost(p.cost, n) }];
    })) as Record<'new' | 'reply', { messages: number; messagesPerSecond: number; latencyMs: ReturnType<typeof latency> } & PerRequestCost>;
    const overall = perRequestCost(total, latencies.length);
    // The load generator shares the machine's cores with the server and the database: its cost, for the record.
    const clientCpuMsPerMessage = latencies.length ? round((clientUsed.user + clientUsed.system) / 1000 / latencies.length) : null;
    const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
    const mib = (kb: number | null) => (kb === null ? null : round(kb / 1024));

    const out: string[] = [];
    out.push('');
    out.push(`Switchboard bench:mail — ${MESSAGES} messages of ${MIN_BYTES / 1024}–${MAX_BYTES / 1024} KB (${round(bytes / 2 ** 20)} MiB; ${planned.filter((p) => p.attachment).length} with an attachment, ${planned.filter((p) => p.kind === 'reply').length} replies, ${planned.filter((p) => p.html).length} with HTML), ${CONCURRENCY} SMTP connections, ${AGENTS} agents`);
    out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, node ${machine.node}; database: ${dbLabel}; server log level ${args['log-level']}; workers ${WORKERS ?? 'server default'}`);
    for (const note of costNotes(used, DB, total.processes)) out.push(note);
    out.push('');
    out.push(`${'phase'.padEnd(14)}${'msgs'.padStart(6)}${'msg/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu app'.padStart(9)}${'cpu db'.padStart(9)}${'db proc'.padStart(9)}${'stmts'.padStart(8)}${'questions'.padStart(10)}   (CPU ms and statements per message)`);
    const costRow = (name: string, n: number, r: number, l: ReturnType<typeof latency>, c: PerRequestCost) =>
      out.push(`${name.padEnd(14)}${String(n).padStart(6)}${cell(r)}${cell(l.p50)}${cell(l.p99)}${cell(c.appCpuMs, 2)}${cell(c.dbCpuMs, 2)}${cell(c.dbProcessCpuMs, 2)}${cell(c.statements, 1, 8)}${cell(c.serverQuestions, 1, 10)}`);
    for (const kind of ['new', 'reply'] as const) costRow(kind === 'new' ? 'new tickets' : 'replies', perPhase[kind].messages, perPhase[kind].messagesPerSecond, perPhase[kind].latencyMs, perPhase[kind]);
    costRow('all', latencies.length, rate, all, overall);
    out.push('');
    out.push(`${'end of DATA → 250'.padEnd(22)}${'count'.padStart(7)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`);
    const row = (name: string, n: number, f: ReturnType<typeof latency>) =>
      out.push(`${name.padEnd(22)}${String(n).padStart(7)}${f.p50.toFixed(1).padStart(9)}${f.p95.toFixed(1).padStart(9)}${f.p99.toFixed(1).padStart(9)}${f.max.toFixed(1).padStart(9)}`);
    row('all messages', latencies.length, all);
    row('  new, no attachment', result.sent.filter((s) => s.kind === 'new' && !s.attachment).length, byKind.new);
    row('  with attachment', result.sent.filter((s) => s.attachment).length, byKind.attachment);
    row('  replies', result.sent.filter((s) => s.kind === 'reply').length, byKind.reply);
    out.push('');
    out.push(`throughput: ${rate.toFixed(1)} messages/s (${(result.elapsedMs / 1000).toFixed(2)} s, ${result.errors} errors); CPU per message: app ${overall.appCpuMs ?? '-'} ms, database ${overall.dbCpuMs !== null ? `${overall.dbCpuMs} ms` : DB === 'sqlite' ? 'inside the app' : '-'}, load generator ${clientCpuMsPerMessage ?? '-'} ms`);
    out.push(`server RSS (main process): ${mib(rssIdleKb)} MiB idle after start-up, peak ${mib(peakKb)} MiB (VmHWM; sampled peak during the load ${mib(peakSampledKb)} MiB)`);
    out.push(`stored: ${check.inbound} inbound messages (${check.distinctMessageIds} distinct Message-IDs, ${check.duplicates} duplicates, ${check.missing} missing), ${check.tickets}/${check.expectedTickets} new tickets, ${check.replies}/${check.expectedReplies} replies, ${check.wrongTicket} on the wrong ticket, ${check.attachments}/${check.expectedAttachments} attachments`);
    out.push(`every message stored exactly once: ${check.ok ? 'yes' : `NO — ${check.problems.join('; ')}`}`);
    out.push(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} — other work on this machine skews throughput and latency; CPU per message much less`);
    const goal = rate >= 300 && all.p99 < 100 && check.ok;
    out.push('');
    out.push(`goal ≥ 300 messages/s, p99 < 100 ms, every message accounted for: ${goal ? 'met' : 'MISSED'}${db.dialect === 'mysql' ? '' : ' (the goal names MariaDB)'}`);
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify({
      bench: 'mail', database: dbLabel, server: { root: used.root, entry: used.entry, workers: WORKERS ?? null, processes: total.processes, startMs: round(used.startMs) },
      loadAverage: [round(loadBefore), round(loadAfter)], messages: MESSAGES, concurrency: CONCURRENCY,
      sizeKb: [MIN_BYTES / 1024, MAX_BYTES / 1024], bytes, logLevel: args['log-level'], machine,
      messagesPerSecond: rate, elapsedMs: round(result.elapsedMs), errors: result.errors, latencyMs: all, latencyByKindMs: byKind,
      perMessage: overall, phases: perPhase,
      serverCpuMsPerMessage: overall.appCpuMs, clientCpuMsPerMessage, rssMiB: { idle: mib(rssIdleKb), peak: mib(peakKb), sampledPeak: mib(peakSampledKb) },
      check: { ...check, problems: check.problems }, goalMet: goal,
    })}\n`);
    if (!check.ok) process.exitCode = 1;
  } finally {
    await meter?.close();
    if (server) await server.stop().catch(() => null);
    await db?.close();
    if (!args.keep) await fresh.drop();
    else log(`kept the benchmark database: ${fresh.url}`);
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`bench:mail failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
