import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { StartupError, loadConfigOrFail } from './bootstrap.js';

/**
 * The production entry point (`node dist/src/main.js`, the image's CMD): one serving process, or with
 * `workers` above 1 a cluster primary that forks that many, each running this same file as a worker. Each
 * role loads only its own modules: the primary, which serves nothing, stays small.
 */
async function main(): Promise<void> {
  const config = loadConfigOrFail();
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (cluster.isPrimary && workers > 1) await (await import('./cluster-primary.js')).runPrimary(config, workers);
  else await (await import('./server.js')).runServer();
}

main().catch((err) => {
  const message = err instanceof StartupError ? err.message : `failed to start: ${(err as Error).stack ?? String(err)}`;
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(1);
});
