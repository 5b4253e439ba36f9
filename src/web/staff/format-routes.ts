import type { FastifyInstance } from 'fastify';
import { renderMarkdown } from '../../content/markdown.js';
import { renderMailHtml } from '../../content/sanitize.js';
import { ticketNotFound } from '../../tickets/ticket-rules.js';
import { readForm } from '../forms.js';

/** A formatted preview of the reply or note form's text, as the ticket page shows it. */
export interface FormatPreview {
  kind: 'reply' | 'note';
  bodyHtmlSanitized: string;
}

/**
 * The preview as the thread will show it. Inline images are not stored yet, so they show as their names (the
 * page script swaps in the pasted files themselves).
 */
export function formatPreview(kind: FormatPreview['kind'], text: string): FormatPreview {
  const { bodyHtmlSanitized } = renderMailHtml(renderMarkdown(text).html, { inlineImageUrl: () => null, allowRemoteImages: false });
  return { kind, bodyHtmlSanitized };
}

type NumberParams = { Params: { number: string } };

/** The page script's preview: the Markdown of the form, rendered, for an agent who may see the ticket. */
export async function formatRoutes(app: FastifyInstance): Promise<void> {
  const { tickets } = app.services;

  app.post<NumberParams>('/tickets/:number/preview', async (request) => {
    if (!(await tickets.isVisible(request.staff!, request.params.number))) throw ticketNotFound();
    // cid: images kept: the script shows them from the files it holds, before putting the HTML in the page.
    return { html: renderMarkdown(readForm(request).fields.text ?? '').html };
  });
}
