import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../../errors.js';
import { msg, type Msg } from '../../i18n/message.js';
import { draftOf, formatClock, type HolidayDraft, type IntervalDraft, type Schedule, type ScheduleDraft } from '../../schedules/schedule.js';
import { readForm, parseId, type Form } from '../forms.js';
import { render, setFlash } from '../render.js';
import { timeZoneOptions } from '../time-zones.js';

type IdParams = { Params: { id: string } };

/** Rows a form may send per day and of holidays: more is not read (the domain refuses fewer than this anyway). */
const MAX_ROWS = 40;

/** Monday first, as the schedule stores its days. */
const DAY_KEYS = ['admin.schedules.day.mon', 'admin.schedules.day.tue', 'admin.schedules.day.wed', 'admin.schedules.day.thu', 'admin.schedules.day.fri', 'admin.schedules.day.sat', 'admin.schedules.day.sun'];

const blankInterval = (): IntervalDraft => ({ start: '', end: '' });
const blankHoliday = (): HolidayDraft => ({ name: '', from: '', to: '', yearly: false });

const EMPTY: ScheduleDraft = {
  name: '',
  timeZone: 'UTC',
  days: [0, 1, 2, 3, 4, 5, 6].map((d) => (d < 5 ? [{ start: '08:00', end: '16:00' }] : [blankInterval()])),
  holidays: [blankHoliday()],
};

/** How many rows of a prefix the form sent: one more than the highest index among its field names. */
function rowCount(form: Form, pattern: RegExp): number {
  let n = 0;
  for (const k of Object.keys(form.fields)) {
    const m = pattern.exec(k);
    if (m && Number(m[1]) < MAX_ROWS) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** The schedule as the form sent it, every row kept (blank ones too) so each error stays on its row. */
function draftFrom(form: Form): ScheduleDraft {
  const f = form.fields;
  const days = [0, 1, 2, 3, 4, 5, 6].map((d) => {
    const rows = Array.from({ length: rowCount(form, new RegExp(`^h-${d}-(\\d{1,3})-(?:start|end)$`)) }, (_, i) => ({ start: f[`h-${d}-${i}-start`] ?? '', end: f[`h-${d}-${i}-end`] ?? '' }));
    return rows.length ? rows : [blankInterval()];
  });
  const holidays = Array.from({ length: rowCount(form, /^hol-(\d{1,3})-(?:name|from|to)$/) }, (_, i) => ({
    name: f[`hol-${i}-name`] ?? '', from: f[`hol-${i}-from`] ?? '', to: f[`hol-${i}-to`] ?? '', yearly: f[`hol-${i}-yearly`] === '1',
  }));
  return { name: f.name ?? '', timeZone: f.timeZone ?? '', days, holidays: holidays.length ? holidays : [blankHoliday()] };
}

/** A day's hours as the list shows them: "08:00–12:00, 13:00–17:00". */
const dayText = (hours: Schedule['hours'][number]) => hours.map(([s, e]) => `${formatClock(s)}–${formatClock(e)}`).join(', ');

/** Business schedules (issue 12, item 4): the list, the form with its weekday rows and holidays, and delete. */
export async function scheduleAdminRoutes(app: FastifyInstance): Promise<void> {
  const { schedules } = app.services;

  app.get('/schedules', async (request, reply) => {
    const rows = (await schedules.list()).map((s) => ({ ...s, days: s.hours.map(dayText), weeklyMinutes: s.hours.flat().reduce((sum, [a, b]) => sum + b - a, 0) }));
    return render(request, reply, 'admin/schedule-list', { title: 'admin.schedules.title', schedules: rows, dayKeys: DAY_KEYS });
  });

  async function form(request: FastifyRequest, reply: FastifyReply, id: number | null, values: ScheduleDraft, errors: FieldErrors = {}, status = 200) {
    const current = id === null ? null : await schedules.get(id);
    return render(request, reply, 'admin/schedule-form', {
      title: current ? msg('admin.schedules.edit_title', { name: current.name }) : 'admin.schedules.new_title',
      scheduleId: id,
      values: { ...values },
      errors,
      dayKeys: DAY_KEYS,
      timeZones: timeZoneOptions(values.timeZone),
      maxRows: MAX_ROWS,
    }, status);
  }

  async function save(request: FastifyRequest, reply: FastifyReply, id: number | null) {
    const sent = readForm(request);
    const draft = draftFrom(sent);
    // "More rows" re-shows the form with one blank row more where asked, saving nothing (no script needed).
    const more = sent.fields.more ?? '';
    const day = /^day-([0-6])$/.exec(more);
    if (day) {
      const rows = draft.days[Number(day[1])]!;
      if (rows.length < MAX_ROWS) rows.push(blankInterval());
      return form(request, reply, id, draft);
    }
    if (more === 'holidays') {
      if (draft.holidays.length < MAX_ROWS) draft.holidays.push(blankHoliday());
      return form(request, reply, id, draft);
    }
    try {
      if (id === null) await schedules.create(request.staff!, draft);
      else await schedules.update(request.staff!, id, draft);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return form(request, reply, id, draft, err.fields, 400);
    }
    setFlash(reply, { type: 'success', message: msg('admin.schedules.flash.saved', { name: draft.name.trim() }) });
    return reply.redirect('/scp/admin/schedules');
  }

  // A new schedule starts in the administrator's own zone: most desks keep the hours of where they sit.
  app.get('/schedules/new', async (request, reply) => form(request, reply, null, { ...EMPTY, timeZone: request.staff!.timezone }));
  app.post('/schedules/new', async (request, reply) => save(request, reply, null));

  app.get<IdParams>('/schedules/:id', async (request, reply) => {
    const s = await schedules.get(parseId(request.params.id));
    if (s.builtin) return render(request, reply, 'admin/schedule-builtin', { title: msg('admin.schedules.builtin_title', { name: s.name }), schedule: s });
    return form(request, reply, s.id, draftOf(s.name, s));
  });
  app.post<IdParams>('/schedules/:id', async (request, reply) => {
    const s = await schedules.get(parseId(request.params.id));
    if (s.builtin) throw new AppError('SCHEDULE_BUILTIN', 'conflict', 'admin.schedules.errors.builtin');
    return save(request, reply, s.id);
  });

  /** The confirmation page: what still measures time in the schedule, or the button that deletes it. */
  async function deletePage(request: FastifyRequest, reply: FastifyReply, s: Schedule, formError?: Msg, status = 200) {
    const users = await schedules.usedBy(s.id);
    return render(request, reply, 'admin/schedule-delete', { title: msg('admin.schedules.delete_title', { name: s.name }), schedule: s, users, formError }, status);
  }

  app.get<IdParams>('/schedules/:id/delete', async (request, reply) => {
    const s = await schedules.get(parseId(request.params.id));
    if (s.builtin) throw new AppError('SCHEDULE_BUILTIN', 'conflict', 'admin.schedules.errors.builtin');
    return deletePage(request, reply, s);
  });

  app.post<IdParams>('/schedules/:id/delete', async (request, reply) => {
    const s = await schedules.get(parseId(request.params.id));
    try {
      await schedules.delete(request.staff!, s.id);
    } catch (err) {
      if (err instanceof AppError && err.code === 'SCHEDULE_IN_USE') return deletePage(request, reply, s, err.userMessage, 409);
      throw err;
    }
    setFlash(reply, { type: 'success', message: msg('admin.schedules.flash.deleted', { name: s.name }) });
    return reply.redirect('/scp/admin/schedules');
  });
}
