import t from 'tap';
import { createDatabase } from '../../src/db/database.js';
import { LeaseRepository } from '../../src/jobs/lease-repository.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
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
