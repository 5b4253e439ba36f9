import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionKind } from '../../sessions/session-repository.js';

export const STAFF_COOKIE = 'sb_staff';
export const CLIENT_COOKIE = 'sb_client';

const cookieName = (kind: SessionKind) => (kind === 'staff' ? STAFF_COOKIE : CLIENT_COOKIE);
const cookiePath = (kind: SessionKind) => (kind === 'staff' ? '/scp' : '/');

function idleMinutes(request: FastifyRequest, kind: SessionKind): number {
  const s = request.server.services.config.sessions;
  return kind === 'staff' ? s.staffIdleMinutes : s.clientIdleMinutes;
}

function absoluteMinutes(request: FastifyRequest): number {
  return request.server.services.config.sessions.absoluteDays * 24 * 60;
}

function secure(request: FastifyRequest): boolean {
  return request.server.services.config.publicUrl.startsWith('https://');
}

/** Starts a session and sets its cookie: HttpOnly, SameSite=Lax (links from our e-mails still work), Secure over https. */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  kind: SessionKind,
  who: { staffId?: number; userId?: number; ticketId?: number | null },
): Promise<void> {
  const old = request.cookies[cookieName(kind)];
  if (old) await request.server.services.sessions.destroy(old);
  const token = await request.server.services.sessions.create({ kind, ...who, idleMinutes: idleMinutes(request, kind) });
  reply.setCookie(cookieName(kind), token, { path: cookiePath(kind), httpOnly: true, sameSite: 'lax', secure: secure(request) });
}

export async function endSession(request: FastifyRequest, reply: FastifyReply, kind: SessionKind): Promise<void> {
  const token = request.cookies[cookieName(kind)];
  if (token) await request.server.services.sessions.destroy(token);
  reply.clearCookie(cookieName(kind), { path: cookiePath(kind) });
}

/** onRequest hook for /scp: loads the agent, if any, into request.staff. */
export async function loadStaff(request: FastifyRequest): Promise<void> {
  request.staff = null;
  const token = request.cookies[STAFF_COOKIE];
  if (!token) return;
  const found = await request.server.services.sessions.resolveStaff(token, idleMinutes(request, 'staff'), absoluteMinutes(request));
  request.staff = found?.staff ?? null;
}

/** onRequest hook for the portal: loads the client, if any, into request.client. */
export async function loadClient(request: FastifyRequest): Promise<void> {
  request.client = null;
  const token = request.cookies[CLIENT_COOKIE];
  if (!token) return;
  const session = await request.server.services.sessions.resolve(token, 'client', idleMinutes(request, 'client'), absoluteMinutes(request));
  if (session?.userId) request.client = { kind: 'client', userId: session.userId, ticketId: session.ticketId };
}
