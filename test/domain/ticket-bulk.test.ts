import t from 'tap';
import { AppError, ValidationError } from '../../src/errors.js';
import type { StaffPrincipal } from '../../src/staff/staff.js';
import { BULK_LIMIT, TicketBulk } from '../../src/tickets/ticket-bulk.js';
import type { Ticket } from '../../src/tickets/ticket.js';

const agent = { kind: 'staff', staffId: 7, name: 'Alice', isAdmin: false, departmentIds: [1], managedDepartmentIds: [] } as unknown as StaffPrincipal;
const ticket = (number: string, over: Partial<Ticket> = {}) => ({ id: Number(number), number, subject: `S${number}`, departmentId: 1, assigneeId: null, status: 'open', priority: 2, ...over }) as Ticket;

t.test('chosen: each number once, in order; refused when none or more than the cap', async (t) => {
  t.same(TicketBulk.chosen(['1234', ' #5678 ', '1234', 'x', '12']), ['1234', '5678']);
  const refusal = (raw: string[]) => {
    try {
      TicketBulk.chosen(raw);
      return null;
    } catch (err) {
      return err instanceof ValidationError ? err.fields.tickets : err;
    }
  };
  t.equal(refusal([]), 'staff.bulk.none_selected');
  t.equal(refusal(['abc']), 'staff.bulk.none_selected', 'nothing that can be a number');
  const many = Array.from({ length: BULK_LIMIT + 1 }, (_, i) => String(10_000 + i));
  t.same(refusal(many), { key: 'staff.bulk.too_many', params: { count: BULK_LIMIT + 1, max: BULK_LIMIT } });
  t.equal(TicketBulk.chosen(many.slice(0, BULK_LIMIT)).length, BULK_LIMIT, 'the cap itself is allowed');
});

t.test('apply: each ticket on its own; a failure is classified and the loop goes on', async (t) => {
  const tickets = [ticket('1001'), ticket('1002'), ticket('1003'), ticket('1004'), ticket('1005', { departmentId: 2 }), ticket('1006', { status: 'closed' })];
  const changed: string[] = [];
  const boom = new Error('connection lost');
  const bulk = new TicketBulk({
    find: async (numbers) => tickets.filter((x) => numbers.includes(x.number)),
    tickets: {
      canStaffSee: (p, x) => p.departmentIds.includes(x.departmentId),
      setStatus: async (_p, number) => {
        if (number === '1001') throw boom;
        if (number === '1002') throw new AppError('LOCK_HELD', 'conflict', 'staff.lock.held_error', { holderName: 'Bob' });
        if (number === '1003') throw new ValidationError({ status: 'validation.x', other: 'validation.y' });
        changed.push(number);
      },
      setPriority: async () => undefined,
      transfer: async () => undefined,
      assign: async () => undefined,
    },
    removal: { delete: async () => ticket('0'), markSpam: async () => ({ changed: true, banned: false }) },
  });
  const out = await bulk.apply(agent, ['1001', '1002', '1003', '1004', '1005', '1006', '9999'], { kind: 'status', status: 'closed' });
  t.same(out.map((o) => [o.number, o.result, o.reason?.key ?? null]), [
    ['1001', 'refused', 'staff.bulk.refused.failed'],
    ['1002', 'refused', 'staff.bulk.refused.locked'],
    ['1003', 'refused', 'validation.x'],
    ['1004', 'done', null],
    ['1005', 'refused', 'staff.bulk.refused.not_visible'],
    ['1006', 'unchanged', null],
    ['9999', 'refused', 'staff.bulk.refused.not_visible'],
  ]);
  t.equal(out[0]!.error, boom, 'the unexpected error is kept for the log');
  t.same(out[1]!.reason, { key: 'staff.bulk.refused.locked', params: { name: 'Bob' } });
  t.same(changed, ['1004']);
  t.equal(out[4]!.subject, null, 'no subject of a ticket the agent may not see');

  const admin = { ...agent, isAdmin: true } as StaffPrincipal;
  t.equal((await bulk.apply(admin, ['9999'], { kind: 'delete' }))[0]!.reason?.key, 'staff.bulk.refused.gone', 'an administrator sees everything: missing means deleted');
});
