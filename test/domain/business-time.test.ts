import t from 'tap';
import { HORIZON_DAYS, addBusinessTime, businessMinutesBetween } from '../../src/schedules/business-time.js';
import { ALWAYS_OPEN, checkDraft, type DayHours, type Holiday, type ScheduleDraft, type ScheduleRules, type WeekHours } from '../../src/schedules/schedule.js';

/**
 * Business-time arithmetic (issue 12, item 4), as tables: no database. Times are written in UTC with the wall
 * reading beside them. EU clocks change at 01:00 UTC: 2026-03-29 and 2026-10-25 (Copenhagen 02→03 and 03→02,
 * Tallinn 03→04 and 04→03).
 */
const week = (weekdays: DayHours, weekend: DayHours = []): WeekHours => [weekdays, weekdays, weekdays, weekdays, weekdays, weekend, weekend];
const only = (day: number, hours: DayHours): WeekHours => Array.from({ length: 7 }, (_, i) => (i === day ? hours : [])) as WeekHours;
const holiday = (from: string, to: string, yearly: boolean): Holiday => ({ name: 'h', from, to, yearly });

const office: ScheduleRules = {
  timeZone: 'Europe/Copenhagen',
  hours: week([[480, 720], [780, 1020]]),
  holidays: [
    holiday('2026-12-24', '2026-12-26', true),
    holiday('2026-12-31', '2027-01-01', true),
    holiday('2028-02-29', '2028-02-29', true),
    holiday('2027-07-05', '2027-07-16', false),
  ],
};
const night: ScheduleRules = { timeZone: 'Europe/Tallinn', hours: week([[0, 360], [1320, 1440]], [[0, 360], [1320, 1440]]), holidays: [] };
const always: ScheduleRules = { timeZone: 'UTC', hours: ALWAYS_OPEN, holidays: [] };
const alwaysCph: ScheduleRules = { ...always, timeZone: 'Europe/Copenhagen' };
const sundayCph: ScheduleRules = { timeZone: 'Europe/Copenhagen', hours: only(6, [[0, 1440]]), holidays: [] };
const sundayTallinn: ScheduleRules = { timeZone: 'Europe/Tallinn', hours: only(6, [[120, 300]]), holidays: [] };
const skippedHalfHour: ScheduleRules = { timeZone: 'Europe/Copenhagen', hours: only(6, [[120, 150]]), holidays: [] };

const add: Array<[what: string, s: ScheduleRules, start: string, minutes: number, due: string]> = [
  ['inside hours', office, '2026-11-30T08:00Z', 60, '2026-11-30T09:00Z'], // Mon 09:00 CET
  ['over the lunch break', office, '2026-11-30T10:30Z', 60, '2026-11-30T12:30Z'], // 11:30 → 13:30
  ['a target that fills the day ends at closing, not next morning', office, '2026-11-30T08:00Z', 420, '2026-11-30T16:00Z'],
  ['before opening: the clock starts at 08:00', office, '2026-11-30T05:00Z', 30, '2026-11-30T07:30Z'],
  ['in the lunch break: the clock starts at 13:00', office, '2026-11-30T11:15Z', 15, '2026-11-30T12:15Z'],
  ['on a Saturday: Monday', office, '2026-12-05T09:00Z', 60, '2026-12-07T08:00Z'],
  ['zero minutes after Friday\'s closing: Monday\'s opening', office, '2026-12-04T17:00Z', 0, '2026-12-07T07:00Z'],
  ['zero minutes inside hours: at once', office, '2026-12-04T09:17Z', 0, '2026-12-04T09:17Z'],
  ['over the weekend clocks go forward', office, '2026-03-27T15:00Z', 120, '2026-03-30T07:00Z'], // Fri 16:00 CET → Mon 09:00 CEST
  ['over the weekend clocks go back', office, '2026-10-23T14:00Z', 120, '2026-10-26T08:00Z'], // Fri 16:00 CEST → Mon 09:00 CET
  ['over Christmas (yearly, Thu–Sat)', office, '2026-12-23T15:00Z', 120, '2026-12-28T08:00Z'],
  ['Christmas again the next year', office, '2027-12-23T15:00Z', 120, '2027-12-27T08:00Z'],
  ['a yearly holiday over New Year', office, '2026-12-30T15:00Z', 120, '2027-01-04T08:00Z'],
  ['the same over the next New Year', office, '2027-12-30T15:00Z', 120, '2028-01-03T08:00Z'],
  ['a yearly Feb 29 in a leap year', office, '2028-02-28T15:00Z', 120, '2028-03-01T08:00Z'],
  ['a yearly Feb 29 falls on Feb 28 in a common year', office, '2029-02-27T15:00Z', 120, '2029-03-01T08:00Z'],
  ['Feb 28 of a leap year is a working day', office, '2028-02-27T15:00Z', 60, '2028-02-28T08:00Z'], // Sun → Mon
  ['a one-off closing of two weeks', office, '2027-07-02T14:00Z', 120, '2027-07-19T07:00Z'],
  ['a one-off holiday does not come back', office, '2028-07-06T14:00Z', 120, '2028-07-07T07:00Z'],
  ['a night shift runs through midnight', night, '2026-11-30T21:00Z', 120, '2026-11-30T23:00Z'], // 23:00 → 01:00 EET
  ['a night shift over clocks going forward', night, '2026-03-28T21:00Z', 420, '2026-03-29T20:00Z'],
  ['24×7 is elapsed time', always, '2026-11-30T10:11Z', 1440, '2026-12-01T10:11Z'],
  ['24×7 in a zone with summer time is still elapsed time', alwaysCph, '2026-03-28T12:00Z', 1440, '2026-03-29T12:00Z'],
  ['a whole Sunday of 23 hours', sundayCph, '2026-03-28T23:00Z', 1380, '2026-03-29T22:00Z'],
  ['a whole Sunday of 25 hours', sundayCph, '2026-10-24T22:00Z', 1500, '2026-10-25T23:00Z'],
];

