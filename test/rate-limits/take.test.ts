import t from 'tap';
import { RateLimiter } from '../../src/rate-limits/rate-limiter.js';
import { FrozenClock } from '../helpers/context.js';
import { freshDatabase } from '../helpers/db.js';
import { countQueries } from '../helpers/query-count.js';

// take() is one upsert per call on either dialect (mail intake counts it); these are its window's rules.
t.test('take(): at most max per window, counted in one statement, the window starting at its first event', async (t) => {
  const { db, drop } = await freshDatabase();
  t.teardown(drop);
  const clock = new FrozenClock();
  const limiter = new RateLimiter(db, clock);
  const limit = { scope: 'test', max: 2, windowMs: 60_000 };
  const start = clock.now().getTime();

  const first = await countQueries(db, async () => t.same(await limiter.take(limit, 'ann'), { allowed: true }, 'the first event'));
  t.equal(first.count, 1, 'one statement when the key is new');
  clock.advance(10_000);
  const second = await countQueries(db, async () => t.same(await limiter.take(limit, 'ann'), { allowed: true }, 'the second'));
  t.equal(second.count, 1, 'one statement when it is counted again');
  clock.advance(10_000);
  t.same(await limiter.take(limit, 'ann'), { allowed: false, retryAt: new Date(start + 60_000) }, 'the third is refused until the window ends');
  t.same(await limiter.take(limit, 'bob'), { allowed: true }, 'another key has its own count');
  clock.advance(39_000);
  t.equal((await limiter.take(limit, 'ann')).allowed, false, 'still refused just before the window ends');
  clock.advance(1_000);
  t.same(await limiter.take(limit, 'ann'), { allowed: true }, 'a new window once it has ended');
  t.same(await limiter.take(limit, 'ann'), { allowed: true });
  t.equal((await limiter.take(limit, 'ann')).allowed, false, 'and max again in it');

  clock.advance(120_000);
  await limiter.purgeOlderThan(new Date(clock.now().getTime() - 60_000));
  t.equal(Number((await db.knex('rate_limit_counters').count({ n: '*' }).first())!.n), 0, 'the purge deletes ended windows');
});
