import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../db/time.js';
import type { Logger } from '../logger.js';
import type { LeaseRepository } from './lease-repository.js';

export interface Job {
  /** Unique; shown in logs. */
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export interface SchedulerOptions {
  tickMs: number;
  leaseMs: number;
}

const LEASE = 'scheduler';

/**
 * Runs registered jobs on one node of the cluster at a time: each tick takes or renews a lease row, and only
 * its holder runs jobs. A leader that dies stops renewing; another node takes over once the lease expires.
 * Jobs must still be safe to overlap (the outbox claims its rows), since a stalled leader may wake up late.
 */
export class Scheduler {
  private readonly jobs: Job[] = [];
  private readonly lastRun = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  readonly nodeId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly leases: LeaseRepository,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: SchedulerOptions,
  ) {}

  register(job: Job): void {
    if (this.jobs.some((j) => j.name === job.name)) throw new Error(`scheduler: job ${job.name} is already registered`);
    this.jobs.push(job);
  }

  get jobNames(): string[] {
    return this.jobs.map((j) => j.name);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err) => this.log.error({ err }, 'scheduler tick failed'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(loop, this.opts.tickMs);
        });
    };
    loop();
  }

  /** Stops ticking, waits for the jobs in progress, and hands the lease back so another node can take over now. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.leases.release(LEASE, this.nodeId).catch(() => undefined);
  }

  /** One round: returns false when another node holds the lease. Due jobs run one after another. */
  async tick(): Promise<boolean> {
    if (!(await this.renew())) return false;
    for (const job of this.jobs) {
      const now = this.clock.now().getTime();
      if (now - (this.lastRun.get(job.name) ?? -Infinity) < job.everyMs) continue;
      // A long job must not let the lease lapse under the next one.
      if (!(await this.renew())) return false;
      this.lastRun.set(job.name, now);
      try {
        const result = await job.run();
        this.log.debug({ job: job.name, result }, 'job ran');
      } catch (err) {
        this.log.error({ err, job: job.name }, 'job failed');
      }
    }
    return true;
  }

  private renew(): Promise<boolean> {
    const now = this.clock.now();
    return this.leases.acquire(LEASE, this.nodeId, now, new Date(now.getTime() + this.opts.leaseMs));
  }
}
