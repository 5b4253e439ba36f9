import type { FastifyInstance, FastifyRequest } from 'fastify';
import { msg, type Message } from '../../i18n/message.js';
import type { Translator } from '../../i18n/translator.js';
import { lockHeldError } from '../../locks/lock-service.js';
import type { LockState, TicketLock, Viewer } from '../../locks/lock.js';
import type { StaffPrincipal } from '../../staff/staff.js';
import type { Ticket } from '../../tickets/ticket.js';
import { readForm } from '../forms.js';
import { translatorFor } from '../i18n.js';
import { jsonErrorHandler } from '../plugins/errors.js';
import { setFlash } from '../render.js';

type NumberParams = { Params: { number: string } };

/** How often the page reports presence and reads the lock; presence counts for 30 s. */
export const PRESENCE_POLL_MS = 10_000;

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** "14:05 UTC" / "14.05 UTC" in the agent's language and zone: a lock lasts minutes, so the date adds nothing. */
function lockTime(d: Date, tr: Translator, timeZone: string): string {
  const id = `${tr.language.intl} ${timeZone}`;
  let f = clockFormats.get(id);
  if (!f) {
    const options = { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } as const;
    try {
      f = new Intl.DateTimeFormat(tr.language.intl, { ...options, timeZone });
    } catch {
      f = new Intl.DateTimeFormat(tr.language.intl, { ...options, timeZone: 'UTC' }); // a zone this runtime lacks
    }
    clockFormats.set(id, f);
  }
  return f.format(d);
}

/**
 * A lock conflict (lockHeldError) with its times said as clock times for this agent, ready for a page or a
 * flash cookie (which carries no Dates).
 */
export function lockMessage(m: Message, tr: Translator, timeZone: string): Message {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(m.params ?? {})) params[k] = v instanceof Date ? lockTime(v, tr, timeZone) : v;
  return { key: m.key, params };
}

function lockJson(lock: TicketLock | null, tr: Translator, viewer: StaffPrincipal) {
  return lock
    ? { holderId: lock.staffId, holderName: lock.holderName, acquiredAt: lock.acquiredAt.toISOString(), expiresAt: lock.expiresAt.toISOString(), since: lockTime(lock.acquiredAt, tr, viewer.timezone), until: lockTime(lock.expiresAt, tr, viewer.timezone) }
    : null;
}

/**
 * `withToken`: only the answer to a take hands the page the lock's token, so a page learns it by taking the
 * lock (or by being rendered while its agent holds it), never from a poll that another page's take caused.
 */
async function stateJson(request: FastifyRequest, s: LockState & { viewers?: Viewer[] }, withToken = false) {
  const viewer = request.staff!;
  const tr = await translatorFor(request);
  return {
    lock: lockJson(s.lock, tr, viewer),
    mine: s.mine,
    ...(withToken ? { token: s.mine ? s.lock?.token ?? null : null } : {}),
    notice: s.notice ? { releasedByName: s.notice.releasedByName, at: lockTime(s.notice.releasedAt, tr, viewer.timezone) } : null,
    ...(s.viewers ? { viewers: s.viewers.map((v) => ({ staffId: v.staffId, name: v.name })) } : {}),
  };
}

/**
 * What the ticket page shows about collisions: the lock, who else is viewing, the agent's drafts. In 'view'
 * mode looking takes the lock (by the site's choice); otherwise only the "Start a reply" POST or typing does.
 * A page shown to the lock's holder gets its token, to name the lock when it releases it. Also records this
 * agent's presence.
 */
