import type { FastifyInstance } from 'fastify';
import { readForm } from '../forms.js';
import { rememberLanguage } from '../i18n.js';

/**
 * Only a path on this site: `//host`, `/\host` and absolute URLs would make the switcher an open redirect.
 * Anything else goes back to the help center's front page.
 */
export function sameSitePath(back: string | undefined): string {
  if (!back || !back.startsWith('/') || back.startsWith('//') || back.startsWith('/\\') || /[\s\\]/.test(back)) return '/';
  return back;
}

/** The portal's language switcher: a POST (CSRF-checked by the portal's preHandler), then back to the page. */
export async function clientLanguageRoutes(app: FastifyInstance): Promise<void> {
  const { i18n, users } = app.services;

  app.post('/language', async (request, reply) => {
    const { fields } = readForm(request);
    const back = sameSitePath(fields.back);
    // An unknown code is ignored, never an error: the visitor simply stays in the language they had.
    const code = i18n.supported(fields.language);
    if (code) {
      rememberLanguage(reply, code);
      // A requester's notices follow the language they chose here (guest on a ticket or signed in alike).
      if (request.client) await users.setLanguage(request.client.userId, code);
    }
    return reply.redirect(back);
  });
}
