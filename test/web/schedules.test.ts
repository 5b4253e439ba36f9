import t from 'tap';
import { ScheduleRepository } from '../../src/schedules/schedule-repository.js';
import { ScheduleService } from '../../src/schedules/schedule-service.js';
import { createAgent, createTestContext } from '../helpers/context.js';
import { Browser, createTestApp, fieldError } from '../helpers/http.js';

/**
 * Business schedules (issue 12, item 4): the admin pages on a real database. The arithmetic is table-tested
 * without one (test/domain/business-time.test.ts). One desk for the file; each test uses names of its own.
 */
const ctx = await createTestContext(t);
const app = await createTestApp(t, ctx);
const { services } = ctx;
const admin = await createAgent(services, { admin: true, name: 'Ada Admin' });
const agent = await createAgent(services, { name: 'Alan Agent' });
const b = new Browser(app);
await b.staffLogin(admin.username, admin.password);

/** A form as the browser sends it: Monday 08:00–12:00 and 13:00–17:00, every other day blank. */
const form = (over: Record<string, string>) => {
  const f: Record<string, string> = { name: '', timeZone: 'Europe/Copenhagen', 'h-0-0-start': '08:00', 'h-0-0-end': '12:00', 'h-0-1-start': '13:00', 'h-0-1-end': '17:00', 'hol-0-name': '', 'hol-0-from': '', 'hol-0-to': '' };
  for (let d = 1; d < 7; d++) Object.assign(f, { [`h-${d}-0-start`]: '', [`h-${d}-0-end`]: '' });
  return { ...f, ...over };
};
const byName = async (name: string) => (await services.schedules.list()).find((s) => s.name === name);

t.test('the built-in 24×7 schedule is listed, shown, and neither edited nor deleted', async (t) => {
  const list = await b.get('/scp/admin/schedules');
  t.equal(list.statusCode, 200);
  t.match(list.body, /<title>Business hours ·/);
  t.match(list.body, /href="\/scp\/admin\/schedules"[^>]*aria-current="page"/, 'the admin nav links here');
  const always = (await services.schedules.list())[0]!;
  t.ok(always.builtin, 'the migration made it, first in the list');
  t.equal(always.name, '24×7');
  t.match(list.body, new RegExp(`href="/scp/admin/schedules/${always.id}">24×7</a>`));
  const page = await b.get(`/scp/admin/schedules/${always.id}`);
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, /name="h-0-0-start"/, 'no form');
  t.equal((await b.post(`/scp/admin/schedules/${always.id}`, form({ name: 'Hacked' }))).statusCode, 409);
  t.equal((await b.post(`/scp/admin/schedules/${always.id}`, form({ more: 'day-0' }))).statusCode, 409, 'not even a form to edit it');
  t.equal((await b.get(`/scp/admin/schedules/${always.id}/delete`)).statusCode, 409);
  t.equal((await b.post(`/scp/admin/schedules/${always.id}/delete`, {})).statusCode, 409);
  t.ok((await services.schedules.get(always.id)).builtin, 'still there, unchanged');
  t.equal((await services.schedules.get(always.id)).name, '24×7');

  const other = new Browser(app);
  await other.staffLogin(agent.username, agent.password);
  t.equal((await other.get('/scp/admin/schedules')).statusCode, 403, 'administrators only');
  t.equal((await other.post('/scp/admin/schedules/new', form({ name: 'Sneaky' }))).statusCode, 403);
  t.equal(await byName('Sneaky'), undefined);
});

t.test('create and edit: weekday intervals, holidays, and more rows without JavaScript', async (t) => {
  await b.get('/scp/admin/schedules/new');
  // "More rows" for Monday: the form again with what was typed and a third blank row; nothing saved.
  const more = await b.post('/scp/admin/schedules/new', form({ name: 'Copenhagen office', more: 'day-0' }));
  t.equal(more.statusCode, 200);
  t.match(more.body, /name="h-0-1-start" value="13:00"/, 'values kept');
  t.match(more.body, /name="h-0-2-start" value=""/, 'a blank row more');
  t.match(more.body, /name="name" type="text" value="Copenhagen office"/);
  t.equal(await byName('Copenhagen office'), undefined, 'nothing saved');
  const moreHolidays = await b.post('/scp/admin/schedules/new', form({ name: 'Copenhagen office', more: 'holidays', 'hol-0-name': 'Christmas' }));
  t.match(moreHolidays.body, /name="hol-0-name" value="Christmas"/);
  t.match(moreHolidays.body, /name="hol-1-name" value=""/);

  const saved = await b.post('/scp/admin/schedules/new', form({
    name: 'Copenhagen office', 'h-0-2-start': '', 'h-0-2-end': '', 'h-4-0-start': '09:00', 'h-4-0-end': '00:00',
    'hol-0-name': 'Christmas', 'hol-0-from': '2026-12-24', 'hol-0-to': '2026-12-26', 'hol-0-yearly': '1',
    'hol-1-name': 'Move', 'hol-1-from': '2027-03-05', 'hol-1-to': '',
  }));
  t.equal(saved.statusCode, 302);
  const s = (await byName('Copenhagen office'))!;
  t.same(s.hours, [[[480, 720], [780, 1020]], [], [], [], [[540, 1440]], [], []], 'Friday until midnight');
  t.same(s.holidays, [{ name: 'Christmas', from: '2026-12-24', to: '2026-12-26', yearly: true }, { name: 'Move', from: '2027-03-05', to: '2027-03-05', yearly: false }]);
  t.equal(s.timeZone, 'Europe/Copenhagen');
  t.ok(await services.db.q('audit_log').where({ action: 'schedule.create', object_id: String(s.id) }).first(), 'audited');
  t.match((await b.get('/scp/admin/schedules')).body, /Friday: 09:00–24:00/);

  const edit = await b.get(`/scp/admin/schedules/${s.id}`);
  t.match(edit.body, /name="h-4-0-end" value="00:00"/, 'the day\'s end shows as a time input can hold it');
  t.match(edit.body, /name="hol-0-yearly" value="1" checked/);
  t.equal((await b.post(`/scp/admin/schedules/${s.id}`, form({ name: 'Copenhagen office', timeZone: 'Europe/Tallinn' }))).statusCode, 302);
  const after = (await services.schedules.get(s.id));
  t.equal(after.timeZone, 'Europe/Tallinn');
  t.same(after.holidays, [], 'a holiday row cleared is removed');
});

