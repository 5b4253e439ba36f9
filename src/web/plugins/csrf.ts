import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { readForm } from '../forms.js';

export const CSRF_COOKIE = 'sb_csrf';

/**
 * Signed double-submit tokens: a random HttpOnly cookie, and in every form the HMAC of it under a server
 * key. A cross-site page can make the browser send the cookie but can neither read it nor compute the HMAC.
 * Works before login (login forms need it too) and across nodes, since the key lives in the database.
 */
export class Csrf {
  constructor(
    private readonly key: Buffer,
    private readonly secureCookies: boolean,
  ) {}

  private sign(seed: string): string {
    return createHmac('sha256', this.key).update(`csrf:${seed}`).digest('base64url');
  }

  /** The token for this browser, setting the cookie on first visit. */
  token(request: FastifyRequest, reply: FastifyReply): string {
    let seed = request.cookies[CSRF_COOKIE];
    if (!seed || !/^[A-Za-z0-9_-]{32}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      request.cookies[CSRF_COOKIE] = seed;
      // Kept across browser restarts: a session cookie would vanish under a form being typed into, and the
      // post would be refused with the text lost.
      reply.setCookie(CSRF_COOKIE, seed, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secureCookies, maxAge: 30 * 86400 });
    }
    return this.sign(seed);
  }

  /** Whether `given` (or the X-CSRF-Token header) is this browser's token. */
  isValid(request: FastifyRequest, given: string | undefined): boolean {
    const seed = request.cookies[CSRF_COOKIE];
    const token = (request.headers['x-csrf-token'] as string | undefined) ?? given;
    if (!seed || !token) return false;
    const a = Buffer.from(this.sign(seed));
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  error(): AppError {
    return new AppError('CSRF_INVALID', 'forbidden', 'errors.csrf_invalid');
  }

  /** preHandler for HTML contexts: every state-changing request must carry the token. */
  verify = async (request: FastifyRequest): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    if (!this.isValid(request, readForm(request).fields._csrf)) throw this.error();
  };
}
