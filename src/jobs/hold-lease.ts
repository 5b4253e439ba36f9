import type { Logger } from '../logger.js';

/**
 * Runs `work` while renewing a lease in the background; the lease was taken or renewed just before the call.
 * Renewals run every third of the lease; if one fails, or none has succeeded by two thirds of the lease, the
 * signal given to `work` aborts before the lease can lapse, so work that checks it between steps never
 * overlaps the next holder's (at most the step in progress does). `controller` may be aborted from outside too
 * (a node stopping).
 */
export async function holdLease<T>(
  opts: { renew: () => Promise<boolean>; leaseMs: number; log: Logger; what: Record<string, unknown>; controller?: AbortController },
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const lease = opts.controller ?? new AbortController();
  const abort = (why: string) => {
    if (lease.signal.aborted) return;
    opts.log.warn({ ...opts.what, why }, 'lease not held: stopping after the current step');
    lease.abort(new Error(why));
  };
  // The lease runs leaseMs from a renewal's start; stop a third before that unless a renewal succeeds.
  const margin = () => setTimeout(() => abort('lease renewal overdue'), (opts.leaseMs * 2) / 3);
  let overdue = margin();
  let renewing = false;
  let done = false;
  const renewer = setInterval(() => {
    if (renewing || lease.signal.aborted) return;
    renewing = true;
    const started = margin();
    opts.renew()
      .then((held) => {
        clearTimeout(overdue);
        if (done) return clearTimeout(started);
        overdue = started;
        if (!held) abort('lease taken by another node');
      }, (err: unknown) => {
        clearTimeout(started);
        opts.log.error({ ...opts.what, err }, 'lease renewal failed');
      })
      .finally(() => (renewing = false));
  }, opts.leaseMs / 3);
  try {
    return await work(lease.signal);
  } finally {
    done = true;
    clearInterval(renewer);
    clearTimeout(overdue);
  }
}
