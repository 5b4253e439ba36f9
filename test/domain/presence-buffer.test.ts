import t from 'tap';
import type { LockRepository } from '../../src/locks/lock-repository.js';
import { PresenceBuffer } from '../../src/locks/presence-buffer.js';

type Row = { ticketId: number; staffId: number; seenAt: Date };

/** A repository whose presence writes wait for `release` and fail while `down`. */
function fakeRepo() {
  const written: Row[][] = [];
  const state = { down: false, release: null as (() => void) | null };
  const repo = {
    touchPresenceMany: async (rows: Row[]) => {
      if (state.down) throw new Error('database away');
      await new Promise<void>((r) => (state.release = r));
      written.push(rows);
    },
  } as unknown as LockRepository;
  return { repo, written, state };
}

const at = (s: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, s));

t.test('one write per flush for every ticket and agent; shown here until written; kept when the write fails', async (t) => {
  const { repo, written, state } = fakeRepo();
  const buffer = new PresenceBuffer(repo, 60_000);
  buffer.record(1, { staffId: 7, name: 'Ann', seenAt: at(0) });
  buffer.record(1, { staffId: 7, name: 'Ann', seenAt: at(1) });
  buffer.record(2, { staffId: 8, name: 'Ben', seenAt: at(1) });
  t.same(buffer.unwritten(1).map((v) => v.seenAt), [at(1)], 'the latest per agent');

  const flushing = buffer.flush();
  t.same(buffer.unwritten(2).map((v) => v.name), ['Ben'], 'still shown while being written');
  state.release!();
  await flushing;
  t.same(written, [[{ ticketId: 1, staffId: 7, seenAt: at(1) }, { ticketId: 2, staffId: 8, seenAt: at(1) }]], 'one write for all');
  t.same(buffer.unwritten(2), [], 'nothing left once written');

  state.down = true;
  buffer.record(3, { staffId: 9, name: 'Cy', seenAt: at(2) });
  await buffer.flush();
  t.same(buffer.unwritten(3).map((v) => v.name), ['Cy'], 'a failed write keeps the presence for the next flush');
  buffer.forget(3, 9);
  t.same(buffer.unwritten(3), [], 'leaving drops it');
  await buffer.flush();
  t.equal(written.length, 1, 'nothing to write after it was dropped');
});
