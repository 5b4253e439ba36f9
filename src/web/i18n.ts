import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Translator } from '../i18n/translator.js';

/** The portal visitor's (and the signed-out agent's) choice from the language switcher. */
export const LANGUAGE_COOKIE = 'sb_lang';

const chosen = new WeakMap<FastifyRequest, Translator>();

/**
 * The reader's language. A signed-in agent: their preference, else the site default. Anyone else: the
 * switcher's cookie, then Accept-Language, then the site default. A code this installation does not offer,
 * wherever it comes from, is passed over, never an error.
 */
export async function translatorFor(request: FastifyRequest): Promise<Translator> {
  const known = chosen.get(request);
  if (known) return known;
  const { i18n, siteLanguage } = request.server.services;
  const candidates = request.staff
    ? [request.staff.language]
    : [request.cookies[LANGUAGE_COOKIE], ...i18n.fromAcceptLanguage(request.headers['accept-language'])];
  // The site's language is read only when none of the reader's is offered: an agent's stored one nearly always is.
  const tr = i18n.translator(i18n.first(candidates) ?? (await siteLanguage()));
  // Kept for the request once someone is signed in: the sign-in hook runs before anything translates.
  if (request.staff || request.client) chosen.set(request, tr);
  return tr;
}

/** Remembers a visitor's choice from the switcher for a year. */
export function rememberLanguage(reply: FastifyReply, code: string): void {
  const secure = reply.server.services.config.publicUrl.startsWith('https://');
  reply.setCookie(LANGUAGE_COOKIE, code, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 365 * 86400, secure });
}

/**
 * On a requester's sign-in (access link, status check): the language stored for them (from the portal or
 * their mail) becomes this browser's, unless the browser already chose one with the switcher. So a Danish
 * requester following a Danish notice's link into a fresh browser reads the portal in Danish, and no portal
 * page reads the users row to know it.
 */
export function adoptStoredLanguage(request: FastifyRequest, reply: FastifyReply, stored: string | null): void {
  const code = request.server.services.i18n.supported(stored);
  if (code && !request.cookies[LANGUAGE_COOKIE]) rememberLanguage(reply, code);
}
