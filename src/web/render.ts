import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FieldErrors } from '../errors.js';
import type { Msg } from '../i18n/message.js';
import { formatters } from './format.js';
import { translatorFor } from './i18n.js';
import { renderView } from './views.js';

export const FLASH_COOKIE = 'sb_flash';

export interface Flash {
  type: 'success' | 'error' | 'info';
  /** A catalog key with parameters (strings and numbers: it travels in a cookie), said on the next page. */
  message: Msg;
}

/** A message for the next page the browser loads (post/redirect/get). */
export function setFlash(reply: FastifyReply, flash: Flash): void {
  // Secure like the session cookie: a flash can name a ticket or a person.
  const secure = reply.server.services.config.publicUrl.startsWith('https://');
  reply.setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify(flash)).toString('base64url'), { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 60, secure });
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
  const raw = request.cookies[FLASH_COOKIE];
  if (!raw) return null;
  reply.clearCookie(FLASH_COOKIE, { path: '/' });
  try {
    const f = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Flash;
    const m = f.message as unknown;
    const readable = typeof m === 'string' || (typeof m === 'object' && m !== null && typeof (m as { key?: unknown }).key === 'string');
    return readable && ['success', 'error', 'info'].includes(f.type) ? f : null;
  } catch {
    return null;
  }
}

export interface PageData {
  /** The page's title: a catalog key (with parameters), translated here. */
  title: Msg;
  values?: Record<string, unknown>;
  errors?: FieldErrors;
  [key: string]: unknown;
}

/**
 * Renders a page with what every template needs (`it.t`, `it.tHtml`, `it.lang`, `it.dir`, `it.csrf`, `it.fmt`,
 * `it.asset`, `it.staff`, `it.flash`, ...), in the reader's language (web/i18n.ts). Times are formatted in the
 * agent's zone; clients get UTC here and their browser's zone from time.js.
 */
export async function render(request: FastifyRequest, reply: FastifyReply, template: string, data: PageData, status = 200): Promise<FastifyReply> {
  const app = request.server;
  const timeZone = request.staff?.timezone ?? 'UTC';
  const tr = await translatorFor(request);
  const html = await renderView(reply, tr.locale, template, {
    ...data,
    title: tr.t(data.title),
    values: data.values ?? {},
    errors: data.errors ?? {},
    t: tr.t,
    tHtml: tr.tHtml,
    lang: tr.locale,
    dir: tr.dir,
    languages: app.services.i18n.languages,
    csrf: app.csrf.token(request, reply),
    fmt: formatters(tr, timeZone, app.services.clock.now()),
    asset: app.asset,
    staff: request.staff,
    client: request.client,
    flash: data.flash ?? takeFlash(request, reply),
    helpdeskName: app.services.config.helpdeskName,
    path: request.url.split('?')[0],
  });
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}