t.test('addBusinessTime', async (t) => {
  for (const [what, s, start, minutes, due] of add) {
    t.equal(addBusinessTime(s, new Date(start), minutes)?.toISOString(), new Date(due).toISOString(), what);
  }
});

const between: Array<[what: string, s: ScheduleRules, a: string, b: string, minutes: number]> = [
  ['a working day', office, '2026-11-30T08:00Z', '2026-11-30T16:00Z', 420],
  ['a whole week', office, '2026-11-30T00:00Z', '2026-12-07T00:00Z', 2400],
  ['a weekend with a change of clocks', office, '2026-03-27T15:00Z', '2026-03-30T07:00Z', 120],
  ['earlier end: negative', office, '2026-11-30T16:00Z', '2026-11-30T08:00Z', -420],
  ['all of it outside hours', office, '2026-12-05T09:00Z', '2026-12-06T20:00Z', 0],
  ['a holiday week', office, '2027-07-05T00:00Z', '2027-07-17T00:00Z', 0],
  ['half a minute', office, '2026-11-30T08:00:00Z', '2026-11-30T08:00:30Z', 0.5],
  ['Sunday 00–24 when clocks go forward: 23 hours', sundayCph, '2026-03-28T00:00Z', '2026-03-30T00:00Z', 1380],
  ['Sunday 00–24 when clocks go back: 25 hours', sundayCph, '2026-10-24T00:00Z', '2026-10-26T00:00Z', 1500],
  ['Tallinn 02–05 loses the skipped hour', sundayTallinn, '2026-03-28T00:00Z', '2026-03-30T00:00Z', 120],
  ['Tallinn 02–05 counts the repeated hour twice', sundayTallinn, '2026-10-24T00:00Z', '2026-10-26T00:00Z', 240],
  ['Tallinn 02–05 on an ordinary Sunday', sundayTallinn, '2026-11-28T00:00Z', '2026-11-30T00:00Z', 180],
  ['an interval inside the skipped hour is empty', skippedHalfHour, '2026-03-28T00:00Z', '2026-03-30T00:00Z', 0],
  ['the same interval a week later', skippedHalfHour, '2026-04-04T00:00Z', '2026-04-06T00:00Z', 30],
  ['a night shift over clocks going back', night, '2026-10-24T19:00Z', '2026-10-25T05:00Z', 9 * 60], // Sat 22:00–24:00 EEST, then Sun 00:00 EEST – 06:00 EET: 2 + 7 hours
  ['24×7', always, '2026-01-01T00:00Z', '2026-01-02T06:00Z', 1800],
];

t.test('businessMinutesBetween', async (t) => {
  for (const [what, s, a, b, minutes] of between) t.equal(businessMinutesBetween(s, new Date(a), new Date(b)), minutes, what);
});

t.test('between(start, add(start, m)) is m, for starts all over two weeks around each change of clocks', async (t) => {
  let checked = 0;
  for (const s of [office, night, sundayTallinn]) {
    for (const from of ['2026-03-22T00:00Z', '2026-10-18T00:00Z']) {
      for (let at = Date.parse(from); at < Date.parse(from) + 14 * 86_400_000; at += 211 * 60_000) {
        for (const m of [0, 1, 59, 480, 2000]) {
          const due = addBusinessTime(s, new Date(at), m)!;
          if (businessMinutesBetween(s, new Date(at), due) !== m) t.fail(`${s.timeZone} ${new Date(at).toISOString()} + ${m}`);
          checked++;
        }
      }
    }
  }
  t.ok(checked > 1000, `${checked} cases`);
});

