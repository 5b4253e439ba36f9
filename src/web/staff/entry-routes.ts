import type { FastifyInstance } from 'fastify';
import { msg } from '../../i18n/message.js';
import { parseId } from '../forms.js';
import { setFlash } from '../render.js';

type EntryParams = { Params: { number: string; id: string } };

/** An agent's decision about an entry from someone not on the ticket (tickets/non-participant-entries.ts). */
export async function entryRoutes(app: FastifyInstance): Promise<void> {
  const { nonParticipantEntries } = app.services;

  app.post<EntryParams>('/tickets/:number/entries/:id/add-collaborator', async (request, reply) => {
    const { number } = request.params;
    await nonParticipantEntries.addSenderAsCollaborator(request.staff!, number, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: 'staff.entry.collaborator_added' });
    return reply.redirect(`/scp/tickets/${number}`);
  });

  app.post<EntryParams>('/tickets/:number/entries/:id/move', async (request, reply) => {
    const moved = await nonParticipantEntries.moveToNewTicket(request.staff!, request.params.number, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: msg('staff.entry.moved', { number: moved.number }) });
    return reply.redirect(`/scp/tickets/${moved.number}`);
  });
}