t.test('bad input is a field error with the form kept, never a 500', async (t) => {
  await services.schedules.create(admin.principal, { name: 'Taken', timeZone: 'UTC', days: [[{ start: '08:00', end: '09:00' }], [], [], [], [], [], []], holidays: [] });
  await b.get('/scp/admin/schedules/new');
  const cases: Array<[what: string, over: Record<string, string>, field: string]> = [
    ['no working hours', { 'h-0-0-start': '', 'h-0-0-end': '', 'h-0-1-start': '', 'h-0-1-end': '' }, 'hours'],
    ['overlapping intervals', { 'h-0-1-start': '11:00' }, 'hours-0-1'],
    ['end before start', { 'h-0-0-end': '07:00' }, 'hours-0-0'],
    ['not a time', { 'h-0-0-start': '8 o\'clock' }, 'hours-0-0'],
    ['an unknown zone', { timeZone: 'Europe/Atlantis' }, 'timeZone'],
    ['a name taken, in another case', { name: 'TAKEN' }, 'name'],
    ['a date that does not exist', { 'hol-0-name': 'x', 'hol-0-from': '2027-02-30' }, 'holiday-0'],
  ];
  for (const [what, over, field] of cases) {
    const res = await b.post('/scp/admin/schedules/new', form({ name: 'Bad one', ...over }));
    t.equal(res.statusCode, 400, what);
    if (field === 'hours') t.match(res.body, /<p class="error" id="e-hours">/, what);
    else t.ok(fieldError(res.body, field), `${what}: the error is on its field`);
    t.match(res.body, /name="h-0-0-start" value="/, `${what}: the form again`);
  }
  // Hostile names and shapes: ignored or refused, never a 500.
  const hostile: Array<Record<string, string>> = [{ 'h-9-0-start': '08:00' }, { 'h-0-99999-start': '08:00' }, { 'h-0-39-start': '01:00', 'h-0-39-end': '02:00' }, { more: 'day-9' }, { timeZone: '' }];
  for (const over of hostile) {
    const res = await b.post('/scp/admin/schedules/new', form({ name: 'Hostile', ...over }));
    t.ok(res.statusCode < 500, JSON.stringify(over));
  }
  t.equal((await b.get('/scp/admin/schedules/abc')).statusCode, 404);
  t.equal((await b.post('/scp/admin/schedules/999999/delete', {})).statusCode, 404);
});

t.test('delete asks first, and is refused while something measures time in the schedule', async (t) => {
  const s = await services.schedules.create(admin.principal, { name: 'Short-lived', timeZone: 'UTC', days: [[{ start: '08:00', end: '09:00' }], [], [], [], [], [], []], holidays: [] });
  const confirm = await b.get(`/scp/admin/schedules/${s.id}/delete`);
  t.equal(confirm.statusCode, 200);
  t.match(confirm.body, /class="danger"/);
  t.ok(await services.schedules.get(s.id), 'a GET deletes nothing');
  t.equal((await b.post(`/scp/admin/schedules/${s.id}/delete`, {})).statusCode, 302);
  t.equal(await byName('Short-lived'), undefined);

  // SLA plans (item 5) will answer through this hook: a schedule they name stays, with its users listed.
  const kept = await services.schedules.create(admin.principal, { name: 'Kept', timeZone: 'UTC', days: [[{ start: '08:00', end: '09:00' }], [], [], [], [], [], []], holidays: [] });
  const guarded = new ScheduleService({ db: services.db, schedules: new ScheduleRepository(services.db), audit: services.audit, usedBy: async (id) => (id === kept.id ? ['Gold support'] : []) });
  await t.rejects(guarded.delete(admin.principal, kept.id), { code: 'SCHEDULE_IN_USE' });
  t.ok(await services.schedules.get(kept.id), 'still there');
});