t.test('the walk is bounded', async (t) => {
  const closed: ScheduleRules = { ...office, holidays: [holiday('2026-01-01', '2099-12-31', false)] };
  t.equal(addBusinessTime(closed, new Date('2026-11-30T08:00Z'), 60), null, `nothing open within ${HORIZON_DAYS} days: no due time`);
  t.throws(() => addBusinessTime(office, new Date(), -1), RangeError);
  t.throws(() => addBusinessTime(office, new Date(), Number.NaN), RangeError);
});

const draft = (over: Partial<ScheduleDraft>): ScheduleDraft => ({
  name: 'Office', timeZone: 'Europe/Copenhagen', days: [[{ start: '08:00', end: '16:00' }], [], [], [], [], [], []], holidays: [], ...over,
});
const key = (e: unknown) => (typeof e === 'string' ? e : (e as { key: string }).key);

t.test('checkDraft: what the form may say', async (t) => {
  const ok = checkDraft(draft({ days: [[{ start: '13:00', end: '00:00' }, { start: '', end: '' }, { start: '8:00', end: '12:00' }], [], [], [], [], [], [{ start: '00:00:00', end: '24:00' }]] }));
  t.same(ok.errors, {});
  t.same(ok.rules.hours[0], [[480, 720], [780, 1440]], 'sorted; 00:00 as an end is the day\'s end; blank rows ignored');
  t.same(ok.rules.hours[6], [[0, 1440]]);
  t.equal(checkDraft(draft({ timeZone: 'europe/tallinn' })).rules.timeZone, 'Europe/Tallinn', 'a zone in its own spelling');

  const refused: Array<[what: string, over: Partial<ScheduleDraft>, field: string, code: string]> = [
    ['no name', { name: '  ' }, 'name', 'validation.enter_name'],
    ['an unknown zone', { timeZone: 'Mars/Olympus' }, 'timeZone', 'validation.time_zone_unknown'],
    ['no hours in the whole week', { days: [[{ start: '', end: '' }], [], [], [], [], [], []] }, 'hours', 'admin.schedules.errors.no_hours'],
    ['end before start', { days: [[{ start: '12:00', end: '08:00' }], [], [], [], [], [], []] }, 'hours-0-0', 'admin.schedules.errors.end_before_start'],
    ['an empty interval', { days: [[{ start: '08:00', end: '08:00' }], [], [], [], [], [], []] }, 'hours-0-0', 'admin.schedules.errors.end_before_start'],
    ['overlapping intervals', { days: [[], [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' }], [], [], [], [], []] }, 'hours-1-1', 'admin.schedules.errors.overlap'],
    ['half an interval', { days: [[{ start: '08:00', end: '' }], [], [], [], [], [], []] }, 'hours-0-0', 'admin.schedules.errors.interval_incomplete'],
    ['not a time', { days: [[{ start: '8h', end: '25:00' }], [], [], [], [], [], []] }, 'hours-0-0', 'admin.schedules.errors.not_a_time'],
    ['24:00 as a start', { days: [[{ start: '24:00', end: '24:00' }], [], [], [], [], [], []] }, 'hours-0-0', 'admin.schedules.errors.not_a_time'],
    ['a holiday without a name', { holidays: [{ name: '', from: '2026-12-24', to: '', yearly: true }] }, 'holiday-0', 'admin.schedules.errors.holiday_name'],
    ['Feb 30', { holidays: [{ name: 'x', from: '2027-02-30', to: '', yearly: false }] }, 'holiday-0', 'admin.schedules.errors.not_a_date'],
    ['a holiday ending before it starts', { holidays: [{ name: 'x', from: '2027-02-03', to: '2027-02-01', yearly: false }] }, 'holiday-0', 'admin.schedules.errors.holiday_order'],
    ['a yearly holiday of a whole year', { holidays: [{ name: 'x', from: '2027-01-01', to: '2027-12-31', yearly: true }] }, 'holiday-0', 'admin.schedules.errors.yearly_too_long'],
    ['a one-off holiday of years', { holidays: [{ name: 'x', from: '2027-01-01', to: '2029-01-01', yearly: false }] }, 'holiday-0', 'admin.schedules.errors.holiday_too_long'],
  ];
  for (const [what, over, field, code] of refused) {
    const { errors } = checkDraft(draft(over));
    t.equal(errors[field] && key(errors[field]), code, what);
  }
  const past = checkDraft(draft({ holidays: [{ name: 'Old', from: '1999-12-24', to: '', yearly: false }] }));
  t.same(past.errors, {}, 'a holiday in the past is fine');
  t.same(past.rules.holidays, [{ name: 'Old', from: '1999-12-24', to: '1999-12-24', yearly: false }], 'a single day: to is from');
});
