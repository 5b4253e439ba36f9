import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../logger.js';
import type { Mailbox } from '../mailboxes/mailbox-repository.js';
import type { MailboxService } from '../mailboxes/mailbox-service.js';
import type { BanService } from './ban-service.js';
import { isTransient, SenderBanned, type MailIntakeService } from './intake-service.js';
import { TrustedRelays } from './trusted-relays.js';

export interface ListenerConfig {
  host: string;
  port: number;
  maxMessageBytes: number;
  maxRecipients: number;
  maxClients: number;
  maxConnectionsPerClient: number;
  /** Addresses or CIDR networks of the site's own relays: no per-address cap applies to them. */
  trustedRelays: readonly string[];
  idleTimeoutSeconds: number;
  dataTimeoutSeconds: number;
  closeTimeoutSeconds: number;
  tlsKeyFile: string;
  tlsCertFile: string;
}

type SmtpError = Error & { responseCode: number };

/**
 * Replies are written out here, enhanced status code (RFC 3463) included, because smtp-server sends an
 * error's message verbatim: nothing but these fixed texts ever reaches the client.
 */
const reply = (code: number, text: string): SmtpError => Object.assign(new Error(text), { responseCode: code });
const TEMPORARY = () => reply(451, '4.3.0 Temporary failure, please try again later');
const SHUTTING_DOWN = '4.3.2 Service shutting down, try again later';

/** The parts of smtp-server's connection object that a stopping listener uses (smtp-server's own close uses them). */
interface Connection {
  session?: SMTPServerSession;
  send(code: number, text: string): void;
  close(): void;
}

/**
 * The SMTP listener: accepts mail for our mailboxes only (it is never a relay), within size, recipient,
 * connection and time limits, and answers 250 only after the intake transaction has committed.
 */
export class SmtpListener {
  private readonly server: SMTPServer;
  private readonly perClient = new Map<string, number>();
  private readonly counted = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The mailbox each accepted RCPT TO resolved to; smtp-server keeps that same address object in the envelope. */
  private readonly mailboxOf = new WeakMap<SMTPServerAddress, Mailbox>();
  private readonly trustedRelays: TrustedRelays;
  private closing = false;

