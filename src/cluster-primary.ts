import cluster, { type Worker } from 'node:cluster';
import { openDatabase } from './bootstrap.js';
import type { Config } from './config.js';
import { createLogger } from './logger.js';

/** Told to the primary once a worker serves, so that a later exit is known as a crash, not a failed start. */
export const READY_MESSAGE = 'switchboard:ready';
/** A worker that lived this long before crashing starts a fresh backoff sequence. */
const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
/** The primary's last resort, past the workers' own deadline (smtp.closeTimeoutSeconds + 2 s). */
const EXIT_MARGIN_MS = 3000;

/**
 * The cluster primary (workers > 1): serves nothing itself. It migrates the database once, so a bad
 * DATABASE_URL is one line and one exit here rather than in every worker; forks the workers, which share the
 * HTTP and SMTP ports; restarts a worker that crashes after it served (doubling delays, at most 30 s); and on
 * SIGTERM or SIGINT passes the signal on and exits once every worker has stopped, 0 if they all stopped cleanly.
 * A worker that fails before serving stops the whole cluster: its error would only repeat.
 */
export async function runPrimary(config: Config, count: number): Promise<void> {
  const log = createLogger(config.logLevel).child({ component: 'cluster' });
  const { db } = await openDatabase(config, log);
  await db.close();
  if (config.databaseUrl.startsWith('sqlite:')) {
    log.warn({ workers: count }, 'several workers on SQLite take turns at its single writer lock; MariaDB or MySQL suits them better');
  }

  let stopping = false;
  let exitCode = 0;
  let crashes = 0;
  const ready = new Set<Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('message', (m) => {
      if (m === READY_MESSAGE) ready.add(worker);
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down the workers');
    for (const t of restarts) clearTimeout(t);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => {
      log.error('workers did not stop within the grace period; exiting');
      process.exit(1);
    }, config.smtp.closeTimeoutSeconds * 1000 + EXIT_MARGIN_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  cluster.on('exit', (worker, code, signal) => {
    const served = ready.delete(worker);
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    // The exit code tells how the stop went; a crash before it was answered by a restart.
    if (stopping && code !== 0) exitCode = 1;
    if (!stopping && !served) {
      log.error({ worker: worker.id, code, signal }, 'a worker failed to start; stopping');
      exitCode = 1;
      stop('SIGTERM');
    } else if (!stopping) {
      crashes = lived > STABLE_MS ? 1 : crashes + 1;
      const delayMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (crashes - 1));
      log.error({ worker: worker.id, code, signal, restartInMs: delayMs }, 'a worker exited; restarting it');
      const t = setTimeout(() => {
        restarts.delete(t);
        fork();
      }, delayMs);
      restarts.add(t);
    }
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
      log.info('stopped');
      process.exit(exitCode);
    }
  });

  for (let i = 0; i < count; i++) fork();
  log.info({ workers: count }, 'started the workers');
}
