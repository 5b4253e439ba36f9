import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import type { Test } from 'tap';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SmtpListener, type ListenerConfig } from '../../src/mail/inbound/listener.js';
import type { Services } from '../../src/services.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/mail');

/** A fixture message with its %PLACEHOLDERS% filled in. */
export function fixture(name: string, replace: Record<string, string> = {}): Buffer {
  let text = readFileSync(resolve(FIXTURES, name)).toString('latin1');
  for (const [k, v] of Object.entries(replace)) text = text.split(`%${k}%`).join(v);
  return Buffer.from(text, 'latin1');
}

/** A small RFC 5322 message; `headers` are added verbatim. */
export function message(opts: { from: string; to?: string; subject: string; body: string; messageId?: string; headers?: Record<string, string> }): Buffer {
  const lines = [
    `From: ${opts.from}`,
    `To: ${opts.to ?? 'support@helpdesk.test'}`,
    `Subject: ${opts.subject}`,
    `Date: ${new Date().toUTCString()}`,
    ...(opts.messageId ? [`Message-ID: <${opts.messageId}>`] : []),
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    opts.body,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** The product's listener on 127.0.0.1 and a free port, closed when the test ends. */
export async function startListener(t: Test, services: Services, overrides: Partial<ListenerConfig> = {}): Promise<{ port: number; listener: SmtpListener }> {
  const listener = new SmtpListener(services.intake, services.mailboxes, services.bans, services.log.child({ component: 'smtp' }), {
    ...services.config.smtp,
    host: '127.0.0.1',
    port: 0,
    ...overrides,
  });
  const port = await listener.listen();
  t.teardown(() => listener.close());
  return { port, listener };
}

export interface SendResult {
  ok: boolean;
  code: number | null;
  response: string;
}

/** Sends a raw message with nodemailer, a standard SMTP client, and reports the server's final answer. */
export async function send(port: number, raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 10_000 });
  try {
    const info = (await transport.sendMail({ envelope, raw })) as { response: string };
    return { ok: true, code: Number(info.response.slice(0, 3)), response: info.response };
  } catch (err) {
    const e = err as Error & { responseCode?: number; response?: string };
    return { ok: false, code: e.responseCode ?? null, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/**
 * A scripted SMTP conversation on a raw socket, for what a client library would not do (skip the SIZE
 * parameter, pause between commands). `say(line)` sends one command (or DATA content) and returns the reply.
 */
export async function rawSession(
  port: number,
  localAddress?: string,
): Promise<{ greeting: string; say(line: string): Promise<string>; write(data: string): void; reply(): Promise<string>; close(): void }> {
  // Any 127.x address reaches the loopback listener; binding another one makes it a different client address.
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  let buffer = '';
  let waiting: ((reply: string) => void) | null = null;
  const complete = () => {
    // A reply is complete at a line "NNN text" (RFC 5321 §4.2.1: "NNN-" continues a multi-line reply).
    const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
    if (!m || !waiting) return;
    const end = m.index + m[0].length;
    const reply = buffer.slice(0, end).trim();
    buffer = buffer.slice(end);
    const w = waiting;
    waiting = null;
    w(reply);
  };
  socket.on('data', (d) => {
    buffer += d.toString('latin1');
    complete();
  });
  const next = () =>
    new Promise<string>((resolveReply, reject) => {
      waiting = resolveReply;
      socket.once('close', () => reject(new Error(`connection closed; pending: ${buffer}`)));
      complete();
    });
  const greeting = await next();
  return {
    greeting,
    say: (line: string) => {
      socket.write(`${line}\r\n`);
      return next();
    },
    // Part of a message, no reply awaited; `reply` waits for the next one (one the server sends unasked, too).
    write: (data: string) => void socket.write(data),
    reply: next,
    close: () => socket.destroy(),
  };
}

export interface SinkMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
}

/** A second SMTP server standing in for the site's outbound relay: it keeps what it receives. */
export async function startSink(t: Test): Promise<{ port: number; url: string; messages: SinkMessage[]; rejectWith: { code: number; text: string } | null }> {
  const state = { port: 0, url: '', messages: [] as SinkMessage[], rejectWith: null as { code: number; text: string } | null };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    // Pooled clients keep idle connections open; the test is over, do not wait for them.
    closeTimeout: 50,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.rejectWith) return cb(Object.assign(new Error(state.rejectWith.text), { responseCode: state.rejectWith.code }));
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((parsed) => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          state.messages.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, raw, parsed });
          cb();
        }, cb);
      });
    },
  });
  // A client killed mid-conversation (the multi-node test's kill -9) resets its connection: not a test failure.
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.server.address() as { port: number }).port;
  state.url = `smtp://127.0.0.1:${state.port}`;
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return state;
}

/** Polls `check` until it returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
