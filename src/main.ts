import { buildApp } from './app.js';
import { StartupError, bootstrap, redactUrl } from './bootstrap.js';
import { SmtpListener } from './mail/inbound/listener.js';

function fail(message: string): never {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const services = await bootstrap();
  const { config, db, log } = services;

  const app = await buildApp(services);
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await db.close();
    fail(`cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message}`);
  }
  const smtp = new SmtpListener(services.intake, services.mailboxes, services.bans, log.child({ component: 'smtp' }), config.smtp);
  try {
    await smtp.listen();
  } catch (err) {
    await app.close();
    await db.close();
    fail(`cannot listen for SMTP on ${config.smtp.host}:${config.smtp.port}: ${(err as Error).message}`);
  }
  services.scheduler.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Stop accepting, let in-flight requests and SMTP transactions finish, stop the jobs, then close the pool.
    const closed = await Promise.allSettled([app.close(), smtp.close(), services.scheduler.stop()]);
    services.delivery.close();
    closed.push(...(await Promise.allSettled([db.close()])));
    // Whatever failed to close, the process still exits: a supervisor waiting on it must not hang.
    const failed = closed.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const f of failed) log.error({ err: f.reason }, 'error while shutting down');
    log.info('stopped');
    process.exit(failed.length ? 1 : 0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const lines = [
    '',
    `  Switchboard is running at ${config.publicUrl}/ (listening on ${config.http.host}:${config.http.port})`,
    `  Staff panel: ${config.publicUrl}/scp/    Database: ${redactUrl(config.databaseUrl)}`,
    `  Mail: SMTP on ${config.smtp.host}:${config.smtp.port} for @${config.mailDomain}; outgoing ${config.outboundSmtpUrl ? 'through the configured relay' : 'waits in the outbox (no OUTBOUND_SMTP_URL)'}`,
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

main().catch((err) => {
  if (err instanceof StartupError) fail(err.message);
  process.stderr.write(`switchboard: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