export async function collisionPageData(request: FastifyRequest, ticket: Ticket) {
  const p = request.staff!;
  const { locks, drafts } = request.server.services;
  const taken = locks.mode === 'view' ? await locks.acquire(p, ticket.number) : null;
  const state = await locks.see(p, ticket);
  const lockMs = locks.lockMs;
  const tr = await translatorFor(request);
  return {
    lock: state.lock,
    lockMine: state.mine,
    lockToken: state.mine ? state.lock?.token ?? '' : '',
    lockNotice: taken?.notice ?? null,
    lockSince: state.lock ? lockTime(state.lock.acquiredAt, tr, p.timezone) : '',
    lockUntil: state.lock ? lockTime(state.lock.expiresAt, tr, p.timezone) : '',
    viewers: state.viewers,
    drafts: await drafts.forTicket(p, ticket.id),
    canBreakLock: locks.canBreak(p, ticket),
    lockClient: {
      mode: locks.mode,
      // Renew well before expiry, so one lost request does not cost the lock.
      renewMs: Math.max(15_000, Math.floor(lockMs / 3)),
      lockMs,
      pollMs: PRESENCE_POLL_MS,
      notesLocked: locks.notesLocked,
    },
  };
}

/**
 * JSON endpoints for public/js/ticket-lock.js: take, renew and release the lock, report presence, autosave
 * drafts. A context of its own so errors answer JSON; the staff context's session and CSRF hooks still run
 * (the script sends the token in X-CSRF-Token, or as `_csrf` in a sendBeacon body).
 */
export async function lockApiRoutes(app: FastifyInstance): Promise<void> {
  app.setErrorHandler(jsonErrorHandler);
  const { locks, drafts } = app.services;

  app.post<NumberParams>('/tickets/:number/lock', async (request) => stateJson(request, await locks.acquire(request.staff!, request.params.number), true));

  app.post<NumberParams>('/tickets/:number/lock/renew', async (request) => stateJson(request, await locks.renew(request.staff!, request.params.number)));

  app.post<NumberParams>('/tickets/:number/lock/release', async (request, reply) => {
    await locks.release(request.staff!, request.params.number, readForm(request).fields.token);
    return reply.code(204).send();
  });

  /**
   * The page is going away (sendBeacon): release the lock it names and end presence, saving any last draft
   * text first. The beacon often lands after the next page was served, so naming the lock is what keeps a
   * lock that page took from being released here.
   */
  app.post<NumberParams>('/tickets/:number/leave', async (request, reply) => {
    const { fields } = readForm(request);
    try {
      for (const kind of ['reply', 'note'] as const) {
        const body = fields[`${kind}Draft`];
        if (body !== undefined) await drafts.save(request.staff!, request.params.number, kind, body);
      }
    } finally {
      // A draft that cannot be saved must not keep the ticket locked until the lock expires.
      await locks.leave(request.staff!, request.params.number, fields.token);
    }
    return reply.code(204).send();
  });

  app.post<NumberParams>('/tickets/:number/presence', async (request) => stateJson(request, await locks.touch(request.staff!, request.params.number)));

  app.post<NumberParams>('/tickets/:number/draft', async (request) => {
    const { fields } = readForm(request);
    await drafts.save(request.staff!, request.params.number, fields.kind ?? '', fields.body ?? '');
    return { saved: true, savedAt: app.services.clock.now().toISOString() };
  });
}

/** HTML form routes: "Start a reply" and the administrator's "release lock" button. */
export async function lockPageRoutes(app: FastifyInstance): Promise<void> {
  const { locks } = app.services;

  // Without JavaScript (the page script takes the lock in place): take it, then show the ticket again, at the
  // reply form. The page is served after the lock is taken, so it carries the new token.
  app.post<NumberParams>('/tickets/:number/lock/take', async (request, reply) => {
    const p = request.staff!;
    const state = await locks.acquire(p, request.params.number);
    if (!state.mine && state.lock) setFlash(reply, { type: 'error', message: lockMessage(lockHeldError(state.lock).userMessage, await translatorFor(request), p.timezone) });
    return reply.redirect(`/scp/tickets/${request.params.number}#reply`);
  });

  app.post<NumberParams>('/tickets/:number/lock/break', async (request, reply) => {
    const broken = await locks.breakLock(request.staff!, request.params.number, request.ip);
    setFlash(reply, broken ? { type: 'success', message: msg('staff.lock.broken', { name: broken.holderName }) } : { type: 'info', message: 'staff.lock.already_released' });
    return reply.redirect(`/scp/tickets/${request.params.number}`);
  });
}
