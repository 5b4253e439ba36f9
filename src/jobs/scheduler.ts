import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../db/time.js';
import type { Logger } from '../logger.js';
import { holdLease } from './hold-lease.js';
import type { LeaseRepository } from './lease-repository.js';

export interface Job {
  /** Unique; shown in logs. */
  name: string;
  everyMs: number;
  /**
   * `signal` aborts when this node can no longer be sure it holds the lease (a renewal failed or is overdue):
   * a job that works in steps checks it before each step and stops, so two nodes never work at once.
   */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface SchedulerOptions {
  tickMs: number;
  leaseMs: number;
}

const LEASE = 'scheduler';

/**
 * Runs registered jobs on one node of the cluster at a time: each tick takes or renews a lease row, and only
 * its holder runs jobs. While a job runs the lease is renewed every third of its length; if a renewal fails,
 * or has not succeeded by two thirds of the lease, the job's signal aborts before the lease can lapse, so a
 * job that checks it between steps never overlaps the next leader's (at most the step in progress does). A
 * leader that dies stops renewing; another node takes over once the lease expires. Node clocks must agree
 * (NTP): expiry times are written by one node and compared by another.
 */
export class Scheduler {
  private readonly jobs: Job[] = [];
  private readonly lastRun = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private currentJob: AbortController | null = null;
  private halting = false;
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
    this.halting = false;
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

  /**
   * Stops ticking, tells the job in progress to stop after its current step (the outbox hands back its unsent
   * claims), waits for it, and hands the lease back so another node can take over now.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halting = true;
    this.currentJob?.abort(new Error('node stopping'));
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
      if (this.halting) break;
      if (now - (this.lastRun.get(job.name) ?? -Infinity) < job.everyMs) continue;
      // A long job must not let the lease lapse under the next one.
      if (!(await this.renew())) return false;
      this.lastRun.set(job.name, now);
      try {
        const result = await this.holdingLease(job);
        this.log.debug({ job: job.name, result }, 'job ran');
      } catch (err) {
        this.log.error({ err, job: job.name }, 'job failed');
      }
    }
    return true;
  }

  /** Runs the job while renewing the lease in the background; the lease was renewed just before the call. */
  private async holdingLease(job: Job): Promise<unknown> {
    const controller = new AbortController();
    this.currentJob = controller;
    try {
      return await holdLease({ renew: () => this.renew(), leaseMs: this.opts.leaseMs, log: this.log, what: { job: job.name }, controller }, (signal) => job.run(signal));
    } finally {
      this.currentJob = null;
    }
  }

  private renew(): Promise<boolean> {
    const now = this.clock.now();
    return this.leases.acquire(LEASE, this.nodeId, now, new Date(now.getTime() + this.opts.leaseMs));
  }
}
