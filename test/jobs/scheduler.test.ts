import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { LeaseRepository } from '../../src/jobs/lease-repository.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { systemClock } from '../../src/db/time.js';
import { createTestContext } from '../helpers/context.js';

t.test('one leader per cluster runs the jobs; another node takes over when the lease lapses or is handed back', async (t) => {
  const ctx = await createTestContext(t);
  const { services, clock } = ctx;
  const otherDb = createDatabase(ctx.dbUrl);
  t.teardown(() => otherDb.close());
  const runs: string[] = [];
  const node = (name: string, leases: LeaseRepository) => {
    const s = new Scheduler(leases, clock, services.log, { tickMs: 1000, leaseMs: 30_000 });
    s.register({ name: 'count', everyMs: 1, run: async () => runs.push(name) });
    return s;
  };
  const a = node('a', new LeaseRepository(services.db));
  const b = node('b', new LeaseRepository(otherDb));

  const [ta, tb] = await Promise.all([a.tick(), b.tick()]);
  t.equal(Number(ta) + Number(tb), 1, 'exactly one leader');
  const leader = ta ? a : b;
  const follower = ta ? b : a;
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    t.ok(await leader.tick(), 'the leader keeps its lease');
    t.notOk(await follower.tick(), 'the other node waits');
  }
  t.same(new Set(runs), new Set([ta ? 'a' : 'b']), 'only the leader ran the job');

  clock.advance(31_000);
  t.ok(await follower.tick(), 'a lapsed lease is taken over');
  t.notOk(await leader.tick(), 'the old leader has lost it');
  await follower.stop();
  t.ok(await leader.tick(), 'a lease handed back on stop is free at once');
  t.throws(() => leader.register({ name: 'count', everyMs: 1, run: async () => 0 }), /already registered/);
});

t.test('the default jobs are registered', async (t) => {
  const { services } = await createTestContext(t);
  t.same(services.scheduler.jobNames.slice(0, 4), ['outbox.deliver', 'sessions.purge', 'login-failures.purge', 'rate-limits.purge']);
  t.ok(await services.scheduler.tick());
});

t.test('a job longer than the lease keeps it, and stops at its next step once another node has it', async (t) => {
  const ctx = await createTestContext(t, {}, systemClock);
  const { services } = ctx;
  const otherDb = createDatabase(ctx.dbUrl);
  t.teardown(() => otherDb.close());
  const leaseMs = 600;
  const a = new Scheduler(new LeaseRepository(services.db), systemClock, services.log, { tickMs: 100, leaseMs });
  const b = new Scheduler(new LeaseRepository(otherDb), systemClock, services.log, { tickMs: 100, leaseMs });
  b.register({ name: 'b', everyMs: 1, run: async () => undefined });
  let steps = 0;
  let bTicks = 0;
  let bLed = 0;
  let aborted = false;
  a.register({
    name: 'long',
    everyMs: 60_000,
    // Steps of a fifth of the lease for three lease lengths, while the other node keeps trying to lead.
    run: async (signal) => {
      for (let i = 0; i < 15 && !signal.aborted; i++) {
        await sleep(leaseMs / 5);
        steps++;
        bTicks++;
        if (await b.tick()) bLed++;
      }
      t.equal(bLed, 0, 'the other node never led while the job ran');
      // Now another node takes the lease (as after a stall): the job must see it before its next step.
      await otherDb.knex('scheduler_leases').update({ holder: 'someone-else' });
      const before = steps;
      for (let i = 0; i < 15 && !signal.aborted; i++) {
        await sleep(leaseMs / 5);
        steps++;
      }
      aborted = signal.aborted;
      t.ok(steps - before < 15, `stopped after ${steps - before} steps`);
    },
  });
  t.ok(await a.tick());
  t.equal(bTicks, 15);
  t.ok(aborted, 'the job was told it no longer holds the lease');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('stopping tells the job in progress to stop after its current step, and runs no further job', async (t) => {
  const { services } = await createTestContext(t, {}, systemClock);
  const s = new Scheduler(new LeaseRepository(services.db), systemClock, services.log, { tickMs: 60_000, leaseMs: 30_000 });
  let steps = 0;
  let after = 0;
  s.register({
    name: 'long',
    everyMs: 1,
    run: async (signal) => {
      while (!signal.aborted && steps < 500) {
        steps++;
        await sleep(10);
      }
    },
  });
  s.register({ name: 'next', everyMs: 1, run: async () => after++ });
  s.start();
  await sleep(100);
  await s.stop();
  t.ok(steps > 0 && steps < 500, `the job stopped after ${steps} steps`);
  t.equal(after, 0, 'the next job did not start');
});