  constructor(
    private readonly intake: MailIntakeService,
    private readonly mailboxes: MailboxService,
    private readonly bans: BanService,
    private readonly log: Logger,
    private readonly config: ListenerConfig,
  ) {
    this.trustedRelays = TrustedRelays.parse(config.trustedRelays);
    const tls = config.tlsKeyFile && config.tlsCertFile;
    this.server = new SMTPServer({
      name: hostname(),
      banner: 'Switchboard',
      size: config.maxMessageBytes,
      maxClients: config.maxClients,
      maxRecipients: config.maxRecipients,
      socketTimeout: config.idleTimeoutSeconds * 1000,
      closeTimeout: config.closeTimeoutSeconds * 1000,
      authOptional: true,
      // RFC 6531: internationalised (UTF-8) addresses and headers are accepted end to end, so say so.
      hideSMTPUTF8: false,
      // Without a certificate of our own, no STARTTLS: smtp-server's built-in one has a published key.
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      hideSTARTTLS: !tls,
      ...(tls ? { key: readFileSync(config.tlsKeyFile), cert: readFileSync(config.tlsCertFile) } : {}),
      disableReverseLookup: true,
      logger: false,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onClose: (session) => this.onClose(session),
      onMailFrom: (address, _session, cb) => void this.guard(this.onMailFrom(address), cb),
      onRcptTo: (address, _session, cb) => void this.guard(this.onRcptTo(address), cb),
      onData: (stream, session, cb) => this.onData(stream, session, cb),
    });
    this.server.on('error', (err) => this.log.warn({ err }, 'smtp connection error'));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  /**
   * Stops accepting connections, lets open sessions finish their transaction (up to closeTimeoutSeconds, then
   * smtp-server answers them 421), and waits for every intake in progress, so the database is not closed under
   * a transaction. A session between transactions is answered 421 at once (and checked again every 100 ms, as
   * transactions end): smtp-server alone would hold an idle client until the timeout.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropIdleSessions();
    const sweep = setInterval(() => this.dropIdleSessions(), 100);
    await closed;
    clearInterval(sweep);
    await Promise.allSettled([...this.inFlight]);
  }

  private dropIdleSessions(): void {
    for (const connection of (this.server as unknown as { connections: Set<Connection> }).connections) {
      if (connection.session?.envelope?.mailFrom) continue;
      connection.send(421, SHUTTING_DOWN);
      connection.close();
    }
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    // A relay forwards everyone's mail from one address; only the server-wide maxClients bounds it.
    if (this.trustedRelays.has(session.remoteAddress)) return cb();
    const n = this.perClient.get(session.remoteAddress) ?? 0;
    if (n >= this.config.maxConnectionsPerClient) return cb(reply(421, '4.7.0 Too many connections from your address, try again later'));
    this.perClient.set(session.remoteAddress, n + 1);
    this.counted.add(session.id);
    cb();
  }

  private onClose(session: SMTPServerSession): void {
    if (!this.counted.delete(session.id)) return;
    const n = (this.perClient.get(session.remoteAddress) ?? 1) - 1;
    if (n > 0) this.perClient.set(session.remoteAddress, n);
    else this.perClient.delete(session.remoteAddress);
  }

  private async onMailFrom(address: SMTPServerAddress): Promise<void> {
    // A client that starts a new transaction while we stop, before the sweep reached it.
    if (this.closing) throw reply(421, SHUTTING_DOWN);
    if (address.address && (await this.bans.check(address.address))) throw reply(550, '5.7.1 Sender rejected');
  }

  private async onRcptTo(address: SMTPServerAddress): Promise<void> {
    const mailbox = await this.mailboxes.resolveRecipient(address.address);
    if (!mailbox) throw reply(550, '5.1.1 No such mailbox here');
    this.mailboxOf.set(address, mailbox);
  }

  private guard(work: Promise<void>, cb: (err?: Error | null) => void): void {
    work.then(() => cb(), (err) => cb(this.toReply(err)));
  }

  private toReply(err: unknown): SmtpError {
    if (err instanceof Error && typeof (err as SmtpError).responseCode === 'number') return err as SmtpError;
    if (err instanceof SenderBanned) return reply(550, '5.7.1 Sender rejected');
    if (isTransient(err)) {
      this.log.warn({ err: { message: (err as Error).message, name: (err as Error).name } }, 'smtp: temporary failure');
    } else {
      this.log.error({ err }, 'smtp: unexpected error');
    }
    return TEMPORARY();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    // A sender that trickles its message keeps the idle timer happy; this bounds the whole DATA phase.
    const timer = setTimeout(() => {
      for (const c of this.server.connections) {
        if (c.session === session) {
          c.send(421, '4.4.2 Timeout while receiving the message, closing connection');
          c.close();
        }
      }
    }, this.config.dataTimeoutSeconds * 1000);
    timer.unref();
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.on('error', () => clearTimeout(timer));
    stream.on('end', () => {
      clearTimeout(timer);
      // smtp-server only advertises the limit (RFC 1870); refusing an oversized message is ours to do.
      if (stream.sizeExceeded) return cb(reply(552, `5.3.4 Message too big: the limit is ${this.config.maxMessageBytes} bytes`));
      const work = this.accept(Buffer.concat(chunks), session).then(
        (text) => cb(null, text),
        (err) => cb(this.toReply(err)),
      );
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
  }

  private async accept(raw: Buffer, session: SMTPServerSession): Promise<string> {
    const rcpt = session.envelope.rcptTo[0];
    const mailbox = rcpt ? (this.mailboxOf.get(rcpt) ?? (await this.mailboxes.resolveRecipient(rcpt.address))) : null;
    if (!mailbox) throw reply(550, '5.1.1 No such mailbox here');
    const mailFrom = session.envelope.mailFrom;
    const outcome = await this.intake.deliver(raw, {
      mailbox,
      envelopeFrom: mailFrom ? mailFrom.address : '',
      source: 'smtp',
      remoteAddress: session.remoteAddress,
      envelopeFromChecked: true,
    });
    return outcome.status === 'duplicate' ? '2.0.0 Already received' : '2.0.0 Accepted';
  }
}
