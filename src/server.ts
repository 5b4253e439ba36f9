import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import { StartupError, bootstrap, redactUrl } from './bootstrap.js';
import { READY_MESSAGE } from './cluster-primary.js';
import { SmtpListener } from './mail/inbound/listener.js';

/** Past the SMTP grace period (which forces its sessions closed), the time left to close the pool and exit. */
const EXIT_MARGIN_MS = 2000;

/**
 * One serving process: the web app, the SMTP listener and the job scheduler on one database pool. Run alone
 * (workers: 1) or as a cluster worker, where the ports are shared through the primary. Start-up failures throw
 * StartupError (one line for the operator); a signal stops it gracefully (see `stop` below).
 */
export async function runServer(): Promise<void> {
  // Listening from the start: a signal that comes while the process is still starting (a cluster primary
  // stopping a worker it has just replaced) would otherwise kill it by the default action, not stop it.
  let stop: ((signal: string) => Promise<void>) | null = null;
  let signalled: string | null = null;
  const onSignal = (signal: string) => {
    if (stop) void stop(signal);
    else signalled ??= signal;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  const services = await bootstrap();
  const { config, db, log } = services;

  const app = await buildApp(services);
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await db.close();
    throw new StartupError(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`);
  }
  const smtp = new SmtpListener(services.intake, services.mailboxes, services.bans, log.child({ component: 'smtp' }), config.smtp);
  let smtpPort: number;
  try {
    smtpPort = await smtp.listen();
  } catch (err) {
    await app.close();
    await db.close();
    throw new StartupError(`cannot listen for SMTP on ${config.smtp.host}:${config.smtp.port}: ${(err as Error).message}`);
  }
  // In a cluster every worker runs a scheduler too: they compete for the same database lease as separate
  // nodes do, so one runs the jobs and another takes over if its process dies.
  services.scheduler.start();
  services.imapPoller.start();

  let stopping = false;
  /**
   * Stops taking connections; requests in flight finish; SMTP sessions in a transaction get
   * smtp.closeTimeoutSeconds to finish it (then 421), idle ones a 421 at once; the jobs stop; the pool closes
   * (on SQLite that checkpoints the WAL into the database file). Within the grace period of `docker stop`
   * (10 s) with the default 7 s: a request still running at the deadline has its connection cut.
   */
  stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const graceMs = config.smtp.closeTimeoutSeconds * 1000;
    setTimeout(() => app.server.closeAllConnections(), graceMs).unref();
    setTimeout(() => {
      log.error('did not stop within the grace period; exiting');
      process.exit(1);
    }, graceMs + EXIT_MARGIN_MS).unref();
    const closed = await Promise.allSettled([app.close(), smtp.close(), services.scheduler.stop(), services.imapPoller.stop()]);
    services.delivery.close();
    closed.push(...(await Promise.allSettled([db.close()])));
    // Whatever failed to close, the process still exits: a supervisor waiting on it must not hang.
    const failed = closed.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const f of failed) log.error({ err: f.reason }, 'error while shutting down');
    log.info('stopped');
    process.exit(failed.length ? 1 : 0);
  };
  if (signalled) return stop(signalled);
  if (cluster.isWorker) process.send!(READY_MESSAGE);

  // Printed by one process only: in a cluster, by the first worker (a restarted one has a new id).
  if (cluster.isWorker && cluster.worker!.id !== 1) return;
  const httpPort = (app.server.address() as AddressInfo).port;
  const lines = [
    '',
    `  Switchboard is running at ${config.publicUrl}/ (listening on ${config.http.host}:${httpPort})`,
    `  Staff panel: ${config.publicUrl}/scp/    Database: ${redactUrl(config.databaseUrl)}`,
    `  Mail: SMTP on ${config.smtp.host}:${smtpPort} for @${config.mailDomain}; outgoing ${config.outboundSmtpUrl ? 'through the configured relay' : 'waits in the outbox (no OUTBOUND_SMTP_URL)'}`,
  ];
  const token = await services.setup.issueToken();
  if (token) {
    lines.push(
      '',
      '  No staff account exists yet. Create the first administrator here (one-time link, valid 24 hours):',
      `    ${config.publicUrl}/scp/setup?token=${token}`,
      '  or from a shell: npm run manage -- create-staff --username admin --email you@example.com --password ... --admin',
    );
  } else {
    lines.push(`  Sign in at ${config.publicUrl}/scp/login with your staff account.`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
